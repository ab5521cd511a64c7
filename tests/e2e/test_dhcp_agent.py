"""A network's dnsmasq (components/network/dhcp.py) answering a DHCPv4 client.

Two namespaces joined by a veth: ``stdh<pid>q`` plays ``qdhcp-<network>``
(dnsmasq on its end), ``stdh<pid>g`` a guest, where a DHCP client written
below sends one DISCOVER and reads the OFFER. Root and ``ip netns`` needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from components.network import dhcp
from components.network.dhcp import DhcpPort, DhcpServer, DhcpSubnet

PREFIX = f"stdh{os.getpid()}"
QDHCP, GUEST = f"{PREFIX}q", f"{PREFIX}g"
TAP, GUEST_IF = f"{PREFIX}t", f"{PREFIX}v"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for ip netns"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2 (ip netns)"),
    pytest.mark.skipif(not os.path.exists(dhcp.DNSMASQ), reason="needs dnsmasq-base"),
]

# One DISCOVER from port 68 with the given chaddr and the broadcast flag; prints
# the OFFER's yiaddr, router (3), DNS (6) and MTU (26, when offered) as JSON, or null
# after the timeout.
CLIENT = r"""
import json, os, socket, struct, sys, time
iface, mac, timeout = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), float(sys.argv[3])
xid = os.urandom(4)
packet = (struct.pack("!BBBB", 1, 1, 6, 0) + xid + struct.pack("!HH", 0, 0x8000)
          + bytes(16) + mac + bytes(10) + bytes(192) + b"\x63\x82\x53\x63"
          + bytes([53, 1, 1, 55, 3, 3, 6, 26, 255]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
s.bind(("0.0.0.0", 68))
s.sendto(packet, ("255.255.255.255", 67))
deadline = time.monotonic() + timeout
result = None
while result is None and (left := deadline - time.monotonic()) > 0:
    s.settimeout(left)
    try:
        data = s.recv(2048)
    except socket.timeout:
        break
    if len(data) < 240 or data[4:8] != xid or data[28:34] != mac:
        continue
    options, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        options[data[i]] = data[i + 2 : i + 2 + data[i + 1]]
        i += 2 + data[i + 1]
    if options.get(53) != b"\x02":
        continue
    quads = lambda raw: [socket.inet_ntoa(raw[j : j + 4]) for j in range(0, len(raw), 4)]
    result = {"yiaddr": socket.inet_ntoa(data[16:20]),
              "router": quads(options.get(3, b"")), "dns": quads(options.get(6, b""))}
    if 26 in options:
        result["mtu"] = struct.unpack("!H", options[26])[0]
print(json.dumps(result))
"""

# One DHCPv6 SOLICIT (DUID-LL of the MAC, one IA_NA) from [link-local]:546; prints
# the ADVERTISE's IA_NA addresses and DNS servers (23) as JSON, or null.
CLIENT6 = r"""
import ipaddress, json, os, socket, struct, sys, time
iface, mac, timeout = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), float(sys.argv[3])
opt = lambda code, data: struct.pack("!HH", code, len(data)) + data
xid = os.urandom(3)
packet = (b"\x01" + xid + opt(1, struct.pack("!HH", 3, 1) + mac) + opt(8, b"\0\0")
          + opt(6, struct.pack("!H", 23)) + opt(3, b"\0\0\0\1" + bytes(8)))
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
s.bind(("::", 546, 0, socket.if_nametoindex(iface)))
def options(data):
    found, i = {}, 0
    while i + 4 <= len(data):
        code, size = struct.unpack("!HH", data[i : i + 4])
        found.setdefault(code, []).append(data[i + 4 : i + 4 + size])
        i += 4 + size
    return found
deadline, sent = time.monotonic() + timeout, 0.0
result = None
while result is None and time.monotonic() < deadline:
    if time.monotonic() - sent > 0.5:  # resend: the link may still be coming up
        s.sendto(packet, ("ff02::1:2", 547, 0, socket.if_nametoindex(iface)))
        sent = time.monotonic()
    s.settimeout(0.2)
    try:
        data = s.recv(2048)
    except socket.timeout:
        continue
    if data[0] != 2 or data[1:4] != xid:
        continue
    top = options(data[4:])
    addrs = [str(ipaddress.IPv6Address(a[:16]))
             for ia in top.get(3, []) for a in options(ia[12:]).get(5, [])]
    dns = [str(ipaddress.IPv6Address(d[j : j + 16]))
           for d in top.get(23, []) for j in range(0, len(d), 16)]
    result = {"addresses": addrs, "dns": dns}
print(json.dumps(result))
"""

# DISCOVER, then REQUEST the offered address from the offering server: the lease
# dnsmasq then holds. Prints the ACK's yiaddr as JSON, or null (no OFFER or no ACK).
CLIENT_LEASE = r"""
import json, os, socket, struct, sys, time
iface, mac, timeout = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), float(sys.argv[3])
xid = os.urandom(4)
def packet(options):
    return (struct.pack("!BBBB", 1, 1, 6, 0) + xid + struct.pack("!HH", 0, 0x8000)
            + bytes(16) + mac + bytes(10) + bytes(192) + b"\x63\x82\x53\x63" + options
            + b"\xff")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
s.bind(("0.0.0.0", 68))
deadline = time.monotonic() + timeout
def answer(kind):
    while (left := deadline - time.monotonic()) > 0:
        s.settimeout(left)
        try:
            data = s.recv(2048)
        except socket.timeout:
            return None
        if len(data) < 240 or data[4:8] != xid or data[28:34] != mac:
            continue
        options, i = {}, 240
        while i < len(data) and data[i] != 255:
            if data[i] == 0:
                i += 1
                continue
            options[data[i]] = data[i + 2 : i + 2 + data[i + 1]]
            i += 2 + data[i + 1]
        if options.get(53) == bytes([kind]):
            return data[16:20], options.get(54, b"")
    return None
s.sendto(packet(bytes([53, 1, 1])), ("255.255.255.255", 67))
offer = answer(2)
result = None
if offer is not None:
    yiaddr, server = offer
    s.sendto(packet(bytes([53, 1, 3, 50, 4]) + yiaddr + bytes([54, 4]) + server),
             ("255.255.255.255", 67))
    ack = answer(5)
    result = None if ack is None else socket.inet_ntoa(ack[0])
print(json.dumps(result))
"""

NET = str(uuid.uuid4())
S1 = DhcpSubnet(
    str(uuid.uuid4()),
    "10.91.0.0/24",
    "10.91.0.2",
    "10.91.0.1",
    ("10.91.0.53", "10.91.0.54"),
    mtu=1450,
)
S2 = DhcpSubnet(str(uuid.uuid4()), "10.92.0.0/24", "10.92.0.2", "10.92.0.1", ("10.92.0.53",))
MAC_A, MAC_B, MAC_C = "fa:16:3e:00:00:0a", "fa:16:3e:00:00:0b", "fa:16:3e:00:00:0c"
PORT_A = DhcpPort(MAC_A, ((S1.id, "10.91.0.10"),))
PORT_B = DhcpPort(MAC_B, ((S2.id, "10.92.0.20"),))
PORT_C = DhcpPort(MAC_C, ((S1.id, "10.91.0.30"),))


def _sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=10, check=check)


def _cleanup() -> None:
    """Stop the dnsmasqs and remove the namespaces and dirs of this and earlier (crashed) runs."""
    for pid_file in Path(tempfile.gettempdir()).glob("stdh*/dhcp/dnsmasq.pid"):
        dhcp.stop_stale(pid_file)
    for base in Path(tempfile.gettempdir()).glob("stdh*"):
        if (base / "dhcp").is_dir():
            shutil.rmtree(base, ignore_errors=True)
    listed = _sh("ip", "-j", "netns", "list", check=False).stdout.strip()
    for entry in json.loads(listed or "[]"):
        if entry["name"].startswith("stdh"):
            _sh("ip", "netns", "delete", entry["name"], check=False)


@pytest.fixture
def namespaces():
    _cleanup()
    try:
        for ns in (QDHCP, GUEST):
            _sh("ip", "netns", "add", ns)
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
            # No duplicate address detection: link-local addresses usable at once.
            _sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0")
        _sh(
            "ip",
            "-n",
            QDHCP,
            "link",
            "add",
            TAP,
            "type",
            "veth",
            "peer",
            "name",
            GUEST_IF,
            "netns",
            GUEST,
        )
        _sh("ip", "-n", GUEST, "link", "set", GUEST_IF, "up")
        yield
    finally:
        _cleanup()


@pytest.fixture
def data_dir():
    """A data dir whose parents dnsmasq can search after dropping root (tmp_path's cannot)."""
    base = tempfile.mkdtemp(prefix=PREFIX)
    os.chmod(base, 0o711)
    yield Path(base) / "dhcp"
    shutil.rmtree(base, ignore_errors=True)


def _discover(tmp_path, mac: str, timeout: float = 3.0, client: str = CLIENT) -> dict | None:
    script = tmp_path / "client.py"
    script.write_text(client)
    out = subprocess.run(
        ["ip", "netns", "exec", GUEST, sys.executable, str(script), GUEST_IF, mac, str(timeout)],
        capture_output=True,
        text=True,
        timeout=timeout + 10,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_dnsmasq_offers_only_the_ports_addresses(namespaces, data_dir, tmp_path):
    server = DhcpServer(NET, data_dir, namespace=QDHCP, interface=TAP)
    server.write([S1, S2], [PORT_A, PORT_B])
    assert server.hosts_file.read_text() == f"{MAC_A},10.91.0.10\n{MAC_B},10.92.0.20\n"
    assert (server.data_dir.stat().st_mode & 0o777) == 0o700
    assert (server.hosts_file.stat().st_mode & 0o777) == 0o600
    server.start()
    try:
        pid = server.process.pid
        assert int(server.pid_file.read_text()) == pid

        assert _discover(tmp_path, MAC_A) == {
            "yiaddr": "10.91.0.10",
            "router": ["10.91.0.1"],
            "dns": ["10.91.0.53", "10.91.0.54"],
            "mtu": 1450,  # the network's: what its VXLAN segment carries
        }
        assert _discover(tmp_path, MAC_B) == {
            "yiaddr": "10.92.0.20",
            "router": ["10.92.0.1"],
            "dns": ["10.92.0.53"],
        }
        assert _discover(tmp_path, MAC_C, timeout=1.5) is None  # no dynamic pool

        server.write([S1, S2], [PORT_A, PORT_B, PORT_C])
        server.reload()
        offer = None
        for _ in range(5):  # SIGHUP is asynchronous: a few tries, bounded
            offer = _discover(tmp_path, MAC_C, timeout=1.0)
            if offer:
                break
        assert offer == {
            "yiaddr": "10.91.0.30",
            "router": ["10.91.0.1"],
            "dns": ["10.91.0.53", "10.91.0.54"],
            "mtu": 1450,
        }
    finally:
        server.stop()
    assert not server.running()
    assert not os.path.exists(f"/proc/{pid}") or _state(pid) == "Z"
    assert not server.pid_file.exists()


def test_start_stops_a_stale_dnsmasq(namespaces, data_dir, tmp_path):
    first = DhcpServer(NET, data_dir, namespace=QDHCP, interface=TAP)
    first.write([S1], [PORT_A])
    first.start()
    stale = first.process.pid
    try:
        second = DhcpServer(NET, data_dir, namespace=QDHCP, interface=TAP)
        second.write([S1], [PORT_A])
        second.start()  # as after a crash of the process that started the first
        try:
            first.process.wait(5)
            assert second.process.pid != stale
            assert _discover(tmp_path, MAC_A)["yiaddr"] == "10.91.0.10"
        finally:
            second.stop()
    finally:
        first.stop()


def test_dhcpv6_stateful_gives_the_ports_address(namespaces, data_dir, tmp_path):
    s6 = DhcpSubnet(str(uuid.uuid4()), "fd91::/64", "fd91::2", "fd91::1", ("fd91::53",))
    port = DhcpPort(MAC_A, ((S1.id, "10.91.0.10"), (s6.id, "fd91::10")))
    # dnsmasq takes a DHCPv6 client's MAC from the link (its neighbour table).
    _sh("ip", "-n", GUEST, "link", "set", GUEST_IF, "address", MAC_A)
    server = DhcpServer(NET, data_dir, namespace=QDHCP, interface=TAP)
    server.write([S1, s6], [port])
    assert server.hosts_file.read_text() == f"{MAC_A},10.91.0.10\n{MAC_A},[fd91::10]\n"
    server.start()
    try:
        offer = _discover(tmp_path, MAC_A, timeout=5.0, client=CLIENT6)
        assert offer == {"addresses": ["fd91::10"], "dns": ["fd91::53"]}
        assert _discover(tmp_path, MAC_A)["yiaddr"] == "10.91.0.10"
        # The router advertisement carries the network's MTU; the guest's kernel takes it.
        mtu_file = f"/proc/sys/net/ipv6/conf/{GUEST_IF}/mtu"
        deadline, mtu = time.monotonic() + 10, ""
        while time.monotonic() < deadline and mtu != "1450":
            mtu = _sh("ip", "netns", "exec", GUEST, "cat", mtu_file).stdout.strip()
            time.sleep(0.2)
        assert mtu == "1450"
    finally:
        server.stop()


@pytest.mark.parametrize("mode", ["dhcpv6-stateless", "slaac"])
def test_dnsmasq_accepts_the_other_v6_modes(namespaces, data_dir, mode):
    s6 = DhcpSubnet(str(uuid.uuid4()), "fd92::/64", "fd92::2", "fd92::1", ("fd92::53",), mode)
    server = DhcpServer(NET, data_dir, namespace=QDHCP, interface=TAP)
    server.write([s6], [DhcpPort(MAC_A, ((s6.id, "fd92::10"),))])
    assert server.hosts_file.read_text() == ""
    server.start()
    try:
        time.sleep(0.3)
        assert server.running(), server.log_file.read_text()
    finally:
        server.stop()


@pytest.mark.skipif(shutil.which("dhcp_release") is None, reason="needs dnsmasq-utils")
def test_a_lease_of_an_address_now_another_macs_is_released(namespaces, data_dir, tmp_path):
    _sh("ip", "-n", GUEST, "link", "set", GUEST_IF, "address", MAC_A)
    server = DhcpServer(NET, data_dir, namespace=QDHCP, interface=TAP)
    server.write([S1], [PORT_A])
    server.start()
    try:
        assert _discover(tmp_path, MAC_A, client=CLIENT_LEASE) == "10.91.0.10"
        assert server.release_unused() == []  # PORT_A's lease is a host entry
        held = dhcp.dhcp_leases.read(server.lease_file)
        assert [(lease.mac, lease.ip) for lease in held] == [(MAC_A, "10.91.0.10")]

        # The address is now MAC_C's; a restart keeps the lease file, and MAC_A's lease.
        moved = DhcpPort(MAC_C, ((S1.id, "10.91.0.10"),))
        server.write([S1], [moved])
        server.start()
        _sh("ip", "-n", GUEST, "link", "set", GUEST_IF, "address", MAC_C)
        assert _discover(tmp_path, MAC_C, timeout=1.5) is None  # dnsmasq refuses it
        released = server.release_unused()
        assert [(lease.mac, lease.ip) for lease in released] == [(MAC_A, "10.91.0.10")]
        assert dhcp.dhcp_leases.read(server.lease_file) == []
        assert _discover(tmp_path, MAC_C, client=CLIENT_LEASE) == "10.91.0.10"
    finally:
        server.stop()


def _state(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""
