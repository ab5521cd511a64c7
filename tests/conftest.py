"""Fixtures shared by every test suite."""

from __future__ import annotations

import atexit
import os

import peewee
import pytest

from components.framework import database as db
from tests import host_guard


@pytest.fixture(scope="session", autouse=True)
def host_files_untouched():
    """Fails the run if any test wrote /etc/hostname, /etc/passwd or /etc/hosts."""
    host_guard.GUARD = guard = host_guard.Guard()
    yield
    changed = guard.changes()
    if changed:
        pytest.fail("the tests wrote host files: " + "; ".join(changed), pytrace=False)


BACKENDS = {
    "sqlite": None,
    "postgresql": "STRATUS_TEST_POSTGRES_URL",
    "mysql": "STRATUS_TEST_MYSQL_URL",
}


def backend_url(backend: str, tmp_path) -> str:
    """The URL of ``backend`` for a test, or skip (fail in CI) when it is not configured.

    PostgreSQL and MariaDB tests get a schema (database) of their own per test
    process, so parallel test runs on one server do not drop each other's tables.
    """
    variable = BACKENDS[backend]
    if variable is None:
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    url = os.environ.get(variable)
    if not url:
        if os.environ.get("STRATUS_TEST_REQUIRE_SERVICES"):
            pytest.fail(f"{variable} is required in CI but not set")
        pytest.skip(f"{backend} tests need {variable} (e.g. set by .ci/run)")
    return _private(backend, url)


_PRIVATE: dict[str, str] = {}


def _private(backend: str, url: str) -> str:
    if backend in _PRIVATE:
        return _PRIVATE[backend]
    name = f"stratus_test_{os.getpid()}"
    admin = db.open_database(url)
    if backend == "postgresql":
        admin.execute_sql(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
        private = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}"
    else:
        admin.execute_sql(f"CREATE DATABASE IF NOT EXISTS `{name}`")
        private = url.rsplit("/", 1)[0] + f"/{name}"
    admin.close()
    _PRIVATE[backend] = private
    atexit.register(_drop_private, backend, url, name)
    return private


def _drop_private(backend: str, url: str, name: str) -> None:
    admin = db.open_database(url)
    if backend == "postgresql":
        admin.execute_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    else:
        admin.execute_sql(f"DROP DATABASE IF EXISTS `{name}`")
    admin.close()


def drop_all(database: peewee.Database) -> None:
    """Drop every table (for the shared PostgreSQL/MariaDB test databases)."""
    tables = database.get_tables()
    if not tables:
        return
    if isinstance(database, peewee.PostgresqlDatabase):
        database.execute_sql(
            "DROP TABLE IF EXISTS " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"
        )
    elif isinstance(database, peewee.MySQLDatabase):
        database.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
        for table in tables:
            database.execute_sql(f"DROP TABLE IF EXISTS `{table}`")
        database.execute_sql("SET FOREIGN_KEY_CHECKS = 1")


@pytest.fixture(params=list(BACKENDS))
def database_url(request, tmp_path):
    """A clean database on each backend: SQLite always, PostgreSQL and MariaDB when configured."""
    url = backend_url(request.param, tmp_path)
    clean = db.open_database(url)
    drop_all(clean)
    clean.close()
    yield url
    db.close()
    # Unbound, so a later test's servers (the idempotency records of a fake's
    # interceptor) do not reach for this test's dropped tables.
    db.database.initialize(None)
    clean = db.open_database(url)
    drop_all(clean)
    clean.close()
