"""The compute database's first schema, frozen: the tables as they were first created.

A copy of the models of that time, not the live ones, so a later migration can
change the live models without changing what this one does. Python-side
defaults are left out (they are not part of the schema); JSON columns are the
text columns they are stored in.
"""

import peewee


def up(migrator, db):
    class Base(peewee.Model):
        id = peewee.CharField(primary_key=True, max_length=36)
        create_time = peewee.DateTimeField()
        update_time = peewee.DateTimeField()

        class Meta:
            database = db
            legacy_table_names = False

    class Flavor(Base):
        name = peewee.CharField(max_length=255, unique=True)
        vcpus = peewee.IntegerField()
        ram_mib = peewee.BigIntegerField()
        disk_gib = peewee.BigIntegerField()
        extra_specs = peewee.TextField()
        is_public = peewee.BooleanField()

    class Instance(Base):
        name = peewee.CharField(max_length=255)
        project_id = peewee.CharField(max_length=36, index=True)
        user_id = peewee.CharField(max_length=36)
        flavor_id = peewee.CharField(max_length=36)
        flavor_name = peewee.CharField(max_length=255)
        vcpus = peewee.IntegerField()
        ram_mib = peewee.BigIntegerField()
        disk_gib = peewee.BigIntegerField()
        extra_specs = peewee.TextField()
        image_id = peewee.CharField(max_length=36)
        availability_zone = peewee.CharField(max_length=255)
        metadata = peewee.TextField()
        requested_networks = peewee.TextField()
        volume_ids = peewee.TextField()
        vm_state = peewee.IntegerField()
        task_state = peewee.IntegerField()
        power_state = peewee.IntegerField()
        host = peewee.CharField(max_length=255, index=True)
        claim_id = peewee.CharField(max_length=36)
        attempt = peewee.IntegerField()
        alternates = peewee.TextField()
        addresses = peewee.TextField()
        volumes = peewee.TextField()
        launched_time = peewee.DateTimeField(null=True)
        deleted_time = peewee.DateTimeField(null=True)
        request_id = peewee.CharField(max_length=128, null=True)

        class Meta:
            indexes = ((("project_id", "request_id"), True),)

    class InstanceFault(Base):
        instance = peewee.ForeignKeyField(Instance, on_delete="CASCADE")
        code = peewee.IntegerField()
        message = peewee.TextField()
        details = peewee.TextField()

    class ComputeNode(Base):
        host = peewee.CharField(max_length=255, unique=True)
        address = peewee.CharField(max_length=255)
        availability_zone = peewee.CharField(max_length=255)
        hypervisor_type = peewee.CharField(max_length=64)
        hypervisor_version = peewee.CharField(max_length=64)
        architecture = peewee.CharField(max_length=32)
        vcpus = peewee.IntegerField()
        ram_mib = peewee.BigIntegerField()
        disk_gib = peewee.BigIntegerField()
        vcpus_used = peewee.IntegerField()
        ram_mib_used = peewee.BigIntegerField()
        disk_gib_used = peewee.BigIntegerField()
        instances_used = peewee.IntegerField()
        enabled = peewee.BooleanField()
        disabled_reason = peewee.CharField(max_length=255)
        last_heartbeat = peewee.DateTimeField(null=True)

    class Claim(Base):
        instance_id = peewee.CharField(max_length=36, index=True)
        node = peewee.ForeignKeyField(ComputeNode, on_delete="CASCADE")
        vcpus = peewee.IntegerField()
        ram_mib = peewee.BigIntegerField()
        disk_gib = peewee.BigIntegerField()

    class ProjectQuota(Base):
        project_id = peewee.CharField(max_length=36, unique=True)
        instances_limit = peewee.IntegerField()
        cores_limit = peewee.IntegerField()
        ram_mib_limit = peewee.BigIntegerField()
        instances_used = peewee.IntegerField()
        cores_used = peewee.IntegerField()
        ram_mib_used = peewee.BigIntegerField()
        is_default = peewee.BooleanField()

    db.create_tables([Flavor, Instance, InstanceFault, ComputeNode, Claim, ProjectQuota])
