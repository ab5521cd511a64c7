"""Subnets: adding IP ranges to networks, reading and deleting them."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging

from components.framework import (
    Caller,
    FailedPrecondition,
    PermissionDenied,
    paging,
    transactions,
    validation,
)
from components.network import access, dhcp_ports, ipam
from components.network.models import AllocationPool, IPAllocation, Network, Subnet

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SubnetSpec:
    network_id: str
    cidr: str
    name: str = ""
    ip_version: int = 0
    gateway_ip: str = ""
    no_gateway: bool = False
    allocation_pools: tuple[tuple[str, str], ...] = ()
    dns_nameservers: tuple[str, ...] = ()
    enable_dhcp: bool = True
    ipv6_address_mode: str = ""


def pools(subnet: Subnet) -> list[tuple[str, str]]:
    return [(pool.first_ip, pool.last_ip) for pool in ipam.pools_of(subnet.id)]


def _overlapping(network_id: str, cidr: ipam.Cidr) -> Subnet | None:
    for other in Subnet.select().where(Subnet.network == network_id):
        existing = ipaddress.ip_network(other.cidr)
        if existing.version == cidr.version and existing.overlaps(cidr):
            return other
    return None


def create(who: Caller, spec: SubnetSpec) -> Subnet:
    name = validation.name("name", spec.name, required=False)
    network_id = validation.uuid_str("network_id", spec.network_id)
    plan = ipam.plan_subnet(
        spec.cidr,
        spec.ip_version,
        spec.gateway_ip,
        spec.no_gateway,
        spec.allocation_pools,
        spec.dns_nameservers,
        spec.ipv6_address_mode,
    )

    def work() -> Subnet:
        network = access.owned_network(who, network_id, "add subnets to it")
        # Locked so that two overlapping subnets cannot both pass the check below.
        transactions.locked(Network.select(Network.id).where(Network.id == network.id)).first()
        other = _overlapping(network.id, plan.cidr)
        if other is not None:
            raise FailedPrecondition(
                f"cidr {plan.cidr} overlaps subnet {other.id} ({other.cidr}) of the network",
                field="cidr",
            )
        row = Subnet.create(
            network=network,
            project_id=network.project_id,
            name=name,
            cidr=str(plan.cidr),
            ip_version=plan.ip_version,
            gateway_ip=str(plan.gateway) if plan.gateway is not None else "",
            dns_nameservers=list(plan.dns_nameservers),
            enable_dhcp=spec.enable_dhcp,
            ipv6_address_mode=plan.ipv6_address_mode,
        )
        ipam.create_pools(row, plan)
        return row

    row = transactions.run(work)
    log.info("created subnet %s %s on network %s", row.id, row.cidr, network_id)
    return row


def get(who: Caller, subnet_id: str) -> Subnet:
    return access.subnet(who, subnet_id)


def list_page(who: Caller, network_id: str, size: int, token: str) -> tuple[list[Subnet], str]:
    network_id = validation.uuid_str("network_id", network_id, required=False)
    query = Subnet.select(Subnet).join(Network).where(access.visible_networks(who))
    if network_id:
        query = query.where(Subnet.network == network_id)
    return paging.paginate(query, Subnet, size, token, scope=("ListSubnets", network_id))


def delete(who: Caller, subnet_id: str) -> str:
    """Delete a subnet none of whose addresses a port but a DHCP port holds (those go
    with it, as Neutron releases them); returns its network's id."""

    def work() -> str:
        row = access.subnet(who, subnet_id)
        if not access.owns(who, row.project_id):
            raise PermissionDenied("only the subnet's project may delete it")
        ipam.lock_subnets([row.id])
        dhcp_ports.release_on_subnet(row.id)
        if IPAllocation.select().where(IPAllocation.subnet == row.id).exists():
            raise FailedPrecondition(
                f"ports still hold addresses of subnet {row.id}; delete them first"
            )
        AllocationPool.delete().where(AllocationPool.subnet == row.id).execute()
        Subnet.delete().where(Subnet.id == row.id).execute()
        return row.network_id

    network_id = transactions.run(work)
    log.info("deleted subnet %s", subnet_id)
    return network_id
