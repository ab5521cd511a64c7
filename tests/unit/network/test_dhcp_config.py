"""The dnsmasq arguments and files components/network/dhcp.py makes for a network."""

import pytest

from components.network.dhcp import (
    DhcpPort,
    DhcpServer,
    DhcpSubnet,
    hosts_lines,
    opts_lines,
    range_args,
)

V4 = DhcpSubnet("s4", "10.0.0.0/24", "10.0.0.2", "10.0.0.1", ("10.0.0.53",))
MAC = "fa:16:3e:00:00:01"


def v6(mode: str) -> DhcpSubnet:
    return DhcpSubnet("s6", "fd00::/64", "fd00::2", "fd00::1", ("fd00::53", "fd00::54"), mode)


def test_v4_range_is_static_with_netmask():
    assert range_args([V4], "tap0") == [
        "--dhcp-range=set:subnet-s4,10.0.0.0,static,255.255.255.0,86400s"
    ]


@pytest.mark.parametrize(
    "mode, dnsmasq_mode, in_hosts",
    [
        ("dhcpv6-stateful", "static", True),
        ("dhcpv6-stateless", "ra-stateless", False),
        ("slaac", "slaac", False),
    ],
)
def test_v6_range_follows_the_address_mode(mode, dnsmasq_mode, in_hosts):
    subnet = v6(mode)
    assert range_args([subnet], "tap0") == [
        f"--dhcp-range=set:subnet-s6,fd00::,{dnsmasq_mode},64,86400s",
        "--enable-ra",
        "--ra-param=tap0,0,0",
    ]
    port = DhcpPort(MAC, (("s6", "fd00::10"),))
    assert hosts_lines([subnet], [port]) == ([f"{MAC},[fd00::10]"] if in_hosts else [])
    assert opts_lines([subnet]) == ["tag:subnet-s6,option6:dns-server,[fd00::53],[fd00::54]"]


def test_the_network_mtu_is_offered_as_option_26_and_in_the_router_advertisement():
    v4 = DhcpSubnet("s4", "10.0.0.0/24", "10.0.0.2", "10.0.0.1", mtu=1450)
    assert opts_lines([v4]) == [
        "tag:subnet-s4,option:router,10.0.0.1",
        "tag:subnet-s4,option:mtu,1450",
    ]
    v6_ = DhcpSubnet("s6", "fd00::/64", "fd00::2", mtu=1450)
    assert range_args([v4, v6_], "ns-0")[-1] == "--ra-param=ns-0,mtu:1450,0,0"
    assert opts_lines([v6_]) == []


def test_unknown_v6_mode_is_refused():
    with pytest.raises(ValueError):
        range_args([v6("bogus")], "tap0")


def test_hosts_per_fixed_ip_and_opts_per_subnet():
    port = DhcpPort(MAC, (("s4", "10.0.0.10"), ("s6", "fd00::10"), ("other", "10.9.9.9")))
    subnets = [V4, v6("dhcpv6-stateful")]
    assert hosts_lines(subnets, [port]) == [f"{MAC},10.0.0.10", f"{MAC},[fd00::10]"]
    assert opts_lines([V4])[:2] == [
        "tag:subnet-s4,option:router,10.0.0.1",
        "tag:subnet-s4,option:dns-server,10.0.0.53",
    ]
    no_gateway = DhcpSubnet("n", "10.1.0.0/24", "10.1.0.2")
    assert opts_lines([no_gateway]) == ["tag:subnet-n,option:router"]


def test_command_line(tmp_path):
    server = DhcpServer("net", tmp_path / "d", interface="tap0")
    assert server.namespace == "qdhcp-net"
    server.subnets = (V4,)
    command = server.command()
    for arg in (
        "-k",
        "--conf-file=/dev/null",
        "--no-hosts",
        "--no-resolv",
        f"--dhcp-leasefile={server.lease_file}",
        "--bind-interfaces",
        "--interface=tap0",
        f"--pid-file={server.pid_file}",
        f"--dhcp-hostsfile={server.hosts_file}",
        f"--dhcp-optsfile={server.opts_file}",
    ):
        assert arg in command
    assert "--enable-ra" not in command
    assert "--leasefile-ro" not in command  # the agent reads the leases to release them
