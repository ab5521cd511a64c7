"""``make new-component NAME=dns``: the skeleton of a new Stratus component.

``templates.py`` holds the files a component starts from (proto, ``__main__``,
servicer, policy, config, model, first migration, contract test), written for
one resource called Item with a Get and a Create RPC; ``__main__.py`` checks the
name, writes them and generates the proto's Python code. The generated code
imports framework names only from ``components.framework`` (its stable
surface) and passes its own contract test as written.
"""
