"""What the DHCP agent wants for a network, from its rows (components/network/dhcp_plan.py)."""

import ipaddress

from components.network.dhcp import DhcpPort, DhcpSubnet
from components.network.dhcp_plan import plan
from components.network.models import Network, Port, Subnet

NET = "11111111-2222-4333-8444-555555555555"
DHCP = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
USER = "99999999-8888-4777-8666-555555555555"


def network(up: bool = True) -> Network:
    return Network(id=NET, segmentation_id=77, mtu=1450, admin_state_up=up)


def subnet(id: str, cidr: str, dhcp: bool = True, mode: str = "", dns=()) -> Subnet:
    gateway = str(ipaddress.ip_network(cidr).network_address + 1)
    return Subnet(
        id=id,
        network=NET,
        cidr=cidr,
        gateway_ip=gateway,
        dns_nameservers=list(dns),
        enable_dhcp=dhcp,
        ipv6_address_mode=mode,
    )


def port(id: str, mac: str, fixed_ips, owner: str = "") -> Port:
    row = Port(id=id, network=NET, mac_address=mac, device_owner=owner)
    row.fixed_ips = list(fixed_ips)
    return row


V4 = subnet("s4", "10.0.0.0/24", dns=("10.0.0.53",))
V6 = subnet("s6", "fd00::/64", mode="slaac")
OFF = subnet("off", "10.9.0.0/24", dhcp=False)
OWN = port(
    DHCP,
    "fa:16:3e:00:00:02",
    [("s4", "10.0.0.2"), ("s6", "fd00::f816:3eff:fe00:2")],
    "network:dhcp",
)
GUEST = port(USER, "fa:16:3e:00:00:09", [("s4", "10.0.0.9"), ("off", "10.9.0.9")])
ENDPOINTS = [("compute-1", "10.250.0.11"), ("network", "10.250.0.2")]


def test_the_plan_serves_every_dhcp_subnet_and_every_other_port():
    got = plan(network(), [V4, V6, OFF], [OWN, GUEST], DHCP, ENDPOINTS, "10.250.0.2")
    assert got.vni == 77 and got.peers == {"10.250.0.11"}
    assert (got.namespace, got.tap, got.interface) == (
        f"qdhcp-{NET}",
        "tapaaaaaaaa-bb",
        "ns-aaaaaaaa-bb",
    )
    assert got.mac_address == "fa:16:3e:00:00:02"
    assert got.subnets == (
        # The network's MTU goes with every subnet (DHCP option 26, the RA).
        DhcpSubnet(
            "s4", "10.0.0.0/24", "10.0.0.2", "10.0.0.1", ("10.0.0.53",), "dhcpv6-stateful", 1450
        ),
        DhcpSubnet("s6", "fd00::/64", "fd00::f816:3eff:fe00:2", "fd00::1", (), "slaac", 1450),
    )
    assert got.addresses == ("10.0.0.2/24", "fd00::f816:3eff:fe00:2/64")
    # The DHCP port itself is no host entry; addresses on subnets without DHCP are left out.
    assert got.ports == (DhcpPort("fa:16:3e:00:00:09", (("s4", "10.0.0.9"),)),)


def test_no_plan_without_dhcp_port_dhcp_subnet_or_when_down():
    assert plan(network(), [V4], [GUEST], DHCP, ENDPOINTS, "10.250.0.2") is None
    assert plan(network(False), [V4], [OWN, GUEST], DHCP, ENDPOINTS, "10.250.0.2") is None
    assert plan(network(), [OFF], [OWN], DHCP, ENDPOINTS, "10.250.0.2") is None


def test_ports_without_served_addresses_get_no_entry():
    only_off = port(USER, "fa:16:3e:00:00:09", [("off", "10.9.0.9")])
    got = plan(network(), [V4, OFF], [OWN, only_off], DHCP, [], "10.250.0.2")
    assert got.ports == () and got.peers == frozenset()
