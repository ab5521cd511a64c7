"""Subnet.ipv6_address_mode: how IPv6 guests get addresses, and the EUI-64 addresses IPAM
gives ports on "slaac" and "dhcpv6-stateless" subnets."""

from __future__ import annotations

import datetime
from pathlib import Path

import grpc
import pytest
from playhouse.migrations import Runner

import components.network
from components.framework import database as db
from tests.contract.network_api import PROJECT_A, addresses, field_of, serving

Code = grpc.StatusCode
MIGRATIONS = Path(components.network.__file__).parent / "migrations"
MAC = "fa:16:3e:12:34:56"
# The modified EUI-64 of MAC: fa^02 = f8, ff:fe in the middle.
EUI = "fd00:1::f816:3eff:fe12:3456"


@pytest.fixture
def api(database_url):
    with serving(database_url) as client:
        yield client


def subnet(api, network_id: str, cidr: str, mode: str = "", **fields):
    return api("CreateSubnet", network_id=network_id, cidr=cidr, ipv6_address_mode=mode, **fields)


def test_modes_are_stored_and_default_to_stateful_for_ipv6_only(api):
    network = api("CreateNetwork")
    assert subnet(api, network.id, "10.0.0.0/24").ipv6_address_mode == ""
    assert subnet(api, network.id, "fd00:1::/64").ipv6_address_mode == "dhcpv6-stateful"
    for i, mode in enumerate(("slaac", "dhcpv6-stateless", "dhcpv6-stateful")):
        made = subnet(api, network.id, f"fd00:{i + 2}::/64", mode)
        assert made.ipv6_address_mode == mode
        assert api("GetSubnet", subnet_id=made.id).ipv6_address_mode == mode
    stateful_small = subnet(api, network.id, "fd00:9::/120", "dhcpv6-stateful")
    assert stateful_small.ipv6_address_mode == "dhcpv6-stateful"


@pytest.mark.parametrize(
    "cidr, mode",
    [
        ("10.0.0.0/24", "slaac"),
        ("10.0.0.0/24", "dhcpv6-stateful"),
        ("fd00:1::/64", "SLAAC"),
        ("fd00:1::/64", "dhcp"),
        ("fd00:1::/80", "slaac"),
        ("fd00:1::/56", "dhcpv6-stateless"),
    ],
)
def test_a_wrong_mode_is_invalid_argument(api, cidr, mode):
    network = api("CreateNetwork")
    error = api.fails("CreateSubnet", network_id=network.id, cidr=cidr, ipv6_address_mode=mode)
    assert (error.code(), field_of(error)) == (Code.INVALID_ARGUMENT, "ipv6_address_mode")


@pytest.mark.parametrize("mode", ["slaac", "dhcpv6-stateless"])
def test_ports_get_their_eui64_address_on_auto_address_subnets(api, mode):
    network = api("CreateNetwork")
    v4 = subnet(api, network.id, "10.0.0.0/24")
    v6 = subnet(api, network.id, "fd00:1::/64", mode)
    port = api.port(network.id, mac_address=MAC)
    assert addresses(port) == ["10.0.0.2", EUI]
    by_subnet = api.port(
        network.id, mac_address="fa:16:3e:00:00:01", fixed_ips=[{"subnet_id": v6.id}]
    )
    assert addresses(by_subnet) == ["fd00:1::f816:3eff:fe00:1"]
    api("DeletePort", port_id=port.id)
    again = api.port(
        network.id, mac_address=MAC, fixed_ips=[{"subnet_id": v4.id}, {"ip_address": EUI}]
    )
    assert addresses(again) == ["10.0.0.2", EUI]


def test_another_address_on_an_auto_address_subnet_is_invalid_argument(api):
    network = api("CreateNetwork")
    v6 = subnet(api, network.id, "fd00:1::/64", "slaac")
    error = api.fails(
        "CreatePort",
        network_id=network.id,
        mac_address=MAC,
        fixed_ips=[{"subnet_id": v6.id, "ip_address": "fd00:1::10"}],
    )
    assert (error.code(), field_of(error)) == (Code.INVALID_ARGUMENT, "fixed_ips[0].ip_address")
    assert api("ListPorts", network_id=network.id).ports == []


def test_stateful_subnets_still_allocate_from_the_pools(api):
    network = api("CreateNetwork")
    subnet(api, network.id, "fd00:1::/64", "dhcpv6-stateful")
    assert addresses(api.port(network.id, mac_address=MAC)) == ["fd00:1::2"]


def test_the_migration_makes_existing_ipv6_subnets_stateful(database_url):
    old = db.open_database(database_url)
    Runner(old, str(MIGRATIONS), table_name="stratus_schema_migration").up(
        target="0003_tunnel_endpoints"
    )
    now = datetime.datetime(2026, 1, 2, 3, 4, 5)
    mark = "?" if database_url.startswith("sqlite") else "%s"
    net = "00000001-0000-4000-8000-000000000000"
    old.execute_sql(
        "INSERT INTO network (id, create_time, update_time, name, project_id, shared,"
        f" admin_state_up, mtu, network_type, segmentation_id) VALUES ({mark}, {mark}, {mark},"
        f" '', {mark}, {mark}, {mark}, 1500, 'vxlan', 7)",
        (net, now, now, PROJECT_A, False, True),
    )
    ids = {4: "00000004-0000-4000-8000-000000000000", 6: "00000006-0000-4000-8000-000000000000"}
    for version, cidr in ((4, "10.0.0.0/24"), (6, "fd00::/64")):
        old.execute_sql(
            "INSERT INTO subnet (id, create_time, update_time, network_id, project_id, name,"
            " cidr, ip_version, gateway_ip, dns_nameservers, enable_dhcp) VALUES"
            f" ({mark}, {mark}, {mark}, {mark}, {mark}, '', {mark}, {mark}, '', '[]', {mark})",
            (ids[version], now, now, net, PROJECT_A, cidr, version, True),
        )
    old.close()
    with serving(database_url) as api:
        assert api("GetSubnet", subnet_id=ids[4]).ipv6_address_mode == ""
        assert api("GetSubnet", subnet_id=ids[6]).ipv6_address_mode == "dhcpv6-stateful"
