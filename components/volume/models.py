"""The volume service's tables: volumes, their attachments, and quotas."""

from __future__ import annotations

import peewee

from components.framework import BaseModel


class Volume(BaseModel):
    name = peewee.CharField(max_length=255, default="")
    description = peewee.CharField(max_length=255, default="")
    project_id = peewee.CharField(max_length=64, index=True)
    size_gib = peewee.IntegerField()
    status = peewee.CharField(max_length=16, index=True)
    source_image_id = peewee.CharField(max_length=36, default="")
    # Kept while ATTACHING too, so a failed attach can return the volume to
    # RESERVED; shown to clients only while RESERVED.
    reserved_instance_id = peewee.CharField(max_length=36, default="")
    # The size being grown to while EXTENDING (already charged to the quota), so
    # a restart can release the charge of an extension it interrupted; else 0.
    pending_size_gib = peewee.IntegerField(default=0)
    # The CreateVolume request_id. The framework replays a finished call's reply;
    # this unique column also stops two concurrent calls with one id from both
    # creating a volume.
    request_id = peewee.CharField(max_length=128, null=True)

    class Meta:
        indexes = ((("project_id", "request_id"), True),)


class Attachment(BaseModel):
    # Unique: a volume attaches to one instance at a time.
    volume = peewee.ForeignKeyField(Volume, unique=True, on_delete="CASCADE")
    instance_id = peewee.CharField(max_length=36)
    host = peewee.CharField(max_length=255)
    device = peewee.CharField(max_length=255, default="")
    # For an attachment served over NBD (exports.py), what restarts its export
    # as it was: the address and port it listens on (unique: one export per
    # port) and its secret name. NULL port: served as a file.
    export_host = peewee.CharField(max_length=255, default="")
    export_port = peewee.IntegerField(null=True, unique=True)
    export_name = peewee.CharField(max_length=64, default="")


class Quota(BaseModel):
    """One row per project that has used or been given a quota.

    A NULL limit means "the service default", which the configuration sets, so
    changing the default reaches every project that has no limit of its own.
    """

    project_id = peewee.CharField(max_length=64, unique=True)
    volumes_limit = peewee.IntegerField(null=True)
    size_gib_limit = peewee.IntegerField(null=True)
    volumes_used = peewee.IntegerField(default=0)
    size_gib_used = peewee.BigIntegerField(default=0)


MODELS = [Volume, Attachment, Quota]
