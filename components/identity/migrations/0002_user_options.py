"""Users get Keystone's ignore_lockout_failure_attempts option."""

import peewee


def up(migrator, db):
    migrator.migrate(
        migrator.add_column(
            "user", "ignore_lockout_failure_attempts", peewee.BooleanField(default=False)
        )
    )
