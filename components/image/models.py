"""The image service's tables: image records and their free-form properties.

Statuses are the strings of :mod:`components.image.states`; the image's bytes
live in the store (:mod:`components.image.store`), keyed by the image id.
"""

from __future__ import annotations

import peewee

from components.framework import BaseModel


class Image(BaseModel):
    name = peewee.CharField(max_length=255, default="", index=True)
    status = peewee.CharField(max_length=16, index=True)
    disk_format = peewee.CharField(max_length=16)
    container_format = peewee.CharField(max_length=16, default="bare")
    visibility = peewee.CharField(max_length=16, default="private", index=True)
    project_id = peewee.CharField(max_length=64, index=True)
    size_bytes = peewee.BigIntegerField(default=0)
    virtual_size_bytes = peewee.BigIntegerField(default=0)
    checksum = peewee.CharField(max_length=32, default="")
    os_hash_algo = peewee.CharField(max_length=16, default="")
    os_hash_value = peewee.CharField(max_length=128, default="")
    min_disk_gib = peewee.IntegerField(default=0)
    min_ram_mib = peewee.IntegerField(default=0)
    protected = peewee.BooleanField(default=False)
    # Set while an upload runs: the finishing upload only wins if it is still
    # the one that started (the image was not deleted and re-queued meanwhile).
    upload_id = peewee.CharField(max_length=36, null=True)


class ImageProperty(BaseModel):
    """One free-form property; a table of its own because values reach 64 KiB."""

    image = peewee.ForeignKeyField(Image, backref="property_rows", on_delete="CASCADE")
    key = peewee.CharField(max_length=255)
    value = peewee.TextField(default="")

    class Meta:
        table_name = "image_property"
        indexes = ((("image", "key"), True),)


MODELS = [Image, ImageProperty]
