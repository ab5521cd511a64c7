import threading

import peewee
import pytest

from components.framework import database as db


class Widget(db.BaseModel):
    name = peewee.CharField(unique=True, max_length=64)
    count = peewee.IntegerField(default=0)


MIGRATION = """
from components.framework.database import database
from tests.unit.framework.test_database import Widget

def up(migrator, db):
    db.create_tables([Widget])
"""

SECOND_MIGRATION = """
import peewee

def up(migrator, db):
    migrator.migrate(migrator.add_column('widget', 'colour', peewee.CharField(default='red')))
"""


@pytest.fixture
def migrations(tmp_path):
    path = tmp_path / "migrations"
    path.mkdir()
    (path / "0001_initial.py").write_text(MIGRATION)
    return path


def test_connect_creates_schema_and_round_trips(database_url, migrations):
    db.connect(database_url, migrations)
    widget = Widget.create(name="bolt")
    fetched = Widget.get_by_id(widget.id)
    assert fetched.name == "bolt"
    assert len(fetched.id) == 36
    assert fetched.create_time is not None


def test_restart_keeps_data_and_applies_new_migrations_only(database_url, migrations):
    db.connect(database_url, migrations)
    Widget.create(name="nut")
    db.close()
    (migrations / "0002_colour.py").write_text(SECOND_MIGRATION)
    database = db.connect(database_url, migrations)
    assert Widget.select().count() == 1
    colours = database.execute_sql("SELECT colour FROM widget").fetchall()
    assert [tuple(row) for row in colours] == [("red",)]


def test_unique_constraint_is_enforced(database_url, migrations):
    db.connect(database_url, migrations)
    Widget.create(name="gear")
    with pytest.raises(peewee.IntegrityError), db.database.atomic():
        Widget.create(name="gear")


def test_concurrent_increments_from_threads_are_not_lost(database_url, migrations):
    db.connect(database_url, migrations)
    widget = Widget.create(name="counter")

    def bump():
        for _ in range(20):
            Widget.update(count=Widget.count + 1).where(Widget.id == widget.id).execute()
        db.database.close()

    threads = [threading.Thread(target=bump) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Widget.get_by_id(widget.id).count == 100


def test_sqlite_uses_wal_journal(tmp_path, migrations):
    database = db.connect(f"sqlite:///{tmp_path / 'wal.sqlite'}", migrations)
    assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="oracle"):
        db.open_database("oracle://somewhere/db")
