"""IPAM's pure half: subnet plans (gateway, pools, name servers), keys and first-free search."""

from __future__ import annotations

import ipaddress

import pytest

from components.framework.errors import InvalidArgument
from components.network import ipam

ip = ipaddress.ip_address


def ranges(plan: ipam.SubnetPlan) -> list[tuple[str, str]]:
    return [(str(a), str(b)) for a, b in plan.pools]


def test_ipv4_subnet_defaults_to_first_host_gateway_and_the_rest_as_pool():
    plan = ipam.plan_subnet("10.0.0.0/24")
    assert plan.ip_version == 4 and plan.gateway == ip("10.0.0.1")
    assert ranges(plan) == [("10.0.0.2", "10.0.0.254")]


def test_gateway_in_the_middle_splits_the_default_pool():
    plan = ipam.plan_subnet("10.0.0.0/24", gateway_ip="10.0.0.100")
    assert ranges(plan) == [("10.0.0.1", "10.0.0.99"), ("10.0.0.101", "10.0.0.254")]
    last = ipam.plan_subnet("10.0.0.0/24", gateway_ip="10.0.0.254")
    assert ranges(last) == [("10.0.0.1", "10.0.0.253")]


def test_no_gateway_pools_every_host_address():
    plan = ipam.plan_subnet("192.168.1.0/29", no_gateway=True)
    assert plan.gateway is None and ranges(plan) == [("192.168.1.1", "192.168.1.6")]


def test_smallest_subnets_still_hold_an_address():
    assert ranges(ipam.plan_subnet("10.0.0.0/30")) == [("10.0.0.2", "10.0.0.2")]
    assert ranges(ipam.plan_subnet("fd00::/126")) == [("fd00::2", "fd00::3")]


def test_ipv6_subnet_pool_runs_to_the_last_address():
    plan = ipam.plan_subnet("fd00::/64", ip_version=6)
    assert plan.gateway == ip("fd00::1")
    assert ranges(plan) == [("fd00::2", "fd00::ffff:ffff:ffff:ffff")]


def test_requested_pools_are_checked_and_sorted():
    plan = ipam.plan_subnet(
        "10.0.0.0/24", pools=[("10.0.0.100", "10.0.0.200"), ("10.0.0.10", "10.0.0.20")]
    )
    assert ranges(plan) == [("10.0.0.10", "10.0.0.20"), ("10.0.0.100", "10.0.0.200")]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cidr": "10.0.0.0/24", "ip_version": 6}, "ip_version"),
        ({"cidr": "10.0.0.0/24", "ip_version": 7}, "ip_version"),
        ({"cidr": "10.0.0.5/24"}, "cidr"),
        ({"cidr": "10.0.0.0/31"}, "cidr"),
        ({"cidr": "fd00::/127"}, "cidr"),
        ({"cidr": "fd00::"}, "cidr"),
        ({"cidr": "banana/8"}, "cidr"),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.0"}, "gateway_ip"),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "fd00::1"}, "gateway_ip"),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1", "no_gateway": True}, "gateway_ip"),
        ({"cidr": "10.0.0.0/24", "pools": [("10.0.0.0", "10.0.0.9")]}, "allocation_pools[0].start"),
        ({"cidr": "10.0.0.0/24", "pools": [("10.0.0.2", "10.0.0.255")]}, "allocation_pools[0].end"),
        (
            {"cidr": "10.0.0.0/24", "pools": [("10.0.0.2", "10.0.0.9"), ("10.0.0.9", "10.0.0.20")]},
            "allocation_pools",
        ),
        ({"cidr": "10.0.0.0/24", "pools": [("10.0.0.1", "10.0.0.9")]}, "allocation_pools[0]"),
        ({"cidr": "10.0.0.0/24", "dns_nameservers": ["1.1.1.1", "1.1.1.1"]}, "dns_nameservers[1]"),
        ({"cidr": "10.0.0.0/24", "dns_nameservers": ["1.1.1"]}, "dns_nameservers[0]"),
        ({"cidr": "10.0.0.0/24", "dns_nameservers": ["1.1.1.1", "fd00::53"]}, "dns_nameservers[1]"),
        ({"cidr": "fd00::/64", "dns_nameservers": ["1.1.1.1"]}, "dns_nameservers[0]"),
        ({"cidr": "fd00::/64", "pools": [("10.0.0.2", "10.0.0.9")]}, "allocation_pools[0].start"),
        ({"cidr": "0.0.0.0/0"}, "cidr"),
        ({"cidr": "::/0"}, "cidr"),
        ({"cidr": "::/0", "ip_version": 4}, "ip_version"),
        ({"cidr": "0.0.0.0/0", "ip_version": 6}, "ip_version"),
        ({"cidr": "0.0.0.0/8"}, "cidr"),
        ({"cidr": "64.0.0.0/2"}, "cidr"),
        ({"cidr": "127.0.0.0/24"}, "cidr"),
        ({"cidr": "224.0.0.0/24"}, "cidr"),
        ({"cidr": "::/64"}, "cidr"),
        ({"cidr": "ff02::/64"}, "cidr"),
    ],
)
def test_bad_subnet_requests_name_the_field(kwargs, field):
    with pytest.raises(InvalidArgument) as info:
        ipam.plan_subnet(**kwargs)
    assert info.value.metadata["field"] == field


def test_keys_sort_like_the_addresses_they_stand_for():
    v6 = [ip("fd00::1"), ip("fd00::a"), ip("fd00::1:0"), ip("fd00::ffff:0:0:0")]
    keys = [ipam.key(6, int(a)) for a in v6]
    assert sorted(keys) == keys and {len(k) for k in keys} == {32}
    assert ipam.key(4, int(ip("10.0.0.255"))) < ipam.key(4, int(ip("10.0.1.0")))


def test_first_free_skips_allocated_addresses_to_the_first_gap():
    assert ipam.first_free(10, 20, []) == 10
    assert ipam.first_free(10, 20, [10, 11, 12, 15]) == 13
    assert ipam.first_free(10, 20, [5, 8, 10, 11]) == 12
    assert ipam.first_free(10, 12, [10, 11, 12]) is None
    assert ipam.first_free(10, 12, [10, 11, 12, 13]) is None
    assert ipam.first_free(10, 20, [11, 12]) == 10


def test_first_free_reads_no_further_than_the_first_gap():
    seen = []

    def allocated():
        for value in range(100, 10**9):
            seen.append(value)
            yield value if value != 150 else value + 1

    assert ipam.first_free(100, 2**32, allocated()) == 150
    assert len(seen) == 51


def test_requested_address_must_be_a_host_of_the_subnet_and_not_its_gateway():
    cidr, gateway = ipaddress.ip_network("10.0.0.0/24"), ip("10.0.0.1")
    ipam.check_requested(cidr, gateway, ip("10.0.0.7"), "f")
    for bad in ("10.0.0.0", "10.0.0.255", "10.0.0.1", "10.0.1.7"):
        with pytest.raises(InvalidArgument):
            ipam.check_requested(cidr, gateway, ip(bad), "f")


def test_widest_subnets_that_are_not_reserved_are_accepted():
    assert ranges(ipam.plan_subnet("32.0.0.0/3"))[0] == ("32.0.0.2", "63.255.255.254")
    assert ipam.plan_subnet("2000::/3").ip_version == 6


def test_ipv6_pools_near_zero_are_ipv6_addresses_not_ipv4():
    pools = ipam.default_pools(ipaddress.ip_network("::/120"), ip("::1"))
    assert [(str(a), str(b)) for a, b in pools] == [("::2", "::ff")]
    assert {a.version for pool in pools for a in pool} == {6}


def test_address_of_keeps_the_ip_version_of_small_values():
    assert ipam.address_of(6, 2) == ip("::2")
    assert ipam.address_of(4, 2) == ip("0.0.0.2")
