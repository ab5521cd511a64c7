"""The store's one table: a project's keys and their values."""

from __future__ import annotations

import peewee

from components.framework import BaseModel


class KeyEntry(BaseModel):
    """One key of one project (id, create_time and update_time come from BaseModel)."""

    project_id = peewee.CharField(max_length=36)
    key = peewee.CharField(max_length=255)
    value = peewee.TextField()
    version = peewee.IntegerField()
    touch_time = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "key_entry"
        indexes = ((("project_id", "key"), True),)


MODELS = [KeyEntry]
