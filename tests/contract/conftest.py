"""Fixtures for the contract tests."""

from tests.contract.identity_fixtures import identity  # noqa: F401 - a fixture
