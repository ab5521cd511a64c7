"""Endpoints get Keystone's interface; a service may have several per region (replicas).

Existing endpoints become "public". The one-per-region unique index gives way
to one on (service, region, interface, address).
"""

import peewee


def up(migrator, db):
    migrator.migrate(
        migrator.add_column(
            "endpoint", "interface", peewee.CharField(max_length=16, default="public")
        ),
        migrator.drop_index("endpoint", "endpoint_service_id_region"),
        migrator.add_index("endpoint", ("service_id", "region", "interface", "address"), True),
    )
