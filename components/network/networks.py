"""Networks: creating, reading, changing and deleting them."""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable

import peewee

from components.framework import (
    Caller,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    paging,
    transactions,
    validation,
)
from components.network import access, dhcp_ports, segments
from components.network.models import AllocationPool, Network, Port, Subnet

log = logging.getLogger(__name__)

MTU_MIN, PHYSICAL_MTU_MAX = 68, 9000
# VXLAN over IPv4: outer Ethernet 14, IPv4 20, UDP 8 and VXLAN 8 bytes (vxlan.py).
VXLAN_OVERHEAD = 50
UPDATABLE = {"name", "admin_state_up", "shared"}


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    name: str = ""
    shared: bool = False
    admin_state_up: bool = True
    mtu: int = 0


def with_subnets(rows: list[Network]) -> list[Network]:
    """``rows`` with their subnet_ids filled in (one query for all of them)."""
    ids = [row.id for row in rows]
    found: dict[str, list[str]] = defaultdict(list)
    if ids:
        query = (
            Subnet.select(Subnet.id, Subnet.network)
            .where(Subnet.network.in_(ids))
            .order_by(Subnet.create_time, Subnet.id)
        )
        for subnet in query:
            found[subnet.network_id].append(subnet.id)
    for row in rows:
        row.subnet_ids = found[row.id]
    return rows


def largest_mtu(physical_mtu: int) -> int:
    """The largest MTU a VXLAN network carries over an underlay of ``physical_mtu``."""
    return min(physical_mtu, PHYSICAL_MTU_MAX) - VXLAN_OVERHEAD


def _mtu(value: int, physical_mtu: int) -> int:
    largest = largest_mtu(physical_mtu)
    if value == 0:
        return largest
    if not MTU_MIN <= value <= largest:
        raise InvalidArgument(
            f"mtu {value} is outside {MTU_MIN} to {largest} (the underlay's MTU "
            f"{physical_mtu} less {VXLAN_OVERHEAD} bytes of VXLAN headers)",
            field="mtu",
        )
    return value


def create(
    who: Caller,
    spec: NetworkSpec,
    physical_mtu: int = 1500,
    vni_ranges: tuple[segments.Range, ...] = segments.DEFAULT_RANGES,
) -> Network:
    """A new network of the caller's project, with a free VNI of ``vni_ranges``."""
    name = validation.name("name", spec.name, required=False)
    mtu = _mtu(spec.mtu, physical_mtu)
    if spec.shared and not who.is_admin:
        raise PermissionDenied("only admins may create a shared network", field="shared")
    fields = {
        "name": name,
        "project_id": who.project_id,
        "shared": spec.shared,
        "admin_state_up": spec.admin_state_up,
        "mtu": mtu,
    }
    row = segments.create_network(vni_ranges, fields)
    log.info("created network %s (project %s, VNI %d)", row.id, row.project_id, row.segmentation_id)
    return with_subnets([row])[0]


def get(who: Caller, network_id: str) -> Network:
    return with_subnets([access.network(who, network_id)])[0]


def list_page(who: Caller, name: str, size: int, token: str) -> tuple[list[Network], str]:
    query = Network.select().where(access.visible_networks(who))
    if name:
        query = query.where(Network.name == name)
    rows, next_token = paging.paginate(query, Network, size, token, scope=("ListNetworks", name))
    return with_subnets(rows), next_token


def _others_have_ports(network: Network) -> bool:
    return (
        Port.select()
        .where((Port.network == network.id) & (Port.project_id != network.project_id))
        .exists()
    )


def update(who: Caller, network_id: str, changes: dict[str, object]) -> Network:
    """Apply ``changes`` (field name to new value; names already checked by the caller)."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidArgument(f"cannot update {', '.join(sorted(unknown))}", field="update_mask")
    if "name" in changes:
        changes["name"] = validation.name("network.name", str(changes["name"]), required=False)

    def work() -> Network:
        row = access.owned_network(who, network_id, "change it")
        if "shared" in changes and changes["shared"] != row.shared:
            if not who.is_admin:
                raise PermissionDenied("only admins may change shared", field="network.shared")
            if not changes["shared"] and _others_have_ports(row):
                raise FailedPrecondition(
                    "other projects still have ports on the network; it must stay shared",
                    field="network.shared",
                )
        for field, value in changes.items():
            setattr(row, field, value)
        row.save()
        return row

    return with_subnets([transactions.run(work)])[0]


def _delete_subnets(network_ids: Iterable[str]) -> None:
    subnets = Subnet.select(Subnet.id).where(Subnet.network.in_(list(network_ids)))
    AllocationPool.delete().where(AllocationPool.subnet.in_(subnets)).execute()
    Subnet.delete().where(Subnet.network.in_(list(network_ids))).execute()


def delete(who: Caller, network_id: str) -> str:
    """Delete a network with no ports but its DHCP port (deleted with it), and its subnets;
    its VNI goes with its row. Returns the network's id."""

    def work() -> str:
        row = access.owned_network(who, network_id, "delete it")
        # Locked so that no subnet is added while the network goes.
        transactions.locked(Network.select(Network.id).where(Network.id == row.id)).first()
        users = (Port.network == row.id) & (Port.device_owner != dhcp_ports.DEVICE_OWNER)
        if Port.select().where(users).exists():
            raise FailedPrecondition(f"network {row.id} still has ports; delete them first")
        dhcp_ports.delete_on_network(row.id)
        _delete_subnets([row.id])
        Network.delete().where(Network.id == row.id).execute()
        return row.id

    try:
        network_id = transactions.run(work)
    except peewee.IntegrityError:
        # A port was created on the network while it was being deleted.
        raise FailedPrecondition(
            f"network {network_id} still has ports; delete them first"
        ) from None
    log.info("deleted network %s", network_id)
    return network_id
