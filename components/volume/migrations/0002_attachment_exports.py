"""Attachments remember their NBD export (address, port, secret name), so a restarted
volume service serves every attached volume again where its guest looks for it.

Attachments made before this migration are file attachments: no port, no name.
"""

import peewee


def up(migrator, db):
    host = peewee.CharField(max_length=255, default="")
    name = peewee.CharField(max_length=64, default="")
    migrator.migrate(
        migrator.add_column("attachment", "export_host", host),
        migrator.add_column("attachment", "export_port", peewee.IntegerField(null=True)),
        migrator.add_column("attachment", "export_name", name),
        migrator.add_index("attachment", ("export_port",), True),
    )
