"""What a process loads by importing Stratus code, checked in a fresh interpreter.

Modules a process never uses still cost it memory for its whole life: the
database drivers are about 24 MB resident (psycopg with libpq and OpenSSL,
PyMySQL with cryptography), peewee and the database layer a few more.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import components.compute

ROOT = Path(__file__).resolve().parents[2]
DRIVERS = ("psycopg", "psycopg2", "pymysql", "MySQLdb", "cryptography")


def loaded_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after a fresh interpreter runs ``code``."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_compute_modules_do_not_import_the_database_layer():
    # The compute host has no database: its clock, paging and domain code must
    # not bring in peewee (__main__ starts it through the framework's bootstrap).
    names = [
        f"components.compute.{info.name}"
        for info in pkgutil.iter_modules(components.compute.__path__)
        if info.name != "__main__"
    ]
    assert len(names) > 10
    loaded = loaded_after("".join(f"import {name}\n" for name in names))
    assert set(names) <= loaded
    assert "peewee" not in loaded
    assert "components.framework.database" not in loaded
