"""Key pairs: each user's SSH public keys, named uniquely per user.

Frozen: the table as first made.
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

    class KeyPair(Base):
        user_id = peewee.CharField(max_length=36)
        name = peewee.CharField(max_length=255)
        public_key = peewee.TextField()
        fingerprint = peewee.CharField(max_length=64)
        key_type = peewee.CharField(max_length=32)

        class Meta:
            indexes = ((("user_id", "name"), True),)

    db.create_tables([KeyPair])
