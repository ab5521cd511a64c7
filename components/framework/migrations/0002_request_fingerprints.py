"""A stored reply keeps its request's fingerprint (a reused request_id is refused), and
the purge finds old replies by an index."""

import peewee


def up(migrator, db):
    migrator.migrate(
        migrator.add_column(
            "stratus_request_record", "fingerprint", peewee.CharField(max_length=64, default="")
        ),
        migrator.add_index("stratus_request_record", ("create_time",), False),
    )
