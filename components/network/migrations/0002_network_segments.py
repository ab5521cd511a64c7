"""Networks get a VXLAN segment: network_type and segmentation_id (the VNI), unique together.

Networks made before this migration become "vxlan" networks with VNIs 1, 2,
3, ... in create_time order (the start of the default vni_ranges), so every
network has one before the UNIQUE index and NOT NULL are set. The allocator
counts them as taken whatever vni_ranges says later.
"""

import peewee


def up(migrator, db):
    class Network(peewee.Model):
        id = peewee.CharField(primary_key=True, max_length=36)
        create_time = peewee.DateTimeField()
        segmentation_id = peewee.IntegerField(null=True)

        class Meta:
            database = db
            table_name = "network"

    migrator.migrate(
        migrator.add_column(
            "network", "network_type", peewee.CharField(max_length=16, default="vxlan")
        ),
        migrator.add_column("network", "segmentation_id", peewee.IntegerField(null=True)),
    )
    existing = Network.select(Network.id).order_by(Network.create_time, Network.id)
    for vni, row in enumerate(list(existing), start=1):
        Network.update(segmentation_id=vni).where(Network.id == row.id).execute()
    migrator.migrate(
        migrator.add_not_null("network", "segmentation_id"),
        migrator.add_index("network", ("network_type", "segmentation_id"), True),
    )
