"""Tenant networks across two hosts over VXLAN, on real network namespaces.

The layout, every namespace named ``stvx<pid>-*``::

    stvx<pid>-u:   bridge "sw" ── h1 ── h2            (the underlay switch)
    stvx<pid>-h1:  eth0 10.252.T.1/24, brq<net-a> (vxlan-<A>, tapg1), brq<net-b> (vxlan-<B>, tapg3)
    stvx<pid>-h2:  eth0 10.252.T.2/24, brq<net-a> (vxlan-<A>, tapg2), brq<net-b> (vxlan-<B>, tapg4)
    stvx<pid>-gN:  eth0 192.168.77.N/24, the other end of tapgN (a guest)

Network a (VNI A) joins g1 and g2, network b (VNI B) joins g3 and g4, in the
same CIDR. Reachability is a TCP connect to a listener in the guest (no
``ping`` on this machine); traffic stays inside these namespaces.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys

import pytest

from components.network.vxlan import Managed, VxlanError, VxlanHost
from tests import vxlan_namespaces

PID = os.getpid()
PREFIX = f"stvx{PID}"
PORT = 17100  # inside the test's own namespaces only
NET_A, VNI_A = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", 4100 + PID % 1000
NET_B, VNI_B = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", 5100 + PID % 1000
# guest number: (its host, its network, the network's VNI)
GUESTS = {
    1: ("h1", NET_A, VNI_A),
    2: ("h2", NET_A, VNI_A),
    3: ("h1", NET_B, VNI_B),
    4: ("h2", NET_B, VNI_B),
}
LISTEN = (
    "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    f"s.bind(('', {PORT})); s.listen(16); print('ready', flush=True)\n"
    "while True: s.accept()[0].close()"
)
CONNECT = (
    "import socket, sys\nsocket.create_connection((sys.argv[1], {port}), timeout={timeout}).close()"
)


def _why_not() -> str | None:
    return vxlan_namespaces.why_not("stvx", "VXLAN between namespaces needs root")


WHY_NOT = _why_not()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def ns(name: str) -> str:
    return f"{PREFIX}-{name}"


def ours() -> list[str]:
    """Namespaces of this run, and of earlier runs whose process is gone (a crash)."""
    return vxlan_namespaces.ours("stvx")


def clean() -> None:
    vxlan_namespaces.clean("stvx")


def free_subnet() -> ipaddress.IPv4Network:
    """``10.252.<pid % 200>.0/24``, or the next one the root namespace does not route."""
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True, timeout=10)
    routed = [
        ipaddress.ip_network(line.split()[0], strict=False)
        for line in routes.stdout.splitlines()
        if line.split()[0] != "default"
    ]
    for step in range(200):
        subnet = ipaddress.IPv4Network(f"10.252.{(PID + step) % 200}.0/24")
        if not any(subnet.overlaps(route) for route in routed):
            return subnet
    pytest.skip("no free /24 in 10.252.0.0/16")


@pytest.fixture
def rack():
    """The underlay, two hosts and four guests; returns the hosts' VxlanHost by name."""
    clean()
    subnet = free_subnet()
    try:
        for name in ("u", "h1", "h2", "g1", "g2", "g3", "g4"):
            ip("netns", "add", ns(name))
        ip("-n", ns("u"), "link", "add", "sw", "type", "bridge")
        ip("-n", ns("u"), "link", "set", "sw", "up")
        hosts = {}
        for n, host in enumerate(("h1", "h2"), start=1):
            underlay, machine = ns("u"), ns(host)
            ip(
                "-n",
                underlay,
                "link",
                "add",
                host,
                "type",
                "veth",
                "peer",
                "eth0",
                "netns",
                machine,
            )
            ip("-n", ns("u"), "link", "set", host, "master", "sw", "up")
            ip("-n", ns(host), "addr", "add", f"{subnet[n]}/24", "dev", "eth0")
            ip("-n", ns(host), "link", "set", "eth0", "up")
            hosts[host] = VxlanHost("eth0", str(subnet[n]), netns=ns(host))
        for n, (host, _, _) in GUESTS.items():
            guest = ns(f"g{n}")
            tap = f"tapg{n}"
            ip("-n", ns(host), "link", "add", tap, "type", "veth", "peer", "eth0", "netns", guest)
            ip("-n", guest, "addr", "add", f"192.168.77.{n}/24", "dev", "eth0")
            ip("-n", guest, "link", "set", "eth0", "mtu", "1450", "up")
        yield hosts
    finally:
        clean()
        assert not [n for n in ours() if n.startswith(f"{PREFIX}-")]


def listen(guest: int) -> subprocess.Popen:
    """A TCP listener in the guest; it ends with the guest's namespace."""
    command = ["ip", "netns", "exec", ns(f"g{guest}"), sys.executable, "-c", LISTEN]
    listener = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert listener.stdout.readline() == "ready\n"
    return listener


def reaches(source: int, target: int, timeout: float = 2.0) -> bool:
    code = CONNECT.format(port=PORT, timeout=timeout)
    command = ["ip", "netns", "exec", ns(f"g{source}"), sys.executable, "-c", code]
    command.append(f"192.168.77.{target}")
    return subprocess.run(command, capture_output=True, timeout=timeout + 10).returncode == 0


def wire(hosts: dict[str, VxlanHost]) -> None:
    """Plug every guest and flood each network to the other host."""
    for n, (host, network, vni) in GUESTS.items():
        hosts[host].plug(network, vni, f"tapg{n}")
    for host, other in (("h1", "h2"), ("h2", "h1")):
        for network, vni in ((NET_A, VNI_A), (NET_B, VNI_B)):
            hosts[host].set_peers(network, vni, {hosts[other].local_ip, hosts[host].local_ip})


def recording(host: VxlanHost) -> list[tuple[str, ...]]:
    """Every command ``host`` runs from now on."""
    calls: list[tuple[str, ...]] = []
    run = host._run

    def record(tool: str, *args: str) -> str:
        calls.append((tool, *args))
        return run(tool, *args)

    host._run = record
    return calls


def test_guests_on_one_network_reach_each_other_across_hosts_and_no_one_else(rack):
    hosts = rack
    listeners = [listen(n) for n in GUESTS]
    # Left by an older configuration (learning, no underlay device): made again.
    stale = f"vxlan-{VNI_A}"
    ip("-n", ns("h1"), "link", "add", stale, "type", "vxlan", "id", str(VNI_A), "dstport", "4789")
    try:
        wire(hosts)
        details = subprocess.run(
            ["ip", "-n", ns("h1"), "-d", "link", "show", stale],
            capture_output=True, text=True, timeout=10,
        ).stdout  # fmt: skip
        assert "dev eth0" in details and "nolearning" in details and "mtu 1450" in details
        h1, h2 = hosts["h1"], hosts["h2"]
        assert h1.list() == Managed(
            bridges=frozenset({"brq0a1b2c3d-4e", "brq5e6f7a8b-9c"}),
            vxlans=frozenset({f"vxlan-{VNI_A}", f"vxlan-{VNI_B}"}),
            flood_entries=frozenset(
                {(f"vxlan-{VNI_A}", h2.local_ip), (f"vxlan-{VNI_B}", h2.local_ip)}
            ),
        )

        assert reaches(1, 2) and reaches(2, 1)
        assert reaches(3, 4)
        # Same CIDR, other VNI: nothing crosses between the networks.
        assert not reaches(3, 1, timeout=0.5) and not reaches(3, 2, timeout=0.5)

        # A host reapplying everything changes nothing.
        calls = recording(h1)
        wire(hosts)
        assert calls and all("show" in call for call in calls), calls

        # h1 floods to no one on network a: g1's packets to g2 stay on h1.
        h1.set_peers(NET_A, VNI_A, set())
        assert (f"vxlan-{VNI_A}", h2.local_ip) not in h1.list().flood_entries
        assert not reaches(1, 2, timeout=0.5)
        h1.set_peers(NET_A, VNI_A, {h2.local_ip})
        assert reaches(1, 2)

        # A bridge with a guest on it stays; the last guest off takes it away.
        assert h1.remove_if_unused(NET_A, VNI_A) is False
        h1.unplug("tapg1")
        h1.unplug("tapg1")
        assert h1.remove_if_unused(NET_A, VNI_A) is True
        assert h1.remove_if_unused(NET_A, VNI_A) is True
        assert h1.list().vxlans == {f"vxlan-{VNI_B}"}
        for host, guests in (("h1", (3,)), ("h2", (2, 4))):
            for n in guests:
                _, network, vni = GUESTS[n]
                hosts[host].unplug(f"tapg{n}")
                assert hosts[host].remove_if_unused(network, vni)
            assert hosts[host].list().empty(), hosts[host].list()
    finally:
        for listener in listeners:
            listener.kill()
            listener.wait(10)


def test_a_failing_command_is_named_with_its_stderr():
    host = VxlanHost("eth0", "10.252.0.1", netns=f"{PREFIX}-missing")
    with pytest.raises(VxlanError) as caught:
        host.list()
    assert f"ip -netns {PREFIX}-missing -j -d link show" in str(caught.value)
    assert caught.value.stderr and caught.value.stderr in str(caught.value)
