"""What a process loads by importing Stratus code, checked in a fresh interpreter.

Modules a process never uses still cost it memory for its whole life: the
database drivers are about 24 MB resident (psycopg with libpq and OpenSSL,
PyMySQL with cryptography), peewee and the database layer a few more. A
process loads the driver of the database it opens, and no other
(components/__init__.py, components/framework/drivers.py).
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import components.compute

ROOT = Path(__file__).resolve().parents[2]
# The top-level modules of each driver (psycopg[binary] brings psycopg_binary).
DRIVER_MODULES = {
    "postgresql": {"psycopg", "psycopg_binary"},
    "mysql": {"pymysql"},
    "other": {"psycopg2", "MySQLdb"},
}


def loaded_after(code: str) -> set[str]:
    """The modules imported (not merely marked) after a fresh interpreter runs ``code``."""
    script = (
        code + "\nimport json, sys\n"
        "print(json.dumps(sorted(n for n, m in sys.modules.items() if m is not None)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def drivers_in(modules: set[str]) -> set[str]:
    """The backends whose driver modules are among ``modules``."""
    tops = {name.split(".")[0] for name in modules}
    return {backend for backend, names in DRIVER_MODULES.items() if names & tops}


def test_compute_modules_do_not_import_the_database_layer():
    # The compute host has no database: its clock, paging, domain code and the
    # framework that starts it (__main__ declares the component) must not bring in peewee.
    names = [
        f"components.compute.{info.name}"
        for info in pkgutil.iter_modules(components.compute.__path__)
    ]
    assert len(names) > 10
    loaded = loaded_after("".join(f"import {name}\n" for name in names))
    assert set(names) <= loaded
    assert "peewee" not in loaded
    assert "components.framework.database" not in loaded


@pytest.mark.database
def test_a_process_loads_the_driver_of_the_database_it_opens_and_no_other(database_url):
    code = f"""
from components.framework import database as db
from components.image.models import Image

db.connect({database_url!r}, {str(ROOT / "components/image/migrations")!r})
image = Image.create(name="cirros", status="queued", disk_format="qcow2", project_id="p1")
assert Image.get_by_id(image.id).name == "cirros"
db.close()
"""
    loaded = loaded_after(code)
    assert "peewee" in loaded
    backend = database_url.split(":", 1)[0]
    assert drivers_in(loaded) == ({backend} if backend in DRIVER_MODULES else set())
