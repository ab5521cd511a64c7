"""DHCP ports (components/network/dhcp_ports.py): one per network with DHCP, made by the
service, with an address on each enable_dhcp subnet, never blocking a subnet's or its
network's deletion. The DHCP agent is off here (dhcp_driver ""): the test plays it."""

from __future__ import annotations

import grpc
import pytest

from components.network import dhcp_ports
from tests.contract.network_api import addresses, serving

Code = grpc.StatusCode
HOST = "network"


@pytest.fixture
def api(database_url):
    with serving(database_url) as client:
        yield client


def ensure(network_id: str):
    return dhcp_ports.ensure(network_id, HOST, "fa:16:3e")


def dhcp_port(api, network_id: str):
    found = [
        p
        for p in api("ListPorts", "admin", network_id=network_id).ports
        if p.device_owner == "network:dhcp"
    ]
    assert len(found) <= 1
    return found[0] if found else None


def test_a_network_with_dhcp_gets_one_port_with_an_address_per_dhcp_subnet(api):
    network, v4 = api.network(cidr="10.0.0.0/24")
    assert ensure(network.id) is not None
    port = dhcp_port(api, network.id)
    assert (port.device_id, port.binding_host_id, port.project_id) == (
        "dhcp-network",
        HOST,
        network.project_id,
    )
    assert [(ip.subnet_id, ip.ip_address) for ip in port.fixed_ips] == [(v4.id, "10.0.0.2")]
    api("CreateSubnet", network_id=network.id, cidr="10.1.0.0/24", enable_dhcp=False)
    v6 = api("CreateSubnet", network_id=network.id, cidr="fd00:1::/64")
    ensure(network.id)
    ensure(network.id)  # idempotent: still one port, no more addresses
    again = dhcp_port(api, network.id)
    assert again.id == port.id
    assert [ip.subnet_id for ip in again.fixed_ips] == [v4.id, v6.id]
    # The users' ports come after it; the DHCP port does not count as theirs.
    assert addresses(api.port(network.id)) == ["10.0.0.3", "fd00:1::3"]


def test_no_dhcp_subnet_means_no_dhcp_port(api):
    network = api("CreateNetwork")
    assert ensure(network.id) is None
    subnet = api("CreateSubnet", network_id=network.id, cidr="10.0.0.0/24", enable_dhcp=False)
    assert ensure(network.id) is None and dhcp_port(api, network.id) is None
    assert api("GetSubnet", subnet_id=subnet.id).enable_dhcp is False
    assert dhcp_ports.ensure("00000000-0000-4000-8000-000000000000", HOST, "fa:16:3e") is None


def test_the_dhcp_port_does_not_block_deleting_its_subnet(api):
    network, v4 = api.network(cidr="10.0.0.0/24")
    v6 = api("CreateSubnet", network_id=network.id, cidr="fd00:1::/64")
    ensure(network.id)
    api("DeleteSubnet", subnet_id=v4.id)
    port = dhcp_port(api, network.id)
    assert [ip.subnet_id for ip in port.fixed_ips] == [v6.id]
    api("DeleteSubnet", subnet_id=v6.id)
    assert ensure(network.id) is None  # the agent's next sync deletes it
    assert dhcp_port(api, network.id) is None


def test_a_users_port_still_blocks_deleting_the_subnet(api):
    network, v4 = api.network(cidr="10.0.0.0/24")
    ensure(network.id)
    user = api.port(network.id)
    error = api.fails("DeleteSubnet", subnet_id=v4.id)
    assert error.code() == Code.FAILED_PRECONDITION
    api("DeletePort", port_id=user.id)
    api("DeleteSubnet", subnet_id=v4.id)


def test_deleting_the_network_deletes_its_dhcp_port(api):
    network, _ = api.network(cidr="10.0.0.0/24")
    ensure(network.id)
    user = api.port(network.id)
    assert api.fails("DeleteNetwork", network_id=network.id).code() == Code.FAILED_PRECONDITION
    assert dhcp_port(api, network.id) is not None
    api("DeletePort", port_id=user.id)
    api("DeleteNetwork", network_id=network.id)
    assert api("ListPorts", "admin").ports == []
    assert api.fails("GetNetwork", network_id=network.id).code() == Code.NOT_FOUND
