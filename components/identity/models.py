"""Identity's tables: domains, projects, users, roles, assignments, catalog, revocations."""

from __future__ import annotations

import peewee

from components.framework import BaseModel


class Domain(BaseModel):
    name = peewee.CharField(max_length=255, unique=True)
    description = peewee.TextField(default="")
    enabled = peewee.BooleanField(default=True)


class Project(BaseModel):
    name = peewee.CharField(max_length=255)
    domain = peewee.ForeignKeyField(Domain, backref="projects", on_delete="RESTRICT")
    description = peewee.TextField(default="")
    enabled = peewee.BooleanField(default=True)

    class Meta:
        indexes = ((("domain", "name"), True),)


class User(BaseModel):
    name = peewee.CharField(max_length=255)
    domain = peewee.ForeignKeyField(Domain, backref="users", on_delete="RESTRICT")
    email = peewee.CharField(max_length=255, default="")
    description = peewee.TextField(default="")
    enabled = peewee.BooleanField(default=True)
    password_hash = peewee.CharField(max_length=128, default="")
    default_project_id = peewee.CharField(max_length=36, default="")
    failed_auth_count = peewee.IntegerField(default=0)
    locked_until = peewee.DateTimeField(null=True)
    # Keystone's user option: failed logins never lock this user out (service users).
    ignore_lockout_failure_attempts = peewee.BooleanField(default=False)

    class Meta:
        indexes = ((("domain", "name"), True),)


class Role(BaseModel):
    name = peewee.CharField(max_length=255, unique=True)
    description = peewee.TextField(default="")
    built_in = peewee.BooleanField(default=False)


class RoleAssignment(BaseModel):
    user = peewee.ForeignKeyField(User, backref="assignments", on_delete="CASCADE")
    project = peewee.ForeignKeyField(Project, backref="assignments", on_delete="CASCADE")
    role = peewee.ForeignKeyField(Role, backref="assignments", on_delete="CASCADE")

    class Meta:
        indexes = ((("user", "project", "role"), True),)


class CatalogService(BaseModel):
    type = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=255, unique=True)

    class Meta:
        table_name = "catalog_service"


class Endpoint(BaseModel):
    """One address of a service: several per region and interface are its replicas."""

    service = peewee.ForeignKeyField(CatalogService, backref="endpoints", on_delete="CASCADE")
    region = peewee.CharField(max_length=64)
    address = peewee.CharField(max_length=255)
    # Keystone's interfaces: "public", "internal", "admin" (catalog.INTERFACES).
    interface = peewee.CharField(max_length=16, default="public")

    class Meta:
        indexes = ((("service", "region", "interface", "address"), True),)


class RevocationEvent(BaseModel):
    """Tokens of ``user_id`` issued before ``revoked_before_ms``, or the one with ``audit_id``.

    Kept only until every token it covers would have expired (``expire_time``).
    Milliseconds since the epoch, so a token issued right after a password
    change in the same second is not caught by it.
    """

    user_id = peewee.CharField(max_length=36, index=True, default="")
    audit_id = peewee.CharField(max_length=32, index=True, default="")
    revoked_before_ms = peewee.BigIntegerField()
    expire_time = peewee.DateTimeField(index=True)


MODELS = [Domain, Project, User, Role, RoleAssignment, CatalogService, Endpoint, RevocationEvent]
