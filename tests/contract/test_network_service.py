"""Contract of stratus.network.v1.Network: a real server, the generated stub, every backend."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from components.framework import errors
from components.network.config import NetworkConfig
from components.network.models import IPAllocation
from stratus.network.v1 import network_service_pb2 as pb2
from tests.contract.network_api import (
    PROJECT_A,
    PROJECT_B,
    UNKNOWN_ID,
    addresses,
    field_of,
    reason,
    serving,
)

Code = grpc.StatusCode
ACTIVE, DOWN = pb2.Port.STATUS_ACTIVE, pb2.Port.STATUS_DOWN

# Which test exercises each error case the proto comments name (test_conformance.py).
CONTRACT_CASES = {
    "stratus.network.v1.Network/CreateNetwork": {
        "INVALID_ARGUMENT": "test_create_network_out_of_range_is_invalid_argument",
        "PERMISSION_DENIED": "test_only_admins_create_shared_networks_and_readers_create_nothing",
    },
    "stratus.network.v1.Network/GetNetwork": {
        "INVALID_ARGUMENT": "test_get_network_is_isolated_by_project",
        "NOT_FOUND": "test_get_network_is_isolated_by_project",
    },
    "stratus.network.v1.Network/ListNetworks": {
        "INVALID_ARGUMENT": "test_list_networks_pages_filters_and_isolates",
    },
    "stratus.network.v1.Network/UpdateNetwork": {
        "INVALID_ARGUMENT": "test_update_network_refusals",
        "NOT_FOUND": "test_update_network_refusals",
        "PERMISSION_DENIED": "test_update_network_refusals",
        "FAILED_PRECONDITION": "test_unsharing_a_network_other_projects_use_is_failed_precondition",
    },
    "stratus.network.v1.Network/DeleteNetwork": {
        "INVALID_ARGUMENT": "test_a_call_naming_a_malformed_id_is_invalid_argument",
        "NOT_FOUND": "test_delete_network_of_another_project_is_refused",
        "PERMISSION_DENIED": "test_delete_network_of_another_project_is_refused",
        "FAILED_PRECONDITION": "test_delete_network_with_ports_is_failed_precondition",
    },
    "stratus.network.v1.Network/CreateSubnet": {
        "INVALID_ARGUMENT": "test_create_subnet_invalid_arguments_name_their_field",
        "NOT_FOUND": "test_create_subnet_needs_the_networks_project",
        "PERMISSION_DENIED": "test_create_subnet_needs_the_networks_project",
        "FAILED_PRECONDITION": "test_overlapping_subnet_on_one_network_is_failed_precondition",
    },
    "stratus.network.v1.Network/GetSubnet": {
        "INVALID_ARGUMENT": "test_get_subnet_follows_its_network",
        "NOT_FOUND": "test_get_subnet_follows_its_network",
    },
    "stratus.network.v1.Network/ListSubnets": {
        "INVALID_ARGUMENT": "test_list_subnets_filters_by_network_and_isolates",
    },
    "stratus.network.v1.Network/DeleteSubnet": {
        "INVALID_ARGUMENT": "test_a_call_naming_a_malformed_id_is_invalid_argument",
        "NOT_FOUND": "test_delete_subnet_with_allocated_addresses_is_failed_precondition",
        "PERMISSION_DENIED": "test_delete_subnet_of_a_shared_network_needs_its_project",
        "FAILED_PRECONDITION": "test_delete_subnet_with_allocated_addresses_is_failed_precondition",
    },
    "stratus.network.v1.Network/CreatePort": {
        "INVALID_ARGUMENT": "test_create_port_refuses_bad_fixed_ips_and_keeps_nothing",
        "NOT_FOUND": "test_create_port_refuses_bad_fixed_ips_and_keeps_nothing",
        "PERMISSION_DENIED": "test_ports_on_a_shared_network_belong_to_their_creator",
        "FAILED_PRECONDITION": "test_create_port_on_a_network_that_is_down_is_failed_precondition",
    },
    "stratus.network.v1.Network/GetPort": {
        "INVALID_ARGUMENT": "test_get_port_is_isolated_and_validated",
        "NOT_FOUND": "test_get_port_is_isolated_and_validated",
    },
    "stratus.network.v1.Network/ListPorts": {
        "INVALID_ARGUMENT": "test_list_ports_filters_and_isolates",
    },
    "stratus.network.v1.Network/UpdatePort": {
        "INVALID_ARGUMENT": "test_update_port_refusals",
        "NOT_FOUND": "test_update_port_refusals",
        "PERMISSION_DENIED": "test_update_port_refusals",
        "FAILED_PRECONDITION": "test_update_port_refusals",
    },
    "stratus.network.v1.Network/DeletePort": {
        "INVALID_ARGUMENT": "test_a_call_naming_a_malformed_id_is_invalid_argument",
        "NOT_FOUND": "test_delete_port_by_the_network_owner_but_not_by_others",
        "PERMISSION_DENIED": "test_delete_port_by_the_network_owner_but_not_by_others",
    },
}


@pytest.fixture
def api(database_url):
    with serving(database_url) as client:
        yield client


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


# Networks -----------------------------------------------------------------------------


def test_create_network_has_defaults_and_belongs_to_the_callers_project(api):
    network = api("CreateNetwork", name="private")
    assert network.name == "private" and network.project_id == PROJECT_A
    assert network.admin_state_up and not network.shared
    # The underlay's 1500 bytes less the VXLAN headers, as Neutron sets it.
    assert network.mtu == 1450 and list(network.subnet_ids) == []
    assert network.create_time.seconds > 0 and len(network.id) == 36
    custom = api("CreateNetwork", mtu=1280, admin_state_up=False)
    assert custom.mtu == 1280 and not custom.admin_state_up


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"mtu": 67}, "mtu"), ({"mtu": 1451}, "mtu"), ({"name": "n" * 256}, "name")],
)
def test_create_network_out_of_range_is_invalid_argument(api, fields, field):
    error = api.fails("CreateNetwork", **fields)
    assert error.code() == Code.INVALID_ARGUMENT and field_of(error) == field


def test_only_admins_create_shared_networks_and_readers_create_nothing(api):
    assert api.fails("CreateNetwork", shared=True).code() == Code.PERMISSION_DENIED
    assert api("CreateNetwork", "admin", shared=True).shared
    error = api.fails("CreateNetwork", "alice-reader")
    assert error.code() == Code.PERMISSION_DENIED and reason(error) == "POLICY_DENIED"


def test_calls_without_a_valid_token_are_unauthenticated(api):
    assert api.fails("ListNetworks", None).code() == Code.UNAUTHENTICATED
    assert api.fails("ListNetworks", "forged").code() == Code.UNAUTHENTICATED


def test_get_network_is_isolated_by_project(api):
    network, _ = api.network()
    assert api("GetNetwork", "alice-reader", network_id=network.id).id == network.id
    assert api("GetNetwork", "admin", network_id=network.id).id == network.id
    error = api.fails("GetNetwork", "bob", network_id=network.id)
    assert error.code() == Code.NOT_FOUND and reason(error) == "NOT_FOUND"
    assert api.fails("GetNetwork", network_id=UNKNOWN_ID).code() == Code.NOT_FOUND
    error = api.fails("GetNetwork", network_id="not-a-uuid")
    assert error.code() == Code.INVALID_ARGUMENT and field_of(error) == "network_id"


def test_shared_network_is_seen_by_every_project(api):
    shared, _ = api.network("admin", shared=True)
    api.network("admin")  # not shared: admins' own
    assert api("GetNetwork", "bob", network_id=shared.id).shared
    assert [n.id for n in api("ListNetworks", "bob").networks] == [shared.id]


def test_list_networks_pages_filters_and_isolates(api):
    mine = [api("CreateNetwork", name=name).id for name in ("a", "b", "a")]
    theirs = api("CreateNetwork", "bob", name="a").id
    first = api("ListNetworks", page_size=2)
    assert [n.id for n in first.networks] == mine[:2] and first.next_page_token
    second = api("ListNetworks", page_size=2, page_token=first.next_page_token)
    assert [n.id for n in second.networks] == mine[2:] and not second.next_page_token
    named = api("ListNetworks", name="a")
    assert [n.id for n in named.networks] == [mine[0], mine[2]]
    assert {n.id for n in api("ListNetworks", "admin").networks} == {*mine, theirs}
    changed = api.fails("ListNetworks", page_size=2, name="b", page_token=first.next_page_token)
    assert changed.code() == Code.INVALID_ARGUMENT and field_of(changed) == "page_token"
    wrong_call = api.fails("ListSubnets", page_token=first.next_page_token)
    assert wrong_call.code() == Code.INVALID_ARGUMENT
    assert api.fails("ListNetworks", page_token="garbage").code() == Code.INVALID_ARGUMENT
    assert api.fails("ListNetworks", page_size=-1).code() == Code.INVALID_ARGUMENT


def test_update_network_changes_masked_fields_only(api):
    network, _ = api.network(name="old")
    change = pb2.VirtualNetwork(id=network.id, name="new", admin_state_up=False, mtu=1280)
    updated = api("UpdateNetwork", network=change, update_mask=mask("name", "admin_state_up"))
    assert updated.name == "new" and not updated.admin_state_up and updated.mtu == 1450
    again = api("UpdateNetwork", network=change, update_mask=mask("name", "admin_state_up"))
    assert again.name == "new" and not again.admin_state_up


def test_update_network_refusals(api):
    network, _ = api.network()
    shared, _ = api.network("admin", shared=True)
    change = pb2.VirtualNetwork(id=network.id, name="x", shared=True)

    def update(token, paths, target=network.id):
        change.id = target
        return api.fails("UpdateNetwork", token, network=change, update_mask=mask(*paths))

    assert update("alice", []).code() == Code.INVALID_ARGUMENT
    error = update("alice", ["mtu"])
    assert error.code() == Code.INVALID_ARGUMENT and field_of(error) == "update_mask"
    assert update("alice", ["shared"]).code() == Code.PERMISSION_DENIED
    assert update("bob", ["name"]).code() == Code.NOT_FOUND
    assert update("bob", ["name"], shared.id).code() == Code.PERMISSION_DENIED
    assert update("alice-reader", ["name"]).code() == Code.PERMISSION_DENIED
    assert update("alice", ["name"], UNKNOWN_ID).code() == Code.NOT_FOUND


def test_unsharing_a_network_other_projects_use_is_failed_precondition(api):
    network, _ = api.network("admin", cidr="10.9.0.0/24", shared=True)
    port = api.port(network.id, "bob")
    unshare = {"network": pb2.VirtualNetwork(id=network.id), "update_mask": mask("shared")}
    assert api.fails("UpdateNetwork", "admin", **unshare).code() == Code.FAILED_PRECONDITION
    api("DeletePort", "bob", port_id=port.id)
    assert not api("UpdateNetwork", "admin", **unshare).shared
    assert api.fails("GetNetwork", "bob", network_id=network.id).code() == Code.NOT_FOUND


def test_delete_network_deletes_its_subnets(api):
    network, subnet = api.network(cidr="10.0.0.0/24")
    api("DeleteNetwork", network_id=network.id)
    assert api.fails("GetNetwork", network_id=network.id).code() == Code.NOT_FOUND
    assert api.fails("GetSubnet", subnet_id=subnet.id).code() == Code.NOT_FOUND
    assert api.fails("DeleteNetwork", network_id=network.id).code() == Code.NOT_FOUND


def test_delete_network_with_ports_is_failed_precondition(api):
    network, _ = api.network(cidr="10.0.0.0/24")
    port = api.port(network.id)
    error = api.fails("DeleteNetwork", network_id=network.id)
    assert error.code() == Code.FAILED_PRECONDITION
    api("DeletePort", port_id=port.id)
    api("DeleteNetwork", network_id=network.id)


def test_delete_network_of_another_project_is_refused(api):
    network, _ = api.network()
    shared, _ = api.network("admin", shared=True)
    assert api.fails("DeleteNetwork", "bob", network_id=network.id).code() == Code.NOT_FOUND
    denied = api.fails("DeleteNetwork", "bob", network_id=shared.id)
    assert denied.code() == Code.PERMISSION_DENIED
    reader = api.fails("DeleteNetwork", "alice-reader", network_id=network.id)
    assert reader.code() == Code.PERMISSION_DENIED
    api("DeleteNetwork", "admin", network_id=network.id)


def test_repeating_a_request_id_returns_the_first_result(api):
    network = api("CreateNetwork", name="once", request_id="req-net-1")
    assert api("CreateNetwork", name="once", request_id="req-net-1").id == network.id
    api("CreateSubnet", network_id=network.id, cidr="10.0.0.0/24")
    port = api.port(network.id, request_id="req-port-1")
    again = api.port(network.id, request_id="req-port-1")
    assert again.id == port.id and addresses(again) == addresses(port)
    assert len(api("ListPorts").ports) == 1
    api("DeletePort", port_id=port.id, request_id="req-del-1")
    api("DeletePort", port_id=port.id, request_id="req-del-1")
    assert api.fails("DeletePort", port_id=port.id).code() == Code.NOT_FOUND


def test_a_retried_create_port_allocates_nothing_new(api):
    network, _ = api.network(cidr="10.0.0.0/29")
    port = api.port(network.id, request_id="req-port")
    assert api.port(network.id, request_id="req-port") == port
    assert [p.id for p in api("ListPorts").ports] == [port.id]
    assert [a.ip_address for a in IPAllocation.select()] == addresses(port)


def test_a_request_id_reused_for_a_different_request_is_refused(api):
    network = api("CreateNetwork", name="first", request_id="req-net")
    error = api.fails("CreateNetwork", name="second", request_id="req-net")
    assert error.code() == Code.INVALID_ARGUMENT
    assert (reason(error), field_of(error)) == ("REQUEST_ID_REUSED", "request_id")
    assert [n.id for n in api("ListNetworks").networks] == [network.id]
    # Another project's request_id is another key.
    assert api("CreateNetwork", "bob", name="second", request_id="req-net").id != network.id


# Subnets ------------------------------------------------------------------------------


def test_create_ipv4_subnet_has_default_gateway_and_pool(api):
    network, subnet = api.network(cidr="10.0.0.0/24")
    assert subnet.network_id == network.id and subnet.project_id == PROJECT_A
    assert subnet.cidr == "10.0.0.0/24" and subnet.ip_version == 4
    assert subnet.gateway_ip == "10.0.0.1" and subnet.enable_dhcp
    assert [(p.start, p.end) for p in subnet.allocation_pools] == [("10.0.0.2", "10.0.0.254")]
    assert list(api("GetNetwork", network_id=network.id).subnet_ids) == [subnet.id]


def test_create_subnet_with_gateway_pools_and_name_servers(api):
    network, _ = api.network()
    pools = [
        pb2.Subnet.AllocationPool(start=s, end=e)
        for s, e in [("10.0.0.100", "10.0.0.110"), ("10.0.0.10", "10.0.0.20")]
    ]
    subnet = api(
        "CreateSubnet",
        network_id=network.id,
        cidr="10.0.0.0/24",
        name="s",
        gateway_ip="10.0.0.254",
        allocation_pools=pools,
        enable_dhcp=False,
        dns_nameservers=["10.0.0.2", "8.8.8.8"],
    )
    assert subnet.gateway_ip == "10.0.0.254" and not subnet.enable_dhcp
    assert [(p.start, p.end) for p in subnet.allocation_pools] == [
        ("10.0.0.10", "10.0.0.20"),
        ("10.0.0.100", "10.0.0.110"),
    ]
    assert list(subnet.dns_nameservers) == ["10.0.0.2", "8.8.8.8"]
    assert addresses(api.port(network.id)) == ["10.0.0.10"]
    outside_pools = api.port(network.id, fixed_ips=[pb2.Port.FixedIp(ip_address="10.0.0.5")])
    assert addresses(outside_pools) == ["10.0.0.5"]


def test_create_subnet_without_gateway_pools_every_host(api):
    network, _ = api.network()
    subnet = api("CreateSubnet", network_id=network.id, cidr="192.168.7.0/29", no_gateway=True)
    assert subnet.gateway_ip == ""
    assert [(p.start, p.end) for p in subnet.allocation_pools] == [("192.168.7.1", "192.168.7.6")]


def test_create_ipv6_subnet_allocates_from_its_pool(api):
    network, subnet = api.network(cidr="fd00:1::/64")
    assert subnet.ip_version == 6 and subnet.gateway_ip == "fd00:1::1"
    assert [(p.start, p.end) for p in subnet.allocation_pools] == [
        ("fd00:1::2", "fd00:1::ffff:ffff:ffff:ffff")
    ]
    assert addresses(api.port(network.id)) == ["fd00:1::2"]
    assert addresses(api.port(network.id)) == ["fd00:1::3"]
    requested = api.port(network.id, fixed_ips=[pb2.Port.FixedIp(ip_address="fd00:1::abcd")])
    assert addresses(requested) == ["fd00:1::abcd"]


def pool(start: str, end: str) -> pb2.Subnet.AllocationPool:
    return pb2.Subnet.AllocationPool(start=start, end=end)


BAD_SUBNETS = [
    ({"cidr": ""}, "cidr"),
    ({"cidr": "10.0.0.0/33"}, "cidr"),
    ({"cidr": "10.0.0.1/24"}, "cidr"),
    ({"cidr": "10.0.0.0"}, "cidr"),
    ({"cidr": "10.0.0.0/31"}, "cidr"),
    ({"cidr": "fd00::/127"}, "cidr"),
    ({"cidr": "10.0.0.0/24", "ip_version": 6}, "ip_version"),
    ({"cidr": "10.0.0.0/24", "ip_version": 5}, "ip_version"),
    ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.1.1"}, "gateway_ip"),
    ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.255"}, "gateway_ip"),
    ({"cidr": "10.0.0.0/24", "gateway_ip": "nope"}, "gateway_ip"),
    ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1", "no_gateway": True}, "gateway_ip"),
    (
        {"cidr": "10.0.0.0/24", "allocation_pools": [pool("10.0.0.2", "10.0.1.5")]},
        "allocation_pools[0].end",
    ),
    (
        {"cidr": "10.0.0.0/24", "allocation_pools": [pool("x", "10.0.0.5")]},
        "allocation_pools[0].start",
    ),
    (
        {"cidr": "10.0.0.0/24", "allocation_pools": [pool("10.0.0.9", "10.0.0.5")]},
        "allocation_pools[0]",
    ),
    (
        {"cidr": "10.0.0.0/24", "allocation_pools": [pool("10.0.0.1", "10.0.0.5")]},
        "allocation_pools[0]",
    ),
    (
        {
            "cidr": "10.0.0.0/24",
            "allocation_pools": [pool("10.0.0.2", "10.0.0.50"), pool("10.0.0.40", "10.0.0.60")],
        },
        "allocation_pools",
    ),
    ({"cidr": "10.0.0.0/24", "dns_nameservers": ["8.8.8.8", "not-an-ip"]}, "dns_nameservers[1]"),
    (
        {"cidr": "10.0.0.0/24", "dns_nameservers": [f"10.0.0.{i}" for i in range(2, 8)]},
        "dns_nameservers",
    ),
    ({"cidr": "10.0.0.0/24", "name": "n" * 256}, "name"),
    # Too wide, of the other family, or of addresses no subnet may hold.
    ({"cidr": "0.0.0.0/0"}, "cidr"),
    ({"cidr": "::/0"}, "cidr"),
    ({"cidr": "::/0", "ip_version": 4}, "ip_version"),
    ({"cidr": "0.0.0.0/0", "ip_version": 6}, "ip_version"),
    ({"cidr": "0.0.0.0/1"}, "cidr"),
    ({"cidr": "127.0.0.0/24"}, "cidr"),
    ({"cidr": "224.0.0.0/24"}, "cidr"),
    ({"cidr": "::/96"}, "cidr"),
    ({"cidr": "ff02::/64"}, "cidr"),
    ({"cidr": "fd00::/64", "gateway_ip": "10.0.0.1"}, "gateway_ip"),
    (
        {"cidr": "fd00::/64", "allocation_pools": [pool("fd00::5", "10.0.0.9")]},
        "allocation_pools[0].end",
    ),
    (
        {"cidr": "10.0.0.0/24", "dns_nameservers": ["8.8.8.8", "2001:4860::8888"]},
        "dns_nameservers[1]",
    ),
    ({"cidr": "fd00::/64", "dns_nameservers": ["8.8.8.8"]}, "dns_nameservers[0]"),
]


def test_create_subnet_invalid_arguments_name_their_field(api):
    network, _ = api.network()
    for fields, field in BAD_SUBNETS:
        error = api.fails("CreateSubnet", network_id=network.id, **fields)
        assert (error.code(), field_of(error)) == (Code.INVALID_ARGUMENT, field), fields
    assert list(api("GetNetwork", network_id=network.id).subnet_ids) == []


def test_overlapping_subnet_on_one_network_is_failed_precondition(api):
    network, _ = api.network(cidr="10.0.0.0/24")
    error = api.fails("CreateSubnet", network_id=network.id, cidr="10.0.0.128/25")
    assert error.code() == Code.FAILED_PRECONDITION and field_of(error) == "cidr"
    assert api.fails("CreateSubnet", network_id=network.id, cidr="10.0.0.0/16").code() == (
        Code.FAILED_PRECONDITION
    )
    api("CreateSubnet", network_id=network.id, cidr="10.0.1.0/24")
    other, _ = api.network()
    assert api("CreateSubnet", network_id=other.id, cidr="10.0.0.0/24").cidr == "10.0.0.0/24"


def test_create_subnet_needs_the_networks_project(api):
    network, _ = api.network()
    shared, _ = api.network("admin", shared=True)
    subnet = {"cidr": "10.0.0.0/24"}
    assert api.fails("CreateSubnet", "bob", network_id=network.id, **subnet).code() == (
        Code.NOT_FOUND
    )
    assert api.fails("CreateSubnet", "bob", network_id=shared.id, **subnet).code() == (
        Code.PERMISSION_DENIED
    )
    assert api.fails("CreateSubnet", "alice-reader", network_id=network.id, **subnet).code() == (
        Code.PERMISSION_DENIED
    )
    assert api.fails("CreateSubnet", network_id=UNKNOWN_ID, **subnet).code() == Code.NOT_FOUND
    assert api("CreateSubnet", "admin", network_id=network.id, **subnet).project_id == PROJECT_A


def test_get_subnet_follows_its_network(api):
    _, subnet = api.network(cidr="10.0.0.0/24")
    _, shared_subnet = api.network("admin", cidr="10.1.0.0/24", shared=True)
    assert api("GetSubnet", "alice-reader", subnet_id=subnet.id) == subnet
    assert api.fails("GetSubnet", "bob", subnet_id=subnet.id).code() == Code.NOT_FOUND
    assert api("GetSubnet", "bob", subnet_id=shared_subnet.id).id == shared_subnet.id
    assert api.fails("GetSubnet", subnet_id="bad").code() == Code.INVALID_ARGUMENT


def test_list_subnets_filters_by_network_and_isolates(api):
    one, a = api.network(cidr="10.0.0.0/24")
    b = api("CreateSubnet", network_id=one.id, cidr="fd00::/64")
    _, c = api.network(cidr="10.0.0.0/24")
    api.network("bob", cidr="10.0.0.0/24")
    assert [s.id for s in api("ListSubnets").subnets] == [a.id, b.id, c.id]
    assert [s.id for s in api("ListSubnets", network_id=one.id).subnets] == [a.id, b.id]
    assert list(api("ListSubnets", "bob", network_id=one.id).subnets) == []
    first = api("ListSubnets", page_size=2)
    rest = api("ListSubnets", page_size=2, page_token=first.next_page_token)
    assert [s.id for s in [*first.subnets, *rest.subnets]] == [a.id, b.id, c.id]
    assert len(api("ListSubnets", "admin").subnets) == 4
    assert api.fails("ListSubnets", network_id="bad").code() == Code.INVALID_ARGUMENT


def test_delete_subnet_with_allocated_addresses_is_failed_precondition(api):
    network, subnet = api.network(cidr="10.0.0.0/24")
    port = api.port(network.id)
    error = api.fails("DeleteSubnet", subnet_id=subnet.id)
    assert error.code() == Code.FAILED_PRECONDITION
    assert api.fails("DeleteSubnet", "bob", subnet_id=subnet.id).code() == Code.NOT_FOUND
    api("DeletePort", port_id=port.id)
    api("DeleteSubnet", subnet_id=subnet.id)
    assert api.fails("DeleteSubnet", subnet_id=subnet.id).code() == Code.NOT_FOUND
    assert list(api("GetNetwork", network_id=network.id).subnet_ids) == []
    assert addresses(api.port(network.id)) == []


def test_delete_subnet_of_a_shared_network_needs_its_project(api):
    _, subnet = api.network("admin", cidr="10.0.0.0/24", shared=True)
    assert api.fails("DeleteSubnet", "bob", subnet_id=subnet.id).code() == (Code.PERMISSION_DENIED)


# Ports --------------------------------------------------------------------------------


def test_create_port_allocates_a_mac_and_the_first_free_address(api):
    network, subnet = api.network(cidr="10.0.0.0/24")
    port = api.port(
        network.id,
        name="nic0",
        device_id=UNKNOWN_ID,
        device_owner="compute:default",
        binding_host_id="host-1",
    )
    assert port.status == DOWN and port.project_id == PROJECT_A
    assert port.network_id == network.id and port.mac_address.startswith("fa:16:3e:")
    assert [(ip.subnet_id, ip.ip_address) for ip in port.fixed_ips] == [(subnet.id, "10.0.0.2")]
    assert (port.name, port.device_id, port.device_owner, port.binding_host_id) == (
        "nic0",
        UNKNOWN_ID,
        "compute:default",
        "host-1",
    )
    second = api.port(network.id)
    assert addresses(second) == ["10.0.0.3"] and second.mac_address != port.mac_address
    assert api("GetPort", port_id=port.id) == port


def test_create_port_on_network_without_subnets_has_no_addresses(api):
    network, _ = api.network()
    assert list(api.port(network.id).fixed_ips) == []


def test_create_port_on_dual_stack_network_gets_one_address_per_version(api):
    network, v4 = api.network(cidr="10.0.0.0/24")
    v6 = api("CreateSubnet", network_id=network.id, cidr="fd00::/64")
    port = api.port(network.id)
    assert [(ip.subnet_id, ip.ip_address) for ip in port.fixed_ips] == [
        (v4.id, "10.0.0.2"),
        (v6.id, "fd00::2"),
    ]


def test_create_port_takes_the_first_subnet_with_a_free_address(api):
    network, first = api.network(cidr="10.0.0.0/30")
    second = api("CreateSubnet", network_id=network.id, cidr="10.0.1.0/30")
    assert [ip.subnet_id for ip in api.port(network.id).fixed_ips] == [first.id]
    assert [ip.subnet_id for ip in api.port(network.id).fixed_ips] == [second.id]
    error = api.fails("CreatePort", network_id=network.id)
    assert error.code() == Code.RESOURCE_EXHAUSTED


def test_create_port_exhausted_subnet_is_resource_exhausted(api):
    network, _ = api.network(cidr="10.0.0.0/29")
    ports = [api.port(network.id) for _ in range(5)]
    assert [addresses(p)[0] for p in ports] == [f"10.0.0.{i}" for i in range(2, 7)]
    error = api.fails("CreatePort", network_id=network.id)
    assert error.code() == Code.RESOURCE_EXHAUSTED and reason(error) == "RESOURCE_EXHAUSTED"
    assert len(api("ListPorts", network_id=network.id).ports) == 5
    api("DeletePort", port_id=ports[2].id)
    assert addresses(api.port(network.id)) == ["10.0.0.4"]


def fixed(subnet_id: str = "", ip_address: str = "") -> pb2.Port.FixedIp:
    return pb2.Port.FixedIp(subnet_id=subnet_id, ip_address=ip_address)


def test_create_port_with_requested_addresses(api):
    network, subnet = api.network(cidr="10.0.0.0/24")
    assert addresses(api.port(network.id, fixed_ips=[fixed(ip_address="10.0.0.50")])) == [
        "10.0.0.50"
    ]
    both = api.port(network.id, fixed_ips=[fixed(subnet.id, "10.0.0.51")])
    assert addresses(both) == ["10.0.0.51"]
    two = api.port(network.id, fixed_ips=[fixed(subnet.id), fixed(subnet.id)])
    assert addresses(two) == ["10.0.0.2", "10.0.0.3"]
    error = api.fails(
        "CreatePort", network_id=network.id, fixed_ips=[fixed(ip_address="10.0.0.50")]
    )
    assert error.code() == Code.ALREADY_EXISTS and field_of(error) == "fixed_ips[0]"


def test_create_port_refuses_bad_fixed_ips_and_keeps_nothing(api):
    network, subnet = api.network(cidr="10.0.0.0/24")
    _, other_subnet = api.network(cidr="10.5.0.0/24")
    _, hidden = api.network("bob", cidr="10.6.0.0/24")
    api.port(network.id, fixed_ips=[fixed(ip_address="10.0.0.50")])
    cases = [
        ([fixed(subnet.id, "10.0.1.5")], Code.INVALID_ARGUMENT),
        ([fixed(ip_address="10.7.0.5")], Code.INVALID_ARGUMENT),
        ([fixed(ip_address="10.0.0.0")], Code.INVALID_ARGUMENT),
        ([fixed(ip_address="10.0.0.255")], Code.INVALID_ARGUMENT),
        ([fixed(ip_address="10.0.0.1")], Code.INVALID_ARGUMENT),
        ([fixed(ip_address="10.0.0.x")], Code.INVALID_ARGUMENT),
        ([fixed()], Code.INVALID_ARGUMENT),
        ([fixed(other_subnet.id)], Code.INVALID_ARGUMENT),
        ([fixed(hidden.id)], Code.NOT_FOUND),
        ([fixed(UNKNOWN_ID)], Code.NOT_FOUND),
        ([fixed(ip_address="10.0.0.60"), fixed(ip_address="10.0.0.50")], Code.ALREADY_EXISTS),
    ]
    for fixed_ips, code in cases:
        error = api.fails("CreatePort", network_id=network.id, fixed_ips=fixed_ips)
        assert error.code() == code, fixed_ips
    assert len(api("ListPorts", network_id=network.id).ports) == 1
    # The failed call's first address was given back.
    assert addresses(api.port(network.id, fixed_ips=[fixed(ip_address="10.0.0.60")])) == [
        "10.0.0.60"
    ]


def test_create_port_with_more_fixed_ips_than_a_port_holds_is_invalid_and_keeps_nothing(api):
    network, subnet = api.network(cidr="10.0.0.0/24")
    error = api.fails("CreatePort", network_id=network.id, fixed_ips=[fixed(subnet.id)] * 6)
    assert (error.code(), field_of(error)) == (Code.INVALID_ARGUMENT, "fixed_ips")
    error = api.fails("CreatePort", network_id=network.id, fixed_ips=[fixed(subnet.id)] * 2000)
    assert (error.code(), field_of(error)) == (Code.INVALID_ARGUMENT, "fixed_ips")
    assert list(api("ListPorts", network_id=network.id).ports) == []
    five = api.port(network.id, fixed_ips=[fixed(subnet.id)] * 5)
    assert addresses(five) == [f"10.0.0.{i}" for i in range(2, 7)]


def test_the_fixed_ip_limit_per_port_is_a_setting(database_url):
    config = NetworkConfig(max_fixed_ips_per_port=2)
    with serving(database_url, config=config) as api:
        network, subnet = api.network(cidr="10.0.0.0/24")
        error = api.fails("CreatePort", network_id=network.id, fixed_ips=[fixed(subnet.id)] * 3)
        assert (error.code(), field_of(error)) == (Code.INVALID_ARGUMENT, "fixed_ips")
        assert len(api.port(network.id, fixed_ips=[fixed(subnet.id)] * 2).fixed_ips) == 2


def test_create_port_with_requested_mac(api):
    network, _ = api.network(cidr="10.0.0.0/24")
    other, _ = api.network()
    port = api.port(network.id, mac_address="02-AB-CD-EF-00-01")
    assert port.mac_address == "02:ab:cd:ef:00:01"
    error = api.fails("CreatePort", network_id=network.id, mac_address="02:ab:cd:ef:00:01")
    assert error.code() == Code.ALREADY_EXISTS and field_of(error) == "mac_address"
    assert api.port(other.id, mac_address="02:ab:cd:ef:00:01").mac_address == port.mac_address
    for bad in ("01:00:5e:00:00:01", "00:00:00:00:00:00", "zz:00:00:00:00:01", "02:ab:cd"):
        error = api.fails("CreatePort", network_id=network.id, mac_address=bad)
        assert error.code() == Code.INVALID_ARGUMENT and field_of(error) == "mac_address", bad
    assert len(api("ListPorts", network_id=network.id).ports) == 1


def test_create_port_on_a_network_that_is_down_is_failed_precondition(api):
    network, _ = api.network(cidr="10.0.0.0/24", admin_state_up=False)
    assert api.fails("CreatePort", network_id=network.id).code() == Code.FAILED_PRECONDITION


def test_ports_on_a_shared_network_belong_to_their_creator(api):
    private, _ = api.network(cidr="10.0.0.0/24")
    shared, _ = api.network("admin", cidr="10.1.0.0/24", shared=True)
    assert api.fails("CreatePort", "bob", network_id=private.id).code() == Code.NOT_FOUND
    bob_port = api.port(shared.id, "bob")
    alice_port = api.port(shared.id, "alice")
    assert bob_port.project_id == PROJECT_B and alice_port.project_id == PROJECT_A
    assert api.fails("GetPort", "alice", port_id=bob_port.id).code() == Code.NOT_FOUND
    assert api("GetPort", "admin", port_id=bob_port.id).project_id == PROJECT_B
    assert api("GetPort", "compute", port_id=bob_port.id).id == bob_port.id
    assert [p.id for p in api("ListPorts", "bob").ports] == [bob_port.id]
    reader = api.fails("CreatePort", "alice-reader", network_id=private.id)
    assert reader.code() == Code.PERMISSION_DENIED
    assert api.port(private.id, "compute").project_id != PROJECT_A


def test_get_port_is_isolated_and_validated(api):
    network, _ = api.network(cidr="10.0.0.0/24")
    port = api.port(network.id)
    assert api("GetPort", "alice-reader", port_id=port.id) == port
    assert api.fails("GetPort", "bob", port_id=port.id).code() == Code.NOT_FOUND
    assert api.fails("GetPort", port_id=UNKNOWN_ID).code() == Code.NOT_FOUND
    assert api.fails("GetPort", port_id="bad").code() == Code.INVALID_ARGUMENT


def test_list_ports_filters_and_isolates(api):
    shared, _ = api.network("alice", cidr="10.0.0.0/24")
    api(
        "UpdateNetwork",
        "admin",
        network=pb2.VirtualNetwork(id=shared.id, shared=True),
        update_mask=mask("shared"),
    )
    mine = api.port(shared.id, device_id="vm-1")
    theirs = api.port(shared.id, "bob", device_id="vm-2")
    other, _ = api.network("bob", cidr="10.0.0.0/24")
    hidden = api.port(other.id, "bob")
    assert [p.id for p in api("ListPorts").ports] == [mine.id, theirs.id]
    assert [p.id for p in api("ListPorts", "bob").ports] == [theirs.id, hidden.id]
    assert [p.id for p in api("ListPorts", device_id="vm-2").ports] == [theirs.id]
    assert [p.id for p in api("ListPorts", project_id=PROJECT_B).ports] == [theirs.id]
    assert [p.id for p in api("ListPorts", "bob", network_id=other.id).ports] == [hidden.id]
    assert len(api("ListPorts", "admin").ports) == 3
    first = api("ListPorts", "admin", page_size=2)
    rest = api("ListPorts", "admin", page_size=2, page_token=first.next_page_token)
    assert [p.id for p in [*first.ports, *rest.ports]] == [mine.id, theirs.id, hidden.id]
    assert rest.ports[0].fixed_ips[0].ip_address == "10.0.0.2"
    assert api.fails("ListPorts", network_id="bad").code() == Code.INVALID_ARGUMENT


def test_compute_host_binds_a_port_and_reports_it_active(api):
    network, _ = api.network(cidr="10.0.0.0/24")
    port = api.port(network.id)
    bound = pb2.Port(
        id=port.id,
        device_id=UNKNOWN_ID,
        device_owner="compute:default",
        binding_host_id="host-1",
        status=ACTIVE,
    )
    paths = mask("device_id", "device_owner", "binding_host_id", "status")
    active = api("UpdatePort", "compute", port=bound, update_mask=paths)
    assert active.status == ACTIVE and active.binding_host_id == "host-1"
    assert active.device_id == UNKNOWN_ID and addresses(active) == ["10.0.0.2"]
    assert api("UpdatePort", "compute", port=bound, update_mask=paths).status == ACTIVE
    unbound = api("UpdatePort", port=pb2.Port(id=port.id, status=DOWN), update_mask=paths)
    assert (unbound.device_id, unbound.binding_host_id, unbound.status) == ("", "", DOWN)
    renamed = api("UpdatePort", port=pb2.Port(id=port.id, name="eth0"), update_mask=mask("name"))
    assert renamed.name == "eth0" and renamed.mac_address == port.mac_address


def test_an_unbind_expecting_another_device_leaves_the_port_as_it_is(api):
    network, _ = api.network(cidr="10.0.0.0/24")
    port = api.port(network.id, device_id="vm-2")  # vm-1's port, taken by vm-2 meanwhile
    unbind = pb2.Port(id=port.id, status=DOWN)
    paths = mask("device_id", "device_owner", "binding_host_id", "status")
    error = api.fails(
        "UpdatePort", "compute", port=unbind, update_mask=paths, expected_device_id="vm-1"
    )
    assert error.code() == Code.FAILED_PRECONDITION
    assert errors.error_info(error).reason == "DEVICE_CHANGED"
    assert "bound to device vm-2" in error.details()
    assert api("GetPort", port_id=port.id).device_id == "vm-2"
    # Expecting the device it has, the unbind is made; again, it finds no device.
    unbound = api(
        "UpdatePort", "compute", port=unbind, update_mask=paths, expected_device_id="vm-2"
    )
    assert (unbound.device_id, unbound.status) == ("", DOWN)
    again = api.fails(
        "UpdatePort", "compute", port=unbind, update_mask=paths, expected_device_id="vm-2"
    )
    assert errors.error_info(again).reason == "DEVICE_CHANGED"
    # "" expects an unbound port: binding it only if nobody took it.
    bind = pb2.Port(id=port.id, device_id="vm-3")
    bound = api("UpdatePort", port=bind, update_mask=mask("device_id"), expected_device_id="")
    assert bound.device_id == "vm-3"


def test_update_port_refusals(api):
    shared, _ = api.network("alice", cidr="10.0.0.0/24")
    api(
        "UpdateNetwork",
        "admin",
        network=pb2.VirtualNetwork(id=shared.id, shared=True),
        update_mask=mask("shared"),
    )
    port = api.port(shared.id, device_id="vm-1")
    bobs = api.port(shared.id, "bob")

    def update(token, change, *paths):
        return api.fails("UpdatePort", token, port=change, update_mask=mask(*paths)).code()

    assert update("alice", pb2.Port(id=port.id)) == Code.INVALID_ARGUMENT
    assert update("alice", pb2.Port(id=port.id), "mac_address") == Code.INVALID_ARGUMENT
    assert update("alice", pb2.Port(id=port.id), "status") == Code.INVALID_ARGUMENT
    assert update("alice", pb2.Port(id=port.id, status=99), "status") == Code.INVALID_ARGUMENT
    assert update("alice", pb2.Port(id=port.id, device_id="vm-2"), "device_id") == (
        Code.FAILED_PRECONDITION
    )
    assert update("bob", pb2.Port(id=port.id, name="x"), "name") == Code.NOT_FOUND
    assert update("alice", pb2.Port(id=bobs.id, name="x"), "name") == Code.PERMISSION_DENIED
    assert update("alice-reader", pb2.Port(id=port.id, name="x"), "name") == (
        Code.PERMISSION_DENIED
    )
    assert update("alice", pb2.Port(id=UNKNOWN_ID, name="x"), "name") == Code.NOT_FOUND
    assert api("GetPort", port_id=port.id).device_id == "vm-1"


def test_delete_port_frees_its_mac_and_addresses(api):
    network, _ = api.network(cidr="10.0.0.0/24")
    port = api.port(
        network.id, mac_address="02:00:00:00:00:01", fixed_ips=[fixed(ip_address="10.0.0.9")]
    )
    api("DeletePort", port_id=port.id)
    assert api.fails("GetPort", port_id=port.id).code() == Code.NOT_FOUND
    assert api.fails("DeletePort", port_id=port.id).code() == Code.NOT_FOUND
    again = api.port(
        network.id, mac_address="02:00:00:00:00:01", fixed_ips=[fixed(ip_address="10.0.0.9")]
    )
    assert addresses(again) == ["10.0.0.9"]


def test_delete_port_by_the_network_owner_but_not_by_others(api):
    network, _ = api.network("admin", cidr="10.0.0.0/24", shared=True)
    port = api.port(network.id, "bob")
    assert api.fails("DeletePort", "alice", port_id=port.id).code() == Code.NOT_FOUND
    reader = api.fails("DeletePort", "alice-reader", port_id=port.id)
    assert reader.code() == Code.PERMISSION_DENIED
    api("DeletePort", "admin", port_id=port.id)
    compute_port = api.port(network.id, "bob")
    api("DeletePort", "compute", port_id=compute_port.id)
    assert api("ListPorts", "admin").ports == []


MALFORMED_ID_CALLS = {
    "UpdateNetwork": {
        "network": pb2.VirtualNetwork(id="bad", name="x"),
        "update_mask": mask("name"),
    },
    "DeleteNetwork": {"network_id": "bad"},
    "CreateSubnet": {"network_id": "bad", "cidr": "10.0.0.0/24"},
    "DeleteSubnet": {"subnet_id": "bad"},
    "CreatePort": {"network_id": "bad"},
    "UpdatePort": {"port": pb2.Port(id="bad", name="x"), "update_mask": mask("name")},
    "DeletePort": {"port_id": "bad"},
}


@pytest.mark.parametrize("rpc", MALFORMED_ID_CALLS)
def test_a_call_naming_a_malformed_id_is_invalid_argument(api, rpc):
    error = api.fails(rpc, **MALFORMED_ID_CALLS[rpc])
    assert error.code() == Code.INVALID_ARGUMENT


def test_every_rpc_is_implemented(api):
    service = pb2.DESCRIPTOR.services_by_name["Network"]
    for method in service.methods:
        try:
            api(method.name, "admin")
        except grpc.RpcError as error:
            assert error.code() != Code.UNIMPLEMENTED, method.name
            assert error.code() != Code.INTERNAL, (method.name, error.details())
