"""One peewee database per component, behind one proxy.

``sqlite:///path`` (the default; WAL mode and a busy timeout so the compute-side
processes can share one file), ``postgresql://user@host/db`` or
``mysql://user@host/db``. Models bind to :data:`database` (a proxy) through
:class:`BaseModel`; :func:`connect` points the proxy at the real database and
applies the component's migrations, so a restart keeps the data.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from urllib.parse import urlparse

import peewee
from playhouse.migrations import Runner

from components.framework import drivers
from components.framework.clock import utcnow

log = logging.getLogger(__name__)

database = peewee.DatabaseProxy()
# The framework's own tables (stored replies), in every component's database.
FRAMEWORK_MIGRATIONS = Path(__file__).parent / "migrations"


def new_id() -> str:
    return str(uuid.uuid4())


class BaseModel(peewee.Model):
    """Base of every model: UUID string ids, create/update times in UTC."""

    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
    create_time = peewee.DateTimeField(default=utcnow)
    update_time = peewee.DateTimeField(default=utcnow)

    class Meta:
        database = database
        legacy_table_names = False

    def save(self, *args, **kwargs):
        self.update_time = utcnow()
        return super().save(*args, **kwargs)


class JSONField(peewee.TextField):
    """A JSON document in a text column (the same on SQLite, PostgreSQL and MySQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


def open_database(url: str) -> peewee.Database:
    """A peewee database for ``url`` (not yet bound to the proxy)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = parsed.path
        if path not in ("", "/:memory:", ":memory:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(
            path if path != "/:memory:" else ":memory:",
            pragmas={
                "journal_mode": "wal",
                "busy_timeout": 10_000,
                "synchronous": "normal",
                "foreign_keys": 1,
            },
            timeout=10,
            # A transaction takes the write lock when it begins, so two writers
            # wait for each other (busy_timeout) instead of one failing at once
            # with "database is locked" when it upgrades from reading.
            lock_type="IMMEDIATE",
        )
    if parsed.scheme in ("postgres", "postgresql"):
        return drivers.postgresql(url, autoconnect=True)
    if parsed.scheme == "mysql":
        # Microsecond times, as on the other backends (paging sorts by create_time).
        return drivers.mysql(
            url, autoconnect=True, charset="utf8mb4", field_types={"DATETIME": "DATETIME(6)"}
        )
    raise ValueError(f"unsupported database URL scheme {parsed.scheme!r}")


def connect(url: str, migrations: str | Path | None = None) -> peewee.Database:
    """Bind the proxy to ``url`` and bring its schema up to date."""
    db = open_database(url)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    plans = [(FRAMEWORK_MIGRATIONS, "stratus_framework_migration")]
    if migrations is not None:
        plans.insert(0, (Path(migrations), "stratus_schema_migration"))
    for directory, history in plans:
        for name in Runner(db, str(directory), table_name=history).up():
            log.info("applied migration %s", name)
    return db


def close() -> None:
    obj = database.obj
    if obj is not None and not obj.is_closed():
        obj.close()
