"""Builds recorded by CreateServer wait in a table until the scheduler has them.

Frozen: the table as first made. Its rows outlive the api process that wrote
them, so another api replica can hand a build over if that one dies.
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

    class Instance(Base):
        pass

    class BuildRequest(Base):
        instance = peewee.ForeignKeyField(Instance, unique=True, on_delete="CASCADE")
        spec = peewee.BlobField()
        auth_token = peewee.TextField()
        lease_until = peewee.DateTimeField(index=True)

    db.create_tables([BuildRequest])
