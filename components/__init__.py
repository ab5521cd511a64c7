"""Stratus components.

peewee imports every database driver it can find when it is imported:
psycopg (with its own libpq and OpenSSL) and PyMySQL (with cryptography) cost
about 24 MB resident in every process, though a process uses one driver at
most and most use SQLite or no database at all. So the drivers are marked not
importable here, before any component imports peewee: a None entry in
sys.modules, which the import system answers with ModuleNotFoundError (and
peewee with "driver not installed"). ``components.framework.drivers`` lifts
the mark of the one driver a database URL names when it opens the database.
A driver some code imported before this package keeps working.
"""

from __future__ import annotations

import sys

# The drivers peewee looks for when it is imported.
DRIVERS = ("psycopg2", "psycopg", "pymysql", "MySQLdb")

for _driver in DRIVERS:
    sys.modules.setdefault(_driver, None)
