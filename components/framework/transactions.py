"""Write transactions that hold up under concurrency on SQLite, PostgreSQL and MariaDB.

Every component writes through :func:`run` (or :func:`atomic` where a body
must not run twice, such as one that also writes files):

* SQLite: the framework opens it with ``BEGIN IMMEDIATE`` transactions, so a
  writer waits out the busy timeout for the write lock instead of failing with
  "database is locked" when it upgrades a read snapshot another writer moved.
* MariaDB: READ COMMITTED, so each statement sees what other transactions have
  committed (as on PostgreSQL) and searches take no gap locks.
* Every backend: a deadlock, a serialization failure or a lock timeout rolls
  the whole transaction back; :func:`run` runs it again a few times.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import peewee

from components.framework.database import database

log = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 8
# MySQL/MariaDB: deadlock found, lock wait timeout.
_MYSQL_TRANSIENT = {1213, 1205}
# PostgreSQL: serialization failure, deadlock detected.
_PG_TRANSIENT = {"40001", "40P01"}
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy")


def atomic():
    """A transaction (or a savepoint when one is already open) for writing."""
    if database.transaction_depth() == 0 and isinstance(database.obj, peewee.MySQLDatabase):
        return database.atomic("READ COMMITTED")
    return database.atomic()


def locked(query: peewee.ModelSelect) -> peewee.ModelSelect:
    """``query`` with FOR UPDATE where rows can be locked (SQLite locks the whole file)."""
    return query.for_update() if database.obj.for_update else query


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a concurrency failure that running again can cure."""
    original = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    if getattr(original, "sqlstate", None) in _PG_TRANSIENT:
        return True
    code = original.args[0] if original.args else None
    if isinstance(code, int) and code in _MYSQL_TRANSIENT:
        return True
    text = str(original).lower()
    return any(marker in text for marker in _SQLITE_TRANSIENT)


def run(fn: Callable[[], T]) -> T:
    """``fn()`` in one write transaction, run again after a transient failure.

    Inside a transaction already open, ``fn()`` runs once in a savepoint (so an
    IntegrityError it raises leaves the outer transaction usable); only the
    outermost transaction can be run again.
    """
    if database.transaction_depth() > 0:
        with database.atomic():
            return fn()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with atomic():
                return fn()
        except Exception as exc:
            if attempt == ATTEMPTS or not is_transient(exc):
                raise
            log.info("transaction attempt %d failed (%s); running it again", attempt, exc)
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")
