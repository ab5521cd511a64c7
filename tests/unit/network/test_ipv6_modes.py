"""The pure parts of IPv6 address modes: checking a mode, the modified EUI-64 address."""

import ipaddress

import pytest

from components.framework import InvalidArgument
from components.network.ipam import eui64, plan_ipv6_mode

V6 = ipaddress.ip_network("2001:db8:1:2::/64")


@pytest.mark.parametrize(
    "mac, address",
    [
        ("fa:16:3e:12:34:56", "2001:db8:1:2:f816:3eff:fe12:3456"),
        ("00:00:00:00:00:00", "2001:db8:1:2:200:ff:fe00:0"),
        ("02:00:00:00:00:01", "2001:db8:1:2::ff:fe00:1"),  # the U/L bit flipped back off
    ],
)
def test_eui64_flips_the_universal_local_bit_and_inserts_fffe(mac, address):
    assert eui64(V6, mac) == ipaddress.IPv6Address(address)


def test_modes_default_and_check():
    assert plan_ipv6_mode(V6, "") == "dhcpv6-stateful"
    assert plan_ipv6_mode(ipaddress.ip_network("10.0.0.0/24"), "") == ""
    assert (
        plan_ipv6_mode(ipaddress.ip_network("fd00::/120"), "dhcpv6-stateful") == "dhcpv6-stateful"
    )
    for network, mode in (("10.0.0.0/24", "slaac"), ("fd00::/80", "slaac"), ("fd00::/64", "x")):
        with pytest.raises(InvalidArgument):
            plan_ipv6_mode(ipaddress.ip_network(network), mode)
