"""The image service's first schema, frozen: the tables as they were first created.

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

    class Image(Base):
        name = peewee.CharField(max_length=255, index=True)
        status = peewee.CharField(max_length=16, index=True)
        disk_format = peewee.CharField(max_length=16)
        container_format = peewee.CharField(max_length=16)
        visibility = peewee.CharField(max_length=16, index=True)
        project_id = peewee.CharField(max_length=64, index=True)
        size_bytes = peewee.BigIntegerField()
        virtual_size_bytes = peewee.BigIntegerField()
        checksum = peewee.CharField(max_length=32)
        os_hash_algo = peewee.CharField(max_length=16)
        os_hash_value = peewee.CharField(max_length=128)
        min_disk_gib = peewee.IntegerField()
        min_ram_mib = peewee.IntegerField()
        protected = peewee.BooleanField()
        upload_id = peewee.CharField(max_length=36, null=True)

    class ImageProperty(Base):
        image = peewee.ForeignKeyField(Image, on_delete="CASCADE")
        key = peewee.CharField(max_length=255)
        value = peewee.TextField()

        class Meta:
            table_name = "image_property"
            indexes = ((("image", "key"), True),)

    db.create_tables([Image, ImageProperty])
