"""Stratus components.

peewee and playhouse import every database driver they can find when they are
imported: psycopg (with its own libpq and OpenSSL) and PyMySQL (with
cryptography) cost about 20 MB resident in every process, though a process
uses one driver at most and most use SQLite or no database at all. The drivers
are hidden while those modules load; ``components.framework.database`` loads
the one a URL names when it opens the database.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

_DRIVERS = ("psycopg2", "psycopg", "pymysql", "MySQLdb")


class _WithoutDrivers(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module) -> None:
        hidden = [name for name in _DRIVERS if name not in sys.modules]
        sys.modules.update(dict.fromkeys(hidden))
        try:
            self.inner.exec_module(module)
        finally:
            for name in hidden:
                if sys.modules.get(name, ...) is None:
                    del sys.modules[name]


class _PeeweeFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "peewee" and not name.startswith("playhouse."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _WithoutDrivers(spec.loader)
        return spec


if not any(isinstance(finder, _PeeweeFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _PeeweeFinder())
