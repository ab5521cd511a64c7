"""Every component's migrations make exactly the schema its models describe, on every backend.

A database migrated from empty is compared, by introspection, with one made by
``create_tables(MODELS)``: tables, columns (type, nullability, default),
primary keys, indexes (name, columns, uniqueness) and foreign keys (target and
ON DELETE). A model changed without a migration, or a migration that no longer
makes what the models say, fails here. A database left at an earlier migration
(with rows, for identity) is upgraded to the head and keeps its data.
"""

from __future__ import annotations

import datetime
import importlib
from pathlib import Path

import peewee
import pytest
from playhouse.migrations import Migration, Runner

from components.framework import database as db
from tests.conftest import drop_all

ROOT = Path(__file__).resolve().parents[2]
# The history table framework.database.connect records a component's migrations in.
HISTORY = "stratus_schema_migration"
# Every component that has migrations, with the models they must match.
# (The framework's own tables have migrations of their own, run for every component.)
COMPONENTS = sorted(
    path.parent.name
    for path in ROOT.glob("components/*/migrations")
    if path.parent.name != "framework"
)


def models_of(component: str) -> list[type[peewee.Model]]:
    return importlib.import_module(f"components.{component}.models").MODELS


def migrations_of(component: str) -> Path:
    return ROOT / "components" / component / "migrations"


def earlier_migrations() -> list[tuple[str, str]]:
    """(component, migration) for every migration that is not its component's last."""
    return [
        (component, migration.name)
        for component in COMPONENTS
        for migration in Migration.load_directory(str(migrations_of(component)))[:-1]
    ]


def test_every_component_with_a_database_has_migrations():
    assert {"compute_db", "identity", "image", "network", "volume"} <= set(COMPONENTS)


def _columns(database: peewee.Database, table: str) -> dict[str, tuple]:
    if isinstance(database, peewee.SqliteDatabase):
        rows = database.execute_sql(f'PRAGMA table_info("{table}")').fetchall()
        return {
            name: (kind.upper(), not notnull, default)
            for _, name, kind, notnull, default, _ in rows
        }
    if isinstance(database, peewee.PostgresqlDatabase):
        query = (
            "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default"
            " FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s"
        )
        rows = database.execute_sql(query, (table,)).fetchall()
        return {
            name: (kind if length is None else f"{kind}({length})", null == "YES", default)
            for name, kind, length, null, default in rows
        }
    query = (
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT"
        " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s"
    )
    rows = database.execute_sql(query, (table,)).fetchall()
    return {name: (kind, null == "YES", default) for name, kind, null, default in rows}


def _foreign_keys(database: peewee.Database, table: str) -> set[tuple]:
    if isinstance(database, peewee.SqliteDatabase):
        rows = database.execute_sql(f'PRAGMA foreign_key_list("{table}")').fetchall()
        return {(row[3], row[2], row[4], row[6]) for row in rows}
    if isinstance(database, peewee.PostgresqlDatabase):
        query = (
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = to_regclass(quote_ident(%s)) AND contype = 'f'"
        )
        return {row for row in database.execute_sql(query, (table,)).fetchall()}
    query = (
        "SELECT k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE"
        " FROM information_schema.REFERENTIAL_CONSTRAINTS AS r"
        " JOIN information_schema.KEY_COLUMN_USAGE AS k"
        " ON k.CONSTRAINT_SCHEMA = r.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = r.CONSTRAINT_NAME"
        " WHERE r.CONSTRAINT_SCHEMA = DATABASE() AND r.TABLE_NAME = %s"
    )
    return set(database.execute_sql(query, (table,)).fetchall())


def schema(database: peewee.Database, tables: list[str]) -> dict[str, dict]:
    """What the database says about ``tables`` (introspected, never from the models)."""
    return {
        table: {
            "columns": _columns(database, table),
            "primary key": database.get_primary_keys(table),
            "indexes": sorted(
                (index.name, tuple(index.columns), bool(index.unique))
                for index in database.get_indexes(table)
            ),
            "foreign keys": _foreign_keys(database, table),
        }
        for table in tables
    }


def table_names(component: str) -> list[str]:
    return sorted(model._meta.table_name for model in models_of(component))


def fresh(url: str, tmp_path: Path, name: str) -> str:
    """An empty database on ``url``'s backend (a new file for SQLite, emptied otherwise)."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / name}"
    clean = db.open_database(url)
    drop_all(clean)
    clean.close()
    return url


def described_by_models(component: str, url: str) -> dict[str, dict]:
    """The schema ``create_tables(MODELS)`` makes on this backend."""
    reference = db.open_database(url)
    models = models_of(component)
    with reference.bind_ctx(models):
        reference.create_tables(models)
    described = schema(reference, table_names(component))
    reference.close()
    return described


def differences(migrated: dict[str, dict], models: dict[str, dict]) -> list[str]:
    """One line per table property where the migrated database and the models disagree."""
    lines = []
    for table, described in models.items():
        for key, value in described.items():
            have = migrated[table][key]
            if isinstance(value, dict):
                lines += [
                    f"{table} {key} {name}: migrated {have.get(name)}, models {value.get(name)}"
                    for name in sorted(set(value) | set(have))
                    if have.get(name) != value.get(name)
                ]
            elif have != value:
                lines.append(f"{table} {key}: migrated {have}, models {value}")
    return lines


def migrated_schema(component: str) -> dict[str, dict]:
    """The schema of the connected database, which must have no tables of other owners."""
    tables = set(db.database.get_tables())
    others = {table for table in tables if not table.startswith("stratus_")}
    assert others == set(table_names(component))
    return schema(db.database.obj, table_names(component))


@pytest.mark.database
@pytest.mark.parametrize("component", COMPONENTS)
def test_a_database_migrated_from_empty_has_the_schema_of_the_models(
    component, database_url, tmp_path
):
    expected = described_by_models(component, fresh(database_url, tmp_path, "models.sqlite"))
    db.connect(fresh(database_url, tmp_path, "migrated.sqlite"), migrations_of(component))
    assert differences(migrated_schema(component), expected) == []


@pytest.mark.database
@pytest.mark.parametrize(("component", "migration"), earlier_migrations())
def test_a_database_at_an_earlier_migration_upgrades_to_the_schema_of_the_models(
    component, migration, database_url, tmp_path
):
    expected = described_by_models(component, fresh(database_url, tmp_path, "models.sqlite"))
    url = fresh(database_url, tmp_path, "migrated.sqlite")
    old = db.open_database(url)
    Runner(old, str(migrations_of(component)), table_name=HISTORY).up(target=migration)
    old.close()
    db.connect(url, migrations_of(component))
    assert differences(migrated_schema(component), expected) == []


@pytest.mark.database
def test_an_identity_database_at_0001_keeps_its_rows_when_upgraded(database_url):
    from components.identity.models import Domain, Project, RoleAssignment, User

    old = db.open_database(database_url)
    Runner(old, str(migrations_of("identity")), table_name=HISTORY).up(target="0001_initial")
    now = datetime.datetime(2026, 1, 2, 3, 4, 5)
    times = {"create_time": now, "update_time": now}

    def insert(table: str, **row) -> None:
        peewee.Table(table, list(row) + list(times)).bind(old).insert(**row, **times).execute()

    insert("domain", id="d1", name="Default", description="", enabled=True)
    insert("project", id="p1", name="demo", domain_id="d1", description="", enabled=True)
    insert(
        "user",
        id="u1",
        name="alice",
        domain_id="d1",
        email="alice@example.org",
        description="",
        enabled=True,
        password_hash="$2b$hash",
        default_project_id="p1",
        failed_auth_count=2,
        locked_until=None,
    )
    insert("role", id="r1", name="member", description="", built_in=True)
    insert("role_assignment", id="a1", user_id="u1", project_id="p1", role_id="r1")
    old.close()

    db.connect(database_url, migrations_of("identity"))

    alice = User.get_by_id("u1")
    assert (alice.name, alice.email, alice.password_hash) == (
        "alice",
        "alice@example.org",
        "$2b$hash",
    )
    assert (alice.domain_id, alice.default_project_id, alice.failed_auth_count) == ("d1", "p1", 2)
    assert alice.create_time == now
    assert alice.ignore_lockout_failure_attempts is False
    assert Project.get_by_id("p1").domain.name == "Default"
    assert Domain.select().count() == 1
    assignment = RoleAssignment.get_by_id("a1")
    assert (assignment.user_id, assignment.project_id, assignment.role.name) == (
        "u1",
        "p1",
        "member",
    )


@pytest.mark.database
def test_an_identity_endpoint_of_before_interfaces_becomes_public_and_admits_replicas(
    database_url,
):
    from components.identity.models import Endpoint

    old = db.open_database(database_url)
    Runner(old, str(migrations_of("identity")), table_name=HISTORY).up(target="0002_user_options")
    now = datetime.datetime(2026, 1, 2, 3, 4, 5)
    times = {"create_time": now, "update_time": now}
    service = {"id": "s1", "type": "api", "name": "api", **times}
    peewee.Table("catalog_service", list(service)).bind(old).insert(**service).execute()
    endpoint = {"id": "e1", "service_id": "s1", "region": "RegionOne", "address": "h:1", **times}
    peewee.Table("endpoint", list(endpoint)).bind(old).insert(**endpoint).execute()
    old.close()

    db.connect(database_url, migrations_of("identity"))

    assert (Endpoint.get_by_id("e1").interface, Endpoint.get_by_id("e1").address) == (
        "public",
        "h:1",
    )
    Endpoint.create(service="s1", region="RegionOne", address="h:2")
    Endpoint.create(service="s1", region="RegionOne", address="h:1", interface="internal")
    with pytest.raises(peewee.IntegrityError):
        Endpoint.create(service="s1", region="RegionOne", address="h:1")
