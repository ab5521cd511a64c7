"""The network service's settings, beyond those every component has."""

from __future__ import annotations

import dataclasses

from components.framework import Config


@dataclasses.dataclass
class NetworkConfig(Config):
    # The first three octets of every generated MAC (Neutron's base_mac).
    mac_prefix: str = "fa:16:3e"
    # The underlay's MTU (Neutron's global_physnet_mtu). A network's MTU is at
    # most this less 50 bytes of VXLAN headers (1450), and that unless it asks less.
    physical_mtu: int = 1500
    # The most fixed IPs one CreatePort may ask for (Neutron's max_fixed_ips_per_port).
    max_fixed_ips_per_port: int = 5
    # The VXLAN VNIs networks are given, as Neutron's ml2_type_vxlan vni_ranges:
    # comma-separated inclusive "min:max" ranges, within 1:16777215.
    vni_ranges: str = "1:16777215"
    # The DHCP agent inside the network service (Neutron's DHCP agent role,
    # components/network/dhcp_agent.py): "" runs none, "dnsmasq" one dnsmasq per
    # network in its qdhcp-<network id> namespace, plugged into the network's VXLAN.
    dhcp_driver: str = ""
    # The binding host of the DHCP ports and the host name of this service's tunnel endpoint.
    dhcp_host: str = "network"
    # The underlay (IPv4) address this machine's VXLAN interfaces send from.
    dhcp_tunnel_ip: str = ""
    # The underlay interface the VXLAN interfaces are bound to ("lo", a veth, ...).
    dhcp_underlay_device: str = ""
    # The namespace the bridges live in; "" is the one the service runs in. A single
    # machine run shares the guests' namespace with the compute host there.
    dhcp_bridge_namespace: str = ""
    # Every so many seconds the agent compares every network with what it runs.
    dhcp_resync_seconds: float = 30.0
