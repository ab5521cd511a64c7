"""The network service's tables: networks, subnets and their pools, ports, IP allocations.

Addresses are stored twice: as text (``10.0.0.5``, what callers see and what
the UNIQUE constraint guards) and as a fixed-width hex key (``0a000005``), whose
text order is the numeric order, so IPAM can ask the database for the
allocated addresses of a range in order, for IPv4 and IPv6 alike.
"""

from __future__ import annotations

import peewee

from components.framework import BaseModel, JSONField


class Network(BaseModel):
    name = peewee.CharField(max_length=255, default="")
    project_id = peewee.CharField(max_length=36, index=True)
    shared = peewee.BooleanField(default=False)
    admin_state_up = peewee.BooleanField(default=True)
    mtu = peewee.IntegerField()
    # The network's segment (Neutron's provider attributes): "vxlan" and its
    # VNI; the UNIQUE index makes a VNI held by one network at a time.
    network_type = peewee.CharField(max_length=16)
    segmentation_id = peewee.IntegerField()

    # Filled in by the domain code before conversion (not a column).
    subnet_ids: list[str] = []

    class Meta:
        indexes = ((("network_type", "segmentation_id"), True),)


class Subnet(BaseModel):
    network = peewee.ForeignKeyField(Network, backref="subnets", on_delete="RESTRICT")
    project_id = peewee.CharField(max_length=36)
    name = peewee.CharField(max_length=255, default="")
    cidr = peewee.CharField(max_length=64)
    ip_version = peewee.IntegerField()
    gateway_ip = peewee.CharField(max_length=45, default="")
    # Addresses, in the caller's order.
    dns_nameservers = JSONField(default=list)
    enable_dhcp = peewee.BooleanField(default=True)
    # IPv6 subnets: "slaac", "dhcpv6-stateless" or "dhcpv6-stateful"; "" for IPv4.
    ipv6_address_mode = peewee.CharField(max_length=16, default="")


class AllocationPool(BaseModel):
    """One inclusive range of a subnet, with a hint to where its free addresses start.

    Every address of [first, next_key) is allocated (the hint may lag behind,
    never run ahead), so IPAM starts looking at next_key instead of at first.
    """

    subnet = peewee.ForeignKeyField(Subnet, backref="pools", on_delete="CASCADE")
    first_ip = peewee.CharField(max_length=45)
    last_ip = peewee.CharField(max_length=45)
    first_key = peewee.CharField(max_length=32)
    last_key = peewee.CharField(max_length=32)
    next_key = peewee.CharField(max_length=32)

    class Meta:
        table_name = "allocation_pool"


class Port(BaseModel):
    network = peewee.ForeignKeyField(Network, backref="ports", on_delete="RESTRICT")
    project_id = peewee.CharField(max_length=36, index=True)
    name = peewee.CharField(max_length=255, default="")
    mac_address = peewee.CharField(max_length=17)
    device_id = peewee.CharField(max_length=255, default="", index=True)
    device_owner = peewee.CharField(max_length=255, default="")
    binding_host_id = peewee.CharField(max_length=255, default="")
    status = peewee.IntegerField()

    # Filled in by the domain code before conversion (not a column).
    fixed_ips: list[tuple[str, str]] = []

    class Meta:
        indexes = ((("network", "mac_address"), True),)


class IPAllocation(BaseModel):
    """One address of a subnet held by a port; the UNIQUE index makes it held once."""

    subnet = peewee.ForeignKeyField(Subnet, backref="allocations", on_delete="RESTRICT")
    port = peewee.ForeignKeyField(Port, backref="allocations", on_delete="CASCADE")
    ip_address = peewee.CharField(max_length=45)
    ip_key = peewee.CharField(max_length=32)
    # The address's place in the port's fixed_ips.
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "ip_allocation"
        indexes = (
            (("subnet", "ip_address"), True),
            (("subnet", "ip_key"), False),
        )


class TunnelEndpoint(BaseModel):
    """One host's VXLAN underlay address (Neutron's agent tunneling_ip), one row per host."""

    host = peewee.CharField(max_length=255, unique=True)
    ip_address = peewee.CharField(max_length=45)

    class Meta:
        table_name = "tunnel_endpoint"


MODELS = [Network, Subnet, AllocationPool, Port, IPAllocation, TunnelEndpoint]
