"""What the DHCP agent wants on its host for one network, from the network's rows (pure).

The plan names everything the agent makes for the network (as Neutron's DHCP
agent and linuxbridge agent name them) and what dnsmasq serves: every
enable_dhcp subnet the DHCP port has an address on, and the MAC and fixed IPs
of every other port of the network.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Sequence

from components.network import dhcp_ports
from components.network.dhcp import DhcpPort, DhcpSubnet
from components.network.models import Network, Port, Subnet

STATEFUL = "dhcpv6-stateful"


def namespace(network_id: str) -> str:
    return f"qdhcp-{network_id}"


@dataclasses.dataclass(frozen=True)
class Plan:
    network_id: str
    vni: int
    # The underlay addresses of the other hosts carrying the segment.
    peers: frozenset[str]
    port_id: str
    mac_address: str
    subnets: tuple[DhcpSubnet, ...]
    ports: tuple[DhcpPort, ...]

    @property
    def namespace(self) -> str:
        return namespace(self.network_id)

    @property
    def tap(self) -> str:
        """The bridge end of the DHCP port's veth pair."""
        return f"tap{self.port_id[:11]}"

    @property
    def interface(self) -> str:
        """The end in the qdhcp namespace, where dnsmasq listens."""
        return f"ns-{self.port_id[:11]}"

    @property
    def addresses(self) -> tuple[str, ...]:
        """The DHCP port's addresses with their subnets' prefixes ("10.0.0.2/24")."""
        return tuple(f"{s.dhcp_ip}/{s.network.prefixlen}" for s in self.subnets)


def _subnet(row: Subnet, dhcp_ip: str, mtu: int) -> DhcpSubnet:
    return DhcpSubnet(
        id=row.id,
        cidr=row.cidr,
        dhcp_ip=dhcp_ip,
        gateway_ip=row.gateway_ip,
        dns_nameservers=tuple(row.dns_nameservers),
        ipv6_address_mode=row.ipv6_address_mode or STATEFUL,
        mtu=mtu,
    )


def plan(
    network: Network,
    subnets: Sequence[Subnet],
    ports: Sequence[Port],
    dhcp_port_id: str,
    endpoints: Iterable[tuple[str, str]],
    own_ip: str,
) -> Plan | None:
    """The plan for ``network``; None when it should have no DHCP server here (down,
    no enable_dhcp subnet, no DHCP port among ``ports``). ``ports`` carry fixed_ips."""
    own = next((p for p in ports if p.id == dhcp_port_id), None)
    if own is None or not network.admin_state_up:
        return None
    held = dict(own.fixed_ips)
    served = tuple(
        _subnet(s, held[s.id], network.mtu) for s in subnets if s.enable_dhcp and s.id in held
    )
    if not served:
        return None
    served_ids = {s.id for s in served}
    hosts = tuple(
        DhcpPort(p.mac_address, tuple((s, ip) for s, ip in p.fixed_ips if s in served_ids))
        for p in ports
        if p.device_owner != dhcp_ports.DEVICE_OWNER
    )
    own_address = str(ipaddress.ip_address(own_ip)) if own_ip else ""
    return Plan(
        network_id=network.id,
        vni=network.segmentation_id,
        peers=frozenset(ip for _, ip in endpoints if ip != own_address),
        port_id=own.id,
        mac_address=own.mac_address,
        subnets=served,
        ports=tuple(p for p in hosts if p.fixed_ips),
    )
