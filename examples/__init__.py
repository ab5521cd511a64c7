"""Example components built on the Stratus framework (see docs/framework.md).

Nothing under ``components/`` imports from here: the examples are not part of
the cloud, they show how a component is written.
"""
