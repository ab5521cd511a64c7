"""The volume service's first schema, frozen: the tables as they were first created.

A copy of the models of that time, not the live ones, so a later migration can
change the live models without changing what this one does. Python-side
defaults are left out (they are not part of the schema).
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

    class Volume(Base):
        name = peewee.CharField(max_length=255)
        description = peewee.CharField(max_length=255)
        project_id = peewee.CharField(max_length=64, index=True)
        size_gib = peewee.IntegerField()
        status = peewee.CharField(max_length=16, index=True)
        source_image_id = peewee.CharField(max_length=36)
        reserved_instance_id = peewee.CharField(max_length=36)
        pending_size_gib = peewee.IntegerField()
        request_id = peewee.CharField(max_length=128, null=True)

        class Meta:
            indexes = ((("project_id", "request_id"), True),)

    class Attachment(Base):
        volume = peewee.ForeignKeyField(Volume, unique=True, on_delete="CASCADE")
        instance_id = peewee.CharField(max_length=36)
        host = peewee.CharField(max_length=255)
        device = peewee.CharField(max_length=255)

    class Quota(Base):
        project_id = peewee.CharField(max_length=64, unique=True)
        volumes_limit = peewee.IntegerField(null=True)
        size_gib_limit = peewee.IntegerField(null=True)
        volumes_used = peewee.IntegerField()
        size_gib_used = peewee.BigIntegerField()

    db.create_tables([Volume, Attachment, Quota])
