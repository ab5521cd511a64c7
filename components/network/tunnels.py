"""Tunnel endpoints: where each host's VXLAN interfaces live on the underlay, and which
hosts carry a network's segment (Neutron's agent tunneling_ip and l2population)."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging

import peewee

from components.framework import InvalidArgument, NotFound, quote, transactions, validation
from components.network.models import Network, Port, TunnelEndpoint

log = logging.getLogger(__name__)

HOST_MAX = 255


@dataclasses.dataclass(frozen=True)
class Segment:
    """A network's segment: its row (VNI, MTU) and the (host, address) pairs carrying it."""

    network: Network
    endpoints: tuple[tuple[str, str], ...]


def check_address(text: str, field: str = "ip_address") -> str:
    """``text`` as an IPv4 or IPv6 unicast address, in its canonical form."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidArgument(f"{field} {quote(text)} is not an IP address", field=field) from None
    broadcast = address == ipaddress.IPv4Address("255.255.255.255")
    if address.is_multicast or address.is_unspecified or broadcast:
        raise InvalidArgument(f"{field} {address} is not a unicast address", field=field)
    return str(address)


def _save(host: str, ip_address: str) -> tuple[TunnelEndpoint, bool]:
    """The host's row holding ``ip_address``, and whether it changed."""
    query = TunnelEndpoint.select().where(TunnelEndpoint.host == host)
    row = transactions.locked(query).first()
    if row is None:
        return TunnelEndpoint.create(host=host, ip_address=ip_address), True
    if row.ip_address == ip_address:
        return row, False
    row.ip_address = ip_address
    row.save()
    return row, True


def register(host: str, ip_address: str) -> tuple[TunnelEndpoint, bool]:
    """Record (or move) the host's endpoint; returns it and whether anything changed."""
    host = validation.name("host", host, max_length=HOST_MAX)
    if any(c.isspace() for c in host):
        raise InvalidArgument(f"host {quote(host)} contains white space", field="host")
    ip_address = check_address(ip_address)
    try:
        row, changed = transactions.run(lambda: _save(host, ip_address))
    except peewee.IntegrityError:
        # A concurrent first registration of the same host won the insert.
        row, changed = transactions.run(lambda: _save(host, ip_address))
    if changed:
        log.info("tunnel endpoint of %s is %s", host, ip_address)
    return row, changed


def endpoints_of(network_id: str) -> tuple[tuple[str, str], ...]:
    """(host, address) of each distinct host with a port bound on the network, by host."""
    hosts = Port.select(Port.binding_host_id).where(
        (Port.network == network_id) & (Port.binding_host_id != "")
    )
    query = (
        TunnelEndpoint.select(TunnelEndpoint.host, TunnelEndpoint.ip_address)
        .where(TunnelEndpoint.host.in_(hosts))
        .order_by(TunnelEndpoint.host)
    )
    return tuple((row.host, row.ip_address) for row in query)


def segment(network_id: str) -> Segment:
    """The network's segment; NOT_FOUND if there is no such network."""
    network_id = validation.uuid_str("network_id", network_id)
    row = Network.get_or_none(Network.id == network_id)
    if row is None:
        raise NotFound(f"network {network_id} not found", field="network_id")
    return Segment(row, endpoints_of(row.id))


def networks_on(host: str) -> list[str]:
    """The ids of the networks with a port bound to ``host``."""
    query = Port.select(Port.network).where(Port.binding_host_id == host).distinct()
    return sorted({row.network_id for row in query})
