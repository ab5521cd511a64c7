"""DHCP ports: the port a network's DHCP server answers from, as Neutron's DHCP agent has one.

A network with at least one enable_dhcp subnet gets one port owned by
``network:dhcp`` (device_id ``dhcp-<host>``, bound to the DHCP host, in the
network's project) with one fixed IP on each enable_dhcp subnet. It is made
by the network service itself, never by a caller, and it must not keep a
subnet or its network from being deleted: its addresses go with the subnet,
the port with the network (as Neutron releases them). The network service has
no port quota, so it counts against none.
"""

from __future__ import annotations

import logging

from components.framework import SERVICE, Caller, transactions
from components.network import ipam, ports
from components.network.models import IPAllocation, Network, Port, Subnet

log = logging.getLogger(__name__)

DEVICE_OWNER = "network:dhcp"


def device_id(host: str) -> str:
    return f"dhcp-{host}"


def _owner(project_id: str) -> Caller:
    """The network service acting for the network's project (the DHCP port is theirs)."""
    return Caller(
        user_id="",
        user_name="network",
        project_id=project_id,
        project_name="",
        roles=frozenset({SERVICE}),
    )


def _delete(port_ids: list[str]) -> None:
    for port_id in port_ids:
        ipam.release(port_id)
    if port_ids:
        Port.delete().where(Port.id.in_(port_ids)).execute()


def _complete(port: Port, subnets: list[Subnet]) -> None:
    """Give ``port`` an address on each of ``subnets`` it has none on (a new subnet)."""
    have = {subnet_id for subnet_id, _ in port.fixed_ips}
    missing = [s for s in subnets if s.id not in have]
    if not missing:
        return
    ipam.lock_subnets(s.id for s in missing)
    position = len(port.fixed_ips)
    for subnet in missing:
        if ports.claim(subnet, port, position) is None:
            log.warning("subnet %s has no address left for its DHCP port", subnet.id)
            continue
        position += 1


def ensure(network_id: str, host: str, mac_prefix: str) -> Port | None:
    """The network's DHCP port for ``host``, made, completed or deleted to match its
    enable_dhcp subnets; None when the network is gone or has none."""

    def work() -> Port | None:
        query = Network.select().where(Network.id == network_id)
        network = transactions.locked(query).first()
        if network is None:
            return None
        subnets = list(
            Subnet.select()
            .where((Subnet.network == network.id) & (Subnet.enable_dhcp == True))  # noqa: E712
            .order_by(Subnet.create_time, Subnet.id)
        )
        found = ports.with_addresses(
            list(
                Port.select()
                .where(
                    (Port.network == network.id)
                    & (Port.device_owner == DEVICE_OWNER)
                    & (Port.device_id == device_id(host))
                )
                .order_by(Port.create_time, Port.id)
            )
        )
        keep = found[0] if found and subnets else None
        _delete([p.id for p in found if p is not keep])
        if not subnets:
            return None
        if keep is None:
            spec = ports.PortSpec(
                network_id=network.id,
                fixed_ips=tuple((s.id, "") for s in subnets),
                device_id=device_id(host),
                device_owner=DEVICE_OWNER,
                binding_host_id=host,
            )
            made = ports.create(_owner(network.project_id), spec, mac_prefix, len(subnets))
            log.info("made DHCP port %s of network %s", made.id, network.id)
            return made
        _complete(keep, subnets)
        return ports.with_addresses([keep])[0]

    return transactions.run(work)


def release_on_subnet(subnet_id: str) -> int:
    """Free the DHCP ports' addresses on a subnet being deleted (in its transaction)."""
    dhcp = Port.select(Port.id).where(Port.device_owner == DEVICE_OWNER)
    return (
        IPAllocation.delete()
        .where((IPAllocation.subnet == subnet_id) & IPAllocation.port.in_(dhcp))
        .execute()
    )


def delete_on_network(network_id: str) -> None:
    """Delete a network's DHCP ports with their addresses (in its deletion's transaction)."""
    query = Port.select(Port.id).where(
        (Port.network == network_id) & (Port.device_owner == DEVICE_OWNER)
    )
    _delete([row.id for row in query])
