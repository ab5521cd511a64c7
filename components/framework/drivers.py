"""PostgreSQL and MySQL databases that import their driver when one is opened.

peewee imports every database driver it can find when it is itself imported:
psycopg (with libpq and OpenSSL) and PyMySQL (with cryptography) cost about
24 MB resident in every process, though a process uses one driver at most and
most use SQLite or no database at all. ``components/__init__.py`` marks the
drivers not importable before any component imports peewee; these classes
import theirs when a database is made, through the hooks peewee gives a driver
of one's own: a database's ``_connect`` (as ``playhouse.mysql_ext`` plugs in
MySQL Connector) and PostgreSQL's adapter classes (as ``playhouse.postgres_ext``
plugs in its own). Nothing here reads or writes peewee's module globals, so it
works the same whether peewee saw the drivers or not.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from types import ModuleType

import peewee
from playhouse.db_url import parse


def load(name: str) -> ModuleType:
    """Import driver ``name``, lifting the mark ``components/__init__.py`` put on it."""
    if name in sys.modules and sys.modules[name] is None:
        del sys.modules[name]
    return importlib.import_module(name)


class Psycopg3Adapter(peewee.Psycopg3Adapter):
    """peewee's psycopg 3 adapter, with psycopg imported when the database is made."""

    def __init__(self) -> None:
        self.psycopg = load("psycopg")
        status = self.psycopg.pq.TransactionStatus
        self.txn_idle, self.txn_inerror = status.IDLE, status.INERROR
        self.txn_unknown, self.txn_intrans = status.UNKNOWN, status.INTRANS
        super().__init__()
        json = importlib.import_module("psycopg.types.json")
        self.json_type, self.jsonb_type = json.Json, json.Jsonb

    def check_driver(self) -> None:
        """Nothing to check: __init__ imported the driver (or raised ImportError)."""

    def get_binary_type(self):
        return self.psycopg.Binary

    def connect(self, db, **params):
        params.setdefault("dbname", db.database)
        return self.psycopg.connect(**params)

    def server_side_cursor(self, conn):
        # As peewee's: a named cursor, held past its transaction only outside one.
        held = self.txn_status(conn) != self.txn_intrans
        return conn.cursor(name=str(uuid.uuid1()), withhold=held)


class PostgresqlDatabase(peewee.PostgresqlDatabase):
    # peewee picks the psycopg2 adapter when it did not see psycopg at import.
    psycopg2_adapter = psycopg3_adapter = Psycopg3Adapter


class MySQLDatabase(peewee.MySQLDatabase):
    """peewee's MySQL database, with PyMySQL imported when it connects."""

    def _connect(self):
        pymysql = load("pymysql")
        return pymysql.connect(database=self.database, autocommit=True, **self.connect_params)

    def get_binary_type(self):
        return load("pymysql").Binary


def postgresql(url: str, **settings) -> PostgresqlDatabase:
    """A PostgreSQL database for ``postgresql://user:password@host:port/name?option=value``."""
    return PostgresqlDatabase(**{**parse(url), **settings})


def mysql(url: str, **settings) -> MySQLDatabase:
    """A MySQL (MariaDB) database for ``mysql://user:password@host:port/name?option=value``."""
    return MySQLDatabase(**{**parse(url), **settings})
