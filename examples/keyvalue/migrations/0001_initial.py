"""The store's first schema, frozen: the table as it was first created.

A copy of the model of that time, not the live one (models.py), so that a
later migration can change the live model without changing what this one does.
"""

import peewee


def up(migrator, db):
    class KeyEntry(peewee.Model):
        id = peewee.CharField(primary_key=True, max_length=36)
        create_time = peewee.DateTimeField()
        update_time = peewee.DateTimeField()
        project_id = peewee.CharField(max_length=36)
        key = peewee.CharField(max_length=255)
        value = peewee.TextField()
        version = peewee.IntegerField()
        touch_time = peewee.DateTimeField(null=True)

        class Meta:
            database = db
            legacy_table_names = False
            table_name = "key_entry"
            indexes = ((("project_id", "key"), True),)

    db.create_tables([KeyEntry])
