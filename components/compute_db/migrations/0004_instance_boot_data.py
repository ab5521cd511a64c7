"""Instances keep what their guest is given at boot: the key pair (its name and
public key as they were at creation), the user data and whether the host gives
the guest a config drive.

Instances made before this migration had none of these.
"""

import peewee


class UserDataField(peewee.BlobField):
    """Frozen copy of models.UserDataField: MEDIUMBLOB on MySQL (its BLOB holds
    one byte less than 64 KiB)."""

    def ddl_datatype(self, ctx):
        on = getattr(ctx.state.conflict_statement, "__self__", None) if ctx else None
        if isinstance(on, peewee.MySQLDatabase):
            return peewee.SQL("MEDIUMBLOB")
        return super().ddl_datatype(ctx)


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("instance", "key_name", peewee.CharField(max_length=255, default="")),
        migrator.add_column("instance", "public_key", peewee.TextField(default="")),
        migrator.add_column("instance", "user_data", UserDataField(null=True)),
        migrator.add_column("instance", "config_drive", peewee.BooleanField(default=False)),
    )
