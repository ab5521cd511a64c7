"""Plugging NICs into libvirt networks, against libvirt's test hypervisor.

The network service is the far side of a contract here: a stand-in answers
GetSubnet. The test driver keeps networks and their DHCP hosts but runs no
dnsmasq, so leases are covered by tests/e2e/test_qemu_guest.py.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import pytest

from components.compute.guest_networks import GuestNetworks
from components.compute.libvirt_driver import LibvirtDriver
from components.compute.network import PluggedPort
from stratus.network.v1 import network_service_pb2 as net_pb2

SUBNET = net_pb2.Subnet(
    id="s-1",
    cidr="10.0.0.0/24",
    ip_version=4,
    gateway_ip="10.0.0.1",
    enable_dhcp=True,
    allocation_pools=[net_pb2.Subnet.AllocationPool(start="10.0.0.2", end="10.0.0.254")],
)


class Subnets:
    """The network service's GetSubnet, as GuestNetworks calls it."""

    def __init__(self, subnet: net_pb2.Subnet) -> None:
        self._subnet = subnet
        self.asked: list[str] = []

    def subnet(self, subnet_id: str) -> net_pb2.Subnet:
        self.asked.append(subnet_id)
        return self._subnet


@pytest.fixture
def driver():
    drv = LibvirtDriver("test:///default")
    yield drv
    drv.close()


def port(network_id: str, mac: str = "fa:16:3e:00:00:0a", ip: str = "10.0.0.10") -> PluggedPort:
    return PluggedPort(str(uuid.uuid4()), network_id, "private", mac, ip, 1450, "s-1")


@pytest.fixture
def network_id(driver):
    network_id = str(uuid.uuid4())
    yield network_id
    net = driver._network(network_id)
    if net is not None:
        if net.isActive():
            net.destroy()
        net.undefine()


def network_xml(driver, network_id: str) -> ET.Element:
    return ET.fromstring(driver.connection().networkLookupByUUIDString(network_id).XMLDesc(0))


def test_plug_creates_the_network_from_the_subnet_and_adds_the_port_as_dhcp_host(
    driver, network_id
):
    networks = GuestNetworks(driver, Subnets(SUBNET), enabled=True)
    networks.plug(port(network_id))
    xml = network_xml(driver, network_id)
    assert xml.find("ip").attrib == {"address": "10.0.0.1", "prefix": "24"}
    assert xml.find("mtu").get("size") == "1450"
    hosts = [(h.get("mac"), h.get("ip")) for h in xml.iterfind("ip/dhcp/host")]
    assert hosts == [("fa:16:3e:00:00:0a", "10.0.0.10")]
    assert networks.libvirt_network(network_id) == f"stratus-{network_id}"


def test_second_port_joins_the_same_network_and_unplug_removes_only_its_entry(driver, network_id):
    networks = GuestNetworks(driver, Subnets(SUBNET), enabled=True)
    networks.plug(port(network_id))
    networks.plug(port(network_id, "fa:16:3e:00:00:0b", "10.0.0.11"))
    networks.unplug(network_id, "fa:16:3e:00:00:0a")
    networks.unplug(network_id, "fa:16:3e:00:00:0a")
    hosts = [h.get("mac") for h in network_xml(driver, network_id).iterfind("ip/dhcp/host")]
    assert hosts == ["fa:16:3e:00:00:0b"]


def test_subnet_without_a_gateway_gives_a_bridge_without_dhcp(driver, network_id):
    bare = net_pb2.Subnet(id="s-1", cidr="10.0.0.0/24", ip_version=4, enable_dhcp=True)
    GuestNetworks(driver, Subnets(bare), enabled=True).plug(port(network_id))
    assert network_xml(driver, network_id).find("ip") is None


def test_disabled_networks_do_nothing(driver, network_id):
    subnets = Subnets(SUBNET)
    networks = GuestNetworks(driver, subnets, enabled=False)
    networks.plug(port(network_id))
    networks.unplug(network_id, "fa:16:3e:00:00:0a")
    assert subnets.asked == [] and driver._network(network_id) is None
    assert networks.libvirt_network(network_id) == ""
