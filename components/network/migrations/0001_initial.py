"""The network service's first schema, frozen: the tables as they were first created.

A copy of the models of that time, not the live ones, so a later migration can
change the live models without changing what this one does. Python-side
defaults are left out (they are not part of the schema); JSON columns are the
text columns they are stored in.
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

    class Network(Base):
        name = peewee.CharField(max_length=255)
        project_id = peewee.CharField(max_length=36, index=True)
        shared = peewee.BooleanField()
        admin_state_up = peewee.BooleanField()
        mtu = peewee.IntegerField()

    class Subnet(Base):
        network = peewee.ForeignKeyField(Network, on_delete="RESTRICT")
        project_id = peewee.CharField(max_length=36)
        name = peewee.CharField(max_length=255)
        cidr = peewee.CharField(max_length=64)
        ip_version = peewee.IntegerField()
        gateway_ip = peewee.CharField(max_length=45)
        dns_nameservers = peewee.TextField()
        enable_dhcp = peewee.BooleanField()

    class AllocationPool(Base):
        subnet = peewee.ForeignKeyField(Subnet, on_delete="CASCADE")
        first_ip = peewee.CharField(max_length=45)
        last_ip = peewee.CharField(max_length=45)
        first_key = peewee.CharField(max_length=32)
        last_key = peewee.CharField(max_length=32)
        next_key = peewee.CharField(max_length=32)

        class Meta:
            table_name = "allocation_pool"

    class Port(Base):
        network = peewee.ForeignKeyField(Network, on_delete="RESTRICT")
        project_id = peewee.CharField(max_length=36, index=True)
        name = peewee.CharField(max_length=255)
        mac_address = peewee.CharField(max_length=17)
        device_id = peewee.CharField(max_length=255, index=True)
        device_owner = peewee.CharField(max_length=255)
        binding_host_id = peewee.CharField(max_length=255)
        status = peewee.IntegerField()

        class Meta:
            indexes = ((("network", "mac_address"), True),)

    class IPAllocation(Base):
        subnet = peewee.ForeignKeyField(Subnet, on_delete="RESTRICT")
        port = peewee.ForeignKeyField(Port, on_delete="CASCADE")
        ip_address = peewee.CharField(max_length=45)
        ip_key = peewee.CharField(max_length=32)
        position = peewee.IntegerField()

        class Meta:
            table_name = "ip_allocation"
            indexes = (
                (("subnet", "ip_address"), True),
                (("subnet", "ip_key"), False),
            )

    db.create_tables([Network, Subnet, AllocationPool, Port, IPAllocation])
