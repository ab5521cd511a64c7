"""The stored replies of retried requests (components.framework.idempotency), as first made.

Frozen here: the table as the framework created it before it had migrations,
so a database that already has it is left as it is.
"""

import peewee


def up(migrator, db):
    class RequestRecord(peewee.Model):
        id = peewee.CharField(primary_key=True, max_length=36)
        create_time = peewee.DateTimeField()
        update_time = peewee.DateTimeField()
        method = peewee.CharField(max_length=191)
        project_id = peewee.CharField(max_length=36, default="")
        request_id = peewee.CharField(max_length=128)
        response = peewee.BlobField()

        class Meta:
            database = db
            table_name = "stratus_request_record"
            legacy_table_names = False
            indexes = ((("method", "project_id", "request_id"), True),)

    db.create_tables([RequestRecord], safe=True)
