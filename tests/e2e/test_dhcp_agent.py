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
# the OFFER's yiaddr, router (3) and DNS (6) as JSON, or null after the timeout.
CLIENT = r"""
import json, os, socket, struct, sys, time
iface, mac, timeout = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), float(sys.argv[3])
xid = os.urandom(4)
packet = (struct.pack("!BBBB", 1, 1, 6, 0) + xid + struct.pack("!HH", 0, 0x8000)
          + bytes(16) + mac + bytes(10) + bytes(192) + b"\x63\x82\x53\x63"
          + bytes([53, 1, 1, 55, 2, 3, 6, 255]))
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
print(json.dumps(result))
"""

NET = str(uuid.uuid4())
S1 = DhcpSubnet(
    str(uuid.uuid4()), "10.91.0.0/24", "10.91.0.2", "10.91.0.1", ("10.91.0.53", "10.91.0.54")
)
S2 = DhcpSubnet(str(uuid.uuid4()), "10.92.0.0/24", "10.92.0.2", "10.92.0.1", ("10.92.0.53",))
MAC_A, MAC_B, MAC_C = "fa:16:3e:00:00:0a", "fa:16:3e:00:00:0b", "fa:16:3e:00:00:0c"
PORT_A = DhcpPort(MAC_A, ((S1.id, "10.91.0.10"),))
PORT_B = DhcpPort(MAC_B, ((S2.id, "10.92.0.20"),))
PORT_C = DhcpPort(MAC_C, ((S1.id, "10.91.0.30"),))


def _sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=10, check=check)


def _cleanup() -> None:
    """Remove every namespace of this and earlier (crashed) runs; veths go with them."""
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


def _discover(tmp_path, mac: str, timeout: float = 3.0) -> dict | None:
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    out = subprocess.run(
        ["ip", "netns", "exec", GUEST, sys.executable, str(script), GUEST_IF, mac, str(timeout)],
        capture_output=True,
        text=True,
        timeout=timeout + 10,
        check=True,
    )
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


def _state(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""
