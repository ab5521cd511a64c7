"""Identity's first schema, frozen: the tables as they were first created.

A frozen copy of the models of that time (not the live ones), so later
migrations can change the live models without changing what this one does.
"""

import datetime
import uuid

import peewee


def up(migrator, db):
    def new_id():
        return str(uuid.uuid4())

    def utcnow():
        return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)

    class Base(peewee.Model):
        id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
        create_time = peewee.DateTimeField(default=utcnow)
        update_time = peewee.DateTimeField(default=utcnow)

        class Meta:
            database = db
            legacy_table_names = False

    class Domain(Base):
        name = peewee.CharField(max_length=255, unique=True)
        description = peewee.TextField(default="")
        enabled = peewee.BooleanField(default=True)

    class Project(Base):
        name = peewee.CharField(max_length=255)
        domain = peewee.ForeignKeyField(Domain, backref="projects", on_delete="RESTRICT")
        description = peewee.TextField(default="")
        enabled = peewee.BooleanField(default=True)

        class Meta:
            indexes = ((("domain", "name"), True),)

    class User(Base):
        name = peewee.CharField(max_length=255)
        domain = peewee.ForeignKeyField(Domain, backref="users", on_delete="RESTRICT")
        email = peewee.CharField(max_length=255, default="")
        description = peewee.TextField(default="")
        enabled = peewee.BooleanField(default=True)
        password_hash = peewee.CharField(max_length=128, default="")
        default_project_id = peewee.CharField(max_length=36, default="")
        failed_auth_count = peewee.IntegerField(default=0)
        locked_until = peewee.DateTimeField(null=True)

        class Meta:
            indexes = ((("domain", "name"), True),)

    class Role(Base):
        name = peewee.CharField(max_length=255, unique=True)
        description = peewee.TextField(default="")
        built_in = peewee.BooleanField(default=False)

    class RoleAssignment(Base):
        user = peewee.ForeignKeyField(User, backref="assignments", on_delete="CASCADE")
        project = peewee.ForeignKeyField(Project, backref="assignments", on_delete="CASCADE")
        role = peewee.ForeignKeyField(Role, backref="assignments", on_delete="CASCADE")

        class Meta:
            indexes = ((("user", "project", "role"), True),)

    class CatalogService(Base):
        type = peewee.CharField(max_length=64)
        name = peewee.CharField(max_length=255, unique=True)

        class Meta:
            table_name = "catalog_service"

    class Endpoint(Base):
        service = peewee.ForeignKeyField(CatalogService, backref="endpoints", on_delete="CASCADE")
        region = peewee.CharField(max_length=64)
        address = peewee.CharField(max_length=255)

        class Meta:
            indexes = ((("service", "region"), True),)

    class RevocationEvent(Base):
        user_id = peewee.CharField(max_length=36, index=True, default="")
        audit_id = peewee.CharField(max_length=32, index=True, default="")
        revoked_before_ms = peewee.BigIntegerField()
        expire_time = peewee.DateTimeField(index=True)

    db.create_tables(
        [Domain, Project, User, Role, RoleAssignment, CatalogService, Endpoint, RevocationEvent]
    )
