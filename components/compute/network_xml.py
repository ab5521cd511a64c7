"""Libvirt network XML for a Stratus network, one small function per element.

Each Stratus network a real guest joins gets one libvirt network on the host:
a bridge ("brq" + the first 11 characters of the network id, as neutron's
linuxbridge agent names them) whose address is the subnet's gateway, and a
dnsmasq serving DHCP on it. Which guest gets which address is decided by the
network service's IPAM, never by dnsmasq: each port is a DHCP host entry (MAC →
fixed IP, added with virNetworkUpdate as ports are plugged), the range is the
subnet's allocation pools, and clients without a host entry are ignored.

The network has no ``<forward>``: it is isolated, and no guest packet leaves
the host (in run-all, the network namespace libvirtd runs in).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from components.network.vxlan import bridge_name

DNSMASQ_NS = "http://libvirt.org/schemas/network/dnsmasq/1.0"
ET.register_namespace("dnsmasq", DNSMASQ_NS)
NAME_PREFIX = "stratus-"


@dataclasses.dataclass(frozen=True)
class SubnetSpec:
    """The IPv4 subnet whose gateway the bridge takes and whose ports DHCP serves."""

    cidr: str
    gateway_ip: str
    # (first, last) address of each allocation pool.
    pools: Sequence[tuple[str, str]] = ()
    enable_dhcp: bool = True


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    network_id: str
    # 0: the bridge's default.
    mtu: int = 0
    # None: a bridge without an address or DHCP (the subnet has no gateway).
    subnet: SubnetSpec | None = None


def network_name(network_id: str) -> str:
    return f"{NAME_PREFIX}{network_id}"


def serves_dhcp(spec: NetworkSpec) -> bool:
    return spec.subnet is not None and spec.subnet.enable_dhcp


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, attrs)


def bridge(network_id: str) -> ET.Element:
    return ET.Element("bridge", {"name": bridge_name(network_id), "stp": "off", "delay": "0"})


def ip(subnet: SubnetSpec) -> ET.Element:
    """The bridge's address (the subnet's gateway) and, with DHCP, the pools it serves."""
    prefix = ipaddress.ip_network(subnet.cidr, strict=False).prefixlen
    element = ET.Element("ip", {"address": subnet.gateway_ip, "prefix": str(prefix)})
    if subnet.enable_dhcp:
        dhcp = _sub(element, "dhcp")
        for start, end in subnet.pools:
            _sub(dhcp, "range", start=start, end=end)
    return element


def dhcp_host(mac_address: str, ip_address: str) -> ET.Element:
    """One port: the only address dnsmasq gives the NIC with this MAC."""
    return ET.Element("host", {"mac": mac_address, "ip": ip_address})


def dnsmasq_options() -> ET.Element:
    """Clients without a host entry get nothing: every address comes from IPAM."""
    options = ET.Element(f"{{{DNSMASQ_NS}}}options")
    _sub(options, f"{{{DNSMASQ_NS}}}option", value="dhcp-ignore=tag:!known")
    return options


def network(spec: NetworkSpec) -> ET.Element:
    """The whole network: name and UUID (the Stratus network's id), bridge, address."""
    root = ET.Element("network")
    name = _sub(root, "name")
    name.text = network_name(spec.network_id)
    uuid = _sub(root, "uuid")
    uuid.text = spec.network_id
    root.append(bridge(spec.network_id))
    if spec.mtu:
        _sub(root, "mtu", size=str(spec.mtu))
    if spec.subnet is not None:
        root.append(ip(spec.subnet))
        if spec.subnet.enable_dhcp:
            root.append(dnsmasq_options())
    return root


def to_xml(element: ET.Element) -> str:
    """The element as indented XML text (what libvirt is given and what golden files hold)."""
    element = ET.fromstring(ET.tostring(element))
    ET.indent(element, space="  ")
    return ET.tostring(element, encoding="unicode") + "\n"
