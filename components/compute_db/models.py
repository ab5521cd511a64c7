"""The compute database, shared by api, scheduler and conductor (never by compute hosts).

Instances keep a copy of their flavor (a flavor may be deleted while servers
use it). States are stored as the numbers of the contracts' enums
(``stratus.type.v1.VmState`` and friends, which the api and the conductor
share).
"""

from __future__ import annotations

import peewee

from components.framework import BaseModel, JSONField


class UserDataField(peewee.BlobField):
    """Bytes up to 64 KiB (CreateServer's user_data): MySQL's BLOB holds one byte
    less, so the column is a MEDIUMBLOB there (a BLOB, or BYTEA, elsewhere)."""

    def ddl_datatype(self, ctx):
        on = getattr(ctx.state.conflict_statement, "__self__", None) if ctx else None
        if isinstance(on, peewee.MySQLDatabase):
            return peewee.SQL("MEDIUMBLOB")
        return super().ddl_datatype(ctx)


class Flavor(BaseModel):
    name = peewee.CharField(max_length=255, unique=True)
    vcpus = peewee.IntegerField()
    ram_mib = peewee.BigIntegerField()
    disk_gib = peewee.BigIntegerField()
    extra_specs = JSONField(default=dict)
    is_public = peewee.BooleanField(default=True)


class Instance(BaseModel):
    name = peewee.CharField(max_length=255)
    project_id = peewee.CharField(max_length=36, index=True)
    user_id = peewee.CharField(max_length=36)
    flavor_id = peewee.CharField(max_length=36)
    flavor_name = peewee.CharField(max_length=255)
    vcpus = peewee.IntegerField()
    ram_mib = peewee.BigIntegerField()
    disk_gib = peewee.BigIntegerField()
    extra_specs = JSONField(default=dict)
    image_id = peewee.CharField(max_length=36)
    availability_zone = peewee.CharField(max_length=255, default="")
    metadata = JSONField(default=dict)
    # [{"network_id": ..., "port_id": ...}] as asked for; ports are made by the host.
    requested_networks = JSONField(default=list)
    volume_ids = JSONField(default=list)
    vm_state = peewee.IntegerField()
    task_state = peewee.IntegerField(default=0)
    power_state = peewee.IntegerField(default=0)
    host = peewee.CharField(max_length=255, default="", index=True)
    claim_id = peewee.CharField(max_length=36, default="")
    attempt = peewee.IntegerField(default=0)
    alternates = JSONField(default=list)
    # [{"network_id", "network_name", "port_id", "ip_address", "mac_address"}]
    addresses = JSONField(default=list)
    # [{"volume_id", "device"}]
    volumes = JSONField(default=list)
    launched_time = peewee.DateTimeField(null=True)
    deleted_time = peewee.DateTimeField(null=True)
    request_id = peewee.CharField(max_length=128, null=True)
    # What the guest is given at boot: the key pair as it was at creation (a key
    # pair deleted or replaced later does not change it), the user data, and
    # whether it gets a config drive (always with a key pair or user data).
    key_name = peewee.CharField(max_length=255, default="")
    public_key = peewee.TextField(default="")
    user_data = UserDataField(null=True)
    config_drive = peewee.BooleanField(default=False)

    class Meta:
        indexes = ((("project_id", "request_id"), True),)


class InstanceFault(BaseModel):
    instance = peewee.ForeignKeyField(Instance, backref="faults", on_delete="CASCADE")
    code = peewee.IntegerField()
    message = peewee.TextField()
    details = peewee.TextField(default="")


class ComputeNode(BaseModel):
    """A compute host, its capacity and what is claimed on it."""

    host = peewee.CharField(max_length=255, unique=True)
    address = peewee.CharField(max_length=255)
    availability_zone = peewee.CharField(max_length=255, default="nova")
    hypervisor_type = peewee.CharField(max_length=64, default="")
    hypervisor_version = peewee.CharField(max_length=64, default="")
    architecture = peewee.CharField(max_length=32, default="x86_64")
    vcpus = peewee.IntegerField()
    ram_mib = peewee.BigIntegerField()
    disk_gib = peewee.BigIntegerField()
    vcpus_used = peewee.IntegerField(default=0)
    ram_mib_used = peewee.BigIntegerField(default=0)
    disk_gib_used = peewee.BigIntegerField(default=0)
    instances_used = peewee.IntegerField(default=0)
    enabled = peewee.BooleanField(default=True)
    disabled_reason = peewee.CharField(max_length=255, default="")
    last_heartbeat = peewee.DateTimeField(null=True)


class Claim(BaseModel):
    """Resources held on a node for one instance; released exactly once."""

    instance_id = peewee.CharField(max_length=36, index=True)
    node = peewee.ForeignKeyField(ComputeNode, backref="claims", on_delete="CASCADE")
    vcpus = peewee.IntegerField()
    ram_mib = peewee.BigIntegerField()
    disk_gib = peewee.BigIntegerField()


class ProjectQuota(BaseModel):
    """A project's limits and usage, changed only by compare-and-swap updates."""

    project_id = peewee.CharField(max_length=36, unique=True)
    instances_limit = peewee.IntegerField()
    cores_limit = peewee.IntegerField()
    ram_mib_limit = peewee.BigIntegerField()
    instances_used = peewee.IntegerField(default=0)
    cores_used = peewee.IntegerField(default=0)
    ram_mib_used = peewee.BigIntegerField(default=0)
    is_default = peewee.BooleanField(default=True)


class BuildRequest(BaseModel):
    """A build recorded by CreateServer and not yet taken by its host.

    Written in the transaction that records the instance and deleted once the
    build has an outcome (its host took it, or it failed), so a build outlives
    the api process that took it and a cast lost on the way to the host: a
    build whose lease has lapsed (its replica died, or its host has not taken
    it) is taken by a replica with a compare-and-swap on lease_until and
    handed to the scheduler again (components/api/scheduling.py).
    """

    instance = peewee.ForeignKeyField(Instance, unique=True, on_delete="CASCADE")
    # The scheduler.v1.RequestSpec message, serialized.
    spec = peewee.BlobField()
    # The user's token, for the host to act as the user. A secret kept only
    # until the build's host takes it: the row is deleted then.
    auth_token = peewee.TextField()
    # Until when the api replica that holds the build is taken to be working on it.
    lease_until = peewee.DateTimeField(index=True)


class KeyPair(BaseModel):
    """A user's SSH public key (Nova's key pair); its private key is never stored."""

    user_id = peewee.CharField(max_length=36)
    name = peewee.CharField(max_length=255)
    # One OpenSSH line, at most 16 KiB.
    public_key = peewee.TextField()
    # MD5 of the key blob as colon hex (47 characters).
    fingerprint = peewee.CharField(max_length=64)
    key_type = peewee.CharField(max_length=32)

    class Meta:
        indexes = ((("user_id", "name"), True),)


MODELS = [
    Flavor,
    Instance,
    InstanceFault,
    ComputeNode,
    Claim,
    ProjectQuota,
    BuildRequest,
    KeyPair,
]
