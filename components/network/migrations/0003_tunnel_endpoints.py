"""Hosts register the underlay address of their VXLAN interfaces: one tunnel_endpoint row
per host (UNIQUE host), read to tell each host where a network's other ports are."""

import peewee


def up(migrator, db):
    class TunnelEndpoint(peewee.Model):
        id = peewee.CharField(primary_key=True, max_length=36)
        create_time = peewee.DateTimeField()
        update_time = peewee.DateTimeField()
        host = peewee.CharField(max_length=255, unique=True)
        ip_address = peewee.CharField(max_length=45)

        class Meta:
            database = db
            legacy_table_names = False

    db.create_tables([TunnelEndpoint])
