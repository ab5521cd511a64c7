"""Ports: attachment points on a network with a MAC and fixed IPs."""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import logging
from collections import defaultdict

import peewee

from components.framework import (
    AlreadyExists,
    Caller,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    paging,
    transactions,
    validation,
)
from components.network import access, ipam, macs
from components.network.models import IPAllocation, Network, Port, Subnet

log = logging.getLogger(__name__)

MAC_ATTEMPTS = 16
UPDATABLE = {"name", "device_id", "device_owner", "binding_host_id", "status"}


class Status(enum.IntEnum):
    """A port's operational state (the numbers are the contract's)."""

    DOWN = 1
    ACTIVE = 2
    BUILD = 3
    ERROR = 4


@dataclasses.dataclass(frozen=True)
class PortSpec:
    network_id: str
    name: str = ""
    # (subnet_id, ip_address) pairs; either may be empty.
    fixed_ips: tuple[tuple[str, str], ...] = ()
    mac_address: str = ""
    device_id: str = ""
    device_owner: str = ""
    binding_host_id: str = ""


@dataclasses.dataclass(frozen=True)
class Want:
    """One address to allocate: from the first of ``subnets`` with room, or ``address``."""

    subnets: tuple[Subnet, ...]
    address: ipam.Address | None
    field: str
    exhausted: str


def with_addresses(rows: list[Port]) -> list[Port]:
    """``rows`` with their fixed_ips filled in (one query for all of them)."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    ids = [row.id for row in rows]
    if ids:
        query = (
            IPAllocation.select(IPAllocation.port, IPAllocation.subnet, IPAllocation.ip_address)
            .where(IPAllocation.port.in_(ids))
            .order_by(IPAllocation.position)
        )
        for alloc in query:
            found[alloc.port_id].append((alloc.subnet_id, alloc.ip_address))
    for row in rows:
        row.fixed_ips = found[row.id]
    return rows


def _text(field: str, value: str) -> str:
    return validation.name(field, value, required=False)


def _auto(network: Network, subnets: list[Subnet]) -> list[Want]:
    """One address of each IP version the network has subnets for."""
    wants = []
    for version in (4, 6):
        candidates = tuple(s for s in subnets if s.ip_version == version)
        if candidates:
            message = f"network {network.id} has no free IPv{version} address left"
            wants.append(Want(candidates, None, "fixed_ips", message))
    return wants


def _requested(
    who: Caller, network: Network, subnets: list[Subnet], i: int, subnet_id: str, ip: str
) -> Want:
    field = f"fixed_ips[{i}]"
    if not subnet_id and not ip:
        raise InvalidArgument(f"{field} names neither a subnet_id nor an ip_address", field=field)
    subnet = None
    if subnet_id:
        subnet_id = validation.uuid_str(f"{field}.subnet_id", subnet_id)
        subnet = next((s for s in subnets if s.id == subnet_id), None)
        if subnet is None:
            access.subnet(who, subnet_id, field=f"{field}.subnet_id")  # NOT_FOUND if unseen
            raise InvalidArgument(
                f"subnet {subnet_id} is not on network {network.id}", field=f"{field}.subnet_id"
            )
    if not ip:
        return Want((subnet,), None, field, f"subnet {subnet.id} has no free address left")
    address = ipam.parse_address(ip, f"{field}.ip_address")
    if subnet is None:
        subnet = next((s for s in subnets if address in ipaddress.ip_network(s.cidr)), None)
        if subnet is None:
            raise InvalidArgument(
                f"no subnet of network {network.id} contains {address}", field=f"{field}.ip_address"
            )
    gateway = ipaddress.ip_address(subnet.gateway_ip) if subnet.gateway_ip else None
    ipam.check_requested(ipaddress.ip_network(subnet.cidr), gateway, address, f"{field}.ip_address")
    return Want((subnet,), address, field, "")


def _wants(who: Caller, network: Network, requested: tuple[tuple[str, str], ...]) -> list[Want]:
    subnets = list(
        Subnet.select().where(Subnet.network == network.id).order_by(Subnet.create_time, Subnet.id)
    )
    if not requested:
        return _auto(network, subnets)
    return [_requested(who, network, subnets, i, s, ip) for i, (s, ip) in enumerate(requested)]


def _insert(network: Network, fields: dict, requested_mac: str, prefix: str) -> Port:
    """The port row, with the requested MAC or a random one unused on the network."""
    for _ in range(MAC_ATTEMPTS):
        mac = requested_mac or macs.generate(prefix)
        try:
            return transactions.run(
                lambda mac=mac: Port.create(network=network, mac_address=mac, **fields)
            )
        except peewee.IntegrityError:
            taken = Port.select().where((Port.network == network.id) & (Port.mac_address == mac))
            if not taken.exists():
                raise NotFound(f"network {network.id} not found", field="network_id") from None
            if requested_mac:
                raise AlreadyExists(
                    f"mac_address {mac} is already in use on network {network.id}",
                    field="mac_address",
                ) from None
    raise ResourceExhausted(f"no free MAC address found on network {network.id}")


def claim(subnet: Subnet, port: Port, position: int) -> IPAllocation | None:
    """Any free address of ``subnet`` for ``port`` (its EUI-64 one on SLAAC subnets)."""
    if ipam.is_auto_address(subnet):
        return ipam.claim_eui64(subnet, port, position)
    return ipam.claim_any(subnet, port, position)


def _allocate(port: Port, wants: list[Want]) -> None:
    ipam.lock_subnets(s.id for want in wants for s in want.subnets)
    for position, want in enumerate(wants):
        if want.address is not None:
            ipam.claim_address(want.subnets[0], port, position, want.address, want.field)
            continue
        claims = (claim(subnet, port, position) for subnet in want.subnets)
        if all(claim is None for claim in claims):
            raise ResourceExhausted(want.exhausted, field=want.field)


def check_max_fixed_ips(limit: int) -> int:
    """The configured max_fixed_ips_per_port: at least one."""
    if limit < 1:
        raise InvalidArgument(
            f"max_fixed_ips_per_port must be at least 1, not {limit}",
            field="max_fixed_ips_per_port",
        )
    return limit


def _check_fixed_ip_count(requested: tuple[tuple[str, str], ...], limit: int) -> None:
    if len(requested) > limit:
        raise InvalidArgument(
            f"fixed_ips asks for {len(requested)} addresses; a port holds at most {limit}",
            field="fixed_ips",
        )


def create(who: Caller, spec: PortSpec, mac_prefix: str, max_fixed_ips: int = 5) -> Port:
    """A new DOWN port with its MAC and addresses; on any error nothing stays allocated."""
    _check_fixed_ip_count(spec.fixed_ips, max_fixed_ips)
    fields = {
        "name": _text("name", spec.name),
        "device_id": _text("device_id", spec.device_id),
        "device_owner": _text("device_owner", spec.device_owner),
        "binding_host_id": _text("binding_host_id", spec.binding_host_id),
        "project_id": who.project_id,
        "status": Status.DOWN,
    }
    mac = macs.normalize(spec.mac_address) if spec.mac_address else ""

    def work() -> Port:
        network = access.network(who, spec.network_id)
        if not (network.shared or access.owns(who, network.project_id) or who.is_service):
            raise PermissionDenied(f"network {network.id} belongs to another project")
        if not network.admin_state_up:
            raise FailedPrecondition(f"network {network.id} is administratively down")
        wants = _wants(who, network, spec.fixed_ips)
        port = _insert(network, fields, mac, mac_prefix)
        _allocate(port, wants)
        return port

    port = with_addresses([transactions.run(work)])[0]
    log.info("created port %s on network %s %s", port.id, port.network_id, port.fixed_ips)
    return port


def get(who: Caller, port_id: str) -> Port:
    return with_addresses([access.port(who, port_id)])[0]


def list_page(
    who: Caller, network_id: str, device_id: str, project_id: str, size: int, token: str
) -> tuple[list[Port], str]:
    network_id = validation.uuid_str("network_id", network_id, required=False)
    query = Port.select(Port).join(Network).where(access.visible_ports(who))
    if network_id:
        query = query.where(Port.network == network_id)
    if device_id:
        query = query.where(Port.device_id == device_id)
    if project_id:
        query = query.where(Port.project_id == project_id)
    filters = [network_id, device_id, project_id]
    rows, next_token = paging.paginate(query, Port, size, token, scope=("ListPorts", *filters))
    return with_addresses(rows), next_token


def _checked_changes(changes: dict[str, object]) -> dict[str, object]:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidArgument(f"cannot update {', '.join(sorted(unknown))}", field="update_mask")
    checked = {
        field: _text(f"port.{field}", str(value))
        for field, value in changes.items()
        if field != "status"
    }
    if "status" in changes:
        try:
            checked["status"] = Status(changes["status"])
        except ValueError:
            raise InvalidArgument(
                f"status {changes['status']} is not a port status", field="port.status"
            ) from None
    return checked


def update(
    who: Caller, port_id: str, changes: dict[str, object], expected_device_id: str | None = None
) -> Port:
    """Apply ``changes`` (binding, status, name) to a port of the caller's project; if
    ``expected_device_id`` is not None, only while the port's device_id is that."""
    changes = _checked_changes(changes)

    def work() -> Port:
        seen = access.port(who, port_id)
        if not (who.is_service or access.owns(who, seen.project_id)):
            raise PermissionDenied("only the port's project may change it")
        row = transactions.locked(Port.select().where(Port.id == seen.id)).first()
        if row is None:
            raise NotFound(f"port {seen.id} not found", field="port_id")
        if expected_device_id is not None and row.device_id != expected_device_id:
            now = f"device {row.device_id}" if row.device_id else "no device"
            raise FailedPrecondition(
                f"port {row.id} is bound to {now}, not to "
                f"{validation.quote(expected_device_id) if expected_device_id else 'no device'}; "
                "left as it is",
                reason="DEVICE_CHANGED",
                field="expected_device_id",
            )
        device = changes.get("device_id")
        if device and row.device_id and device != row.device_id:
            raise FailedPrecondition(
                f"port {row.id} is in use by device {row.device_id}; clear device_id first",
                field="port.device_id",
            )
        for field, value in changes.items():
            setattr(row, field, value)
        row.save()
        return row

    return with_addresses([transactions.run(work)])[0]


def delete(who: Caller, port_id: str) -> str:
    """Delete a port and free its MAC and addresses; returns its network's id."""

    def work() -> str:
        row = access.port(who, port_id)
        allowed = (
            who.is_service
            or access.owns(who, row.project_id)
            or access.owns(who, row.network.project_id)
        )
        if not allowed:
            raise PermissionDenied("only the port's or the network's project may delete it")
        ipam.release(row.id)
        Port.delete().where(Port.id == row.id).execute()
        return row.network_id

    network_id = transactions.run(work)
    log.info("deleted port %s", port_id)
    return network_id
