"""Golden tests of the libvirt network XML of a Stratus network, one per element.

To change the XML on purpose, run with STRATUS_UPDATE_GOLDEN=1, then read the
diff of tests/unit/compute/golden/.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from components.compute import network_xml
from components.compute.network_xml import NetworkSpec, SubnetSpec

GOLDEN = Path(__file__).parent / "golden"
NETWORK_ID = "3c9d2b1a-7e6f-4d5c-8b4a-1f2e3d4c5b6a"
SUBNET = SubnetSpec(cidr="10.0.0.0/24", gateway_ip="10.0.0.1", pools=[("10.0.0.2", "10.0.0.254")])


def assert_golden(name: str, element: ET.Element) -> None:
    text = network_xml.to_xml(element)
    path = GOLDEN / name
    if os.environ.get("STRATUS_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_names_follow_the_network_id_and_the_bridge_fits_an_interface_name():
    assert network_xml.network_name(NETWORK_ID) == f"stratus-{NETWORK_ID}"
    assert network_xml.bridge_name(NETWORK_ID) == "brq3c9d2b1a-7e"
    assert len(network_xml.bridge_name(NETWORK_ID)) <= 15


def test_ip_is_the_gateway_with_the_subnet_prefix_and_pools_as_dhcp_ranges():
    assert_golden("network_ip.xml", network_xml.ip(SUBNET))


def test_ip_of_a_subnet_without_dhcp_has_no_dhcp():
    element = network_xml.ip(SubnetSpec("10.1.0.0/16", "10.1.0.1", enable_dhcp=False))
    assert element.attrib == {"address": "10.1.0.1", "prefix": "16"}
    assert element.find("dhcp") is None


def test_dhcp_host_maps_the_port_mac_to_its_fixed_ip():
    assert_golden("network_dhcp_host.xml", network_xml.dhcp_host("fa:16:3e:12:34:56", "10.0.0.7"))


def test_dnsmasq_ignores_clients_without_a_host_entry():
    assert_golden("network_dnsmasq_options.xml", network_xml.dnsmasq_options())


def test_whole_network_is_isolated_with_bridge_mtu_address_and_dhcp():
    spec = NetworkSpec(NETWORK_ID, mtu=1450, subnet=SUBNET)
    element = network_xml.network(spec)
    assert element.find("forward") is None, "no guest packet may leave the host"
    assert network_xml.serves_dhcp(spec)
    assert_golden("network.xml", element)


def test_network_without_a_gateway_is_a_bare_bridge_without_dhcp():
    spec = NetworkSpec(NETWORK_ID)
    element = network_xml.network(spec)
    assert [child.tag for child in element] == ["name", "uuid", "bridge"]
    assert not network_xml.serves_dhcp(spec)
