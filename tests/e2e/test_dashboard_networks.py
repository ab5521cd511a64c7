"""The dashboard's networks panel against a real cloud: what its forms create is what
the network service holds, and the service's refusals are shown with the typed values."""

from __future__ import annotations

import html
import re
import uuid

import grpc
import pytest

from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from tests.e2e.dashboard_client import post_form


@pytest.fixture
def network(cloud):
    stub = network_grpc.NetworkStub(cloud.channel("network"))
    return stub, cloud.md("demo")


def network_id_of(reply) -> str:
    assert reply.status_code == 303, reply.text
    match = re.fullmatch(r"/project/networks/([0-9a-f-]{36})", reply.headers["location"])
    assert match, reply.headers["location"]
    return match.group(1)


def row(text: str, resource_id: str) -> str:
    match = re.search(rf'<tr id="row-{resource_id}">(.*?)</tr>', text, re.S)
    assert match, f"no row for {resource_id}"
    return html.unescape(match.group(1))


def test_network_and_subnet_from_the_form_are_listed_by_the_service_and_the_page(page, network):
    stub, md = network
    name = f"dash-{uuid.uuid4().hex[:6]}"
    reply = post_form(
        page,
        "/project/networks/create",
        {
            "name": name,
            "subnet_name": f"{name}-v4",
            "cidr": "10.77.1.0/24",
            "ip_version": "4",
            "enable_dhcp": "1",
            "dns_nameservers": "192.0.2.53, 192.0.2.54",
        },
        "/project/networks",
    )
    network_id = network_id_of(reply)
    try:
        told = html.unescape(page.get(reply.headers["location"]).text)
        assert f"Created network {name} with subnet 10.77.1.0/24." in told
        listed = stub.ListNetworks(network_pb2.ListNetworksRequest(name=name), metadata=md)
        assert [n.id for n in listed.networks] == [network_id]
        subnets = stub.ListSubnets(
            network_pb2.ListSubnetsRequest(network_id=network_id), metadata=md
        ).subnets
        assert [(s.cidr, s.enable_dhcp, list(s.dns_nameservers)) for s in subnets] == [
            ("10.77.1.0/24", True, ["192.0.2.53", "192.0.2.54"])
        ]
        # An IPv6 subnet from the network's page: its version taken from the CIDR.
        reply = post_form(
            page,
            f"/project/networks/{network_id}/subnets/create",
            {"cidr": "fd00:77::/64", "ipv6_address_mode": "slaac", "enable_dhcp": "1"},
            f"/project/networks/{network_id}",
        )
        assert reply.status_code == 303
        [v6] = [
            s
            for s in stub.ListSubnets(
                network_pb2.ListSubnetsRequest(network_id=network_id), metadata=md
            ).subnets
            if s.ip_version == 6
        ]
        assert (v6.cidr, v6.ipv6_address_mode) == ("fd00:77::/64", "slaac")
        listing = page.get("/project/networks").text
        assert name in row(listing, network_id)
        assert "10.77.1.0/24, fd00:77::/64" in row(listing, network_id)
        detail = page.get(f"/project/networks/{network_id}")
        assert detail.status_code == 200
        assert "10.77.1.0/24" in row(detail.text, subnets[0].id)
        assert "slaac" in row(detail.text, v6.id)
    finally:
        reply = post_form(page, f"/project/networks/{network_id}/delete", {}, "/project/networks")
        assert reply.status_code == 303
    with pytest.raises(grpc.RpcError) as refused:
        stub.GetNetwork(network_pb2.GetNetworkRequest(network_id=network_id), metadata=md)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert f'id="row-{network_id}"' not in page.get("/project/networks").text


def test_a_bad_cidr_shows_the_service_message_and_keeps_what_was_typed(page, network):
    stub, md = network
    name = f"dash-{uuid.uuid4().hex[:6]}"
    reply = post_form(
        page,
        "/project/networks/create",
        {"name": name, "cidr": "10.77.2.0/33", "ip_version": "4", "enable_dhcp": "1"},
        "/project/networks",
    )
    assert reply.status_code == 400
    text = html.unescape(reply.text)
    # The network was made; the page says its subnet was not, in the service's words.
    [made] = stub.ListNetworks(network_pb2.ListNetworksRequest(name=name), metadata=md).networks
    try:
        with pytest.raises(grpc.RpcError) as refused:
            stub.CreateSubnet(
                network_pb2.CreateSubnetRequest(network_id=made.id, cidr="10.77.2.0/33"),
                metadata=md,
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details() in text
        assert f"Created network {name}, but not its subnet" in text
        assert 'value="10.77.2.0/33"' in text
        assert f'action="/project/networks/{made.id}/subnets/create"' in text
        # The subnet form on the network's page fails the same way, keeping the values.
        reply = post_form(
            page,
            f"/project/networks/{made.id}/subnets/create",
            {"subnet_name": "typed", "cidr": "10.77.2.0/33", "ip_version": "4"},
            f"/project/networks/{made.id}",
        )
        assert reply.status_code == 400
        assert refused.value.details() in html.unescape(reply.text)
        assert 'value="typed"' in reply.text
    finally:
        stub.DeleteNetwork(network_pb2.DeleteNetworkRequest(network_id=made.id), metadata=md)


def test_port_create_and_delete_on_the_network_page(page, network):
    stub, md = network
    made = stub.CreateNetwork(
        network_pb2.CreateNetworkRequest(name=f"dash-{uuid.uuid4().hex[:6]}"), metadata=md
    )
    detail = f"/project/networks/{made.id}"
    try:
        stub.CreateSubnet(
            network_pb2.CreateSubnetRequest(network_id=made.id, cidr="10.77.3.0/24"), metadata=md
        )
        reply = post_form(
            page, f"{detail}/ports/create", {"port_name": "p1", "ip_address": "10.77.3.50"}, detail
        )
        assert reply.status_code == 303
        [port] = stub.ListPorts(network_pb2.ListPortsRequest(network_id=made.id), metadata=md).ports
        assert (port.name, [ip.ip_address for ip in port.fixed_ips]) == ("p1", ["10.77.3.50"])
        cells = row(page.get(detail).text, port.id)
        assert "10.77.3.50" in cells and port.mac_address in cells and "DOWN" in cells

        # The same address again: the service's refusal, with the typed values kept.
        reply = post_form(
            page, f"{detail}/ports/create", {"port_name": "p2", "ip_address": "10.77.3.50"}, detail
        )
        assert reply.status_code == 400
        assert "already in use" in reply.text
        assert 'value="p2"' in reply.text

        reply = post_form(page, f"{detail}/ports/{port.id}/delete", {}, detail)
        assert reply.status_code == 303
        assert not stub.ListPorts(
            network_pb2.ListPortsRequest(network_id=made.id), metadata=md
        ).ports
        assert f'id="row-{port.id}"' not in page.get(detail).text
    finally:
        for port in stub.ListPorts(
            network_pb2.ListPortsRequest(network_id=made.id), metadata=md
        ).ports:
            stub.DeletePort(network_pb2.DeletePortRequest(port_id=port.id), metadata=md)
        stub.DeleteNetwork(network_pb2.DeleteNetworkRequest(network_id=made.id), metadata=md)


def test_another_projects_network_page_is_not_found(page, cloud):
    stub = network_grpc.NetworkStub(cloud.channel("network"))
    admins = stub.CreateNetwork(
        network_pb2.CreateNetworkRequest(name="admins-only"), metadata=cloud.md("admin")
    )
    try:
        assert page.get(f"/project/networks/{admins.id}").status_code == 404
        assert f'id="row-{admins.id}"' not in page.get("/project/networks").text
    finally:
        stub.DeleteNetwork(
            network_pb2.DeleteNetworkRequest(network_id=admins.id), metadata=cloud.md("admin")
        )
