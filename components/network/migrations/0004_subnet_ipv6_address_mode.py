"""Subnets get an ipv6_address_mode (Neutron's): how IPv6 guests get their addresses.

IPv6 subnets made before this migration were served by DHCPv6 with the address
IPAM chose, so they become "dhcpv6-stateful"; IPv4 subnets keep "" (none).
"""

import peewee


def up(migrator, db):
    class Subnet(peewee.Model):
        id = peewee.CharField(primary_key=True, max_length=36)
        ip_version = peewee.IntegerField()
        ipv6_address_mode = peewee.CharField(max_length=16)

        class Meta:
            database = db
            table_name = "subnet"

    migrator.migrate(
        migrator.add_column(
            "subnet", "ipv6_address_mode", peewee.CharField(max_length=16, default="")
        ),
    )
    Subnet.update(ipv6_address_mode="dhcpv6-stateful").where(Subnet.ip_version == 6).execute()
