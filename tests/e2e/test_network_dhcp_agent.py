"""The network service's DHCP agent (dhcp_driver = "dnsmasq") as a real process.

The service runs beside a real identity, with its bridges in a namespace made
here (``stnd<pid>b``, underlay a dummy device), as a single-machine run puts
them in the guests' namespace. A guest namespace (``stnd<pid>g``) is plugged
into a network's bridge and asks for an address with the DHCP clients of
tests/e2e/test_dhcp_agent.py. Root, iproute2, dnsmasq and VXLAN needed.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from components.framework.auth import TOKEN_HEADER
from components.network import dhcp, dhcp_agent
from components.network.vxlan import bridge_name
from stratus.network.v1 import network_service_pb2 as pb2
from stratus.network.v1 import network_service_pb2_grpc as pb2_grpc
from tests.e2e import lone
from tests.e2e.test_dhcp_agent import CLIENT, CLIENT6, CLIENT_LEASE

pytestmark = pytest.mark.e2e
PREFIX = f"stnd{os.getpid()}"
BRIDGES, GUEST = f"{PREFIX}b", f"{PREFIX}g"
GUEST_IF, GUEST_TAP = "gv", f"{PREFIX}t"
UNDERLAY, TUNNEL_IP = "ul", "10.249.17.2"


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "the DHCP agent needs root (namespaces, dnsmasq)"
    if shutil.which("ip") is None or shutil.which("bridge") is None:
        return "ip and bridge (iproute2) are not installed"
    if not os.path.exists(dhcp.DNSMASQ):
        return "needs dnsmasq-base"
    probe = f"{PREFIX}p"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "network namespaces cannot be created here"
    made = subprocess.run(
        ["ip", "-n", probe, "link", "add", "v", "type", "vxlan", "id", "1", "dstport", "4789"],
        capture_output=True,
    )
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None if made.returncode == 0 else "this kernel cannot make VXLAN interfaces"


WHY_NOT = _why_not()
pytestmark = [pytestmark, pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))]


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=20, check=check)


def namespaces() -> set[str]:
    return {e["name"] for e in json.loads(sh("ip", "-j", "netns", "list").stdout or "[]")}


def links(netns: str) -> dict[str, dict]:
    listed = json.loads(sh("ip", "-n", netns, "-j", "link", "show").stdout or "[]")
    return {link["ifname"]: link for link in listed}


def clean_namespaces() -> None:
    """This and earlier (crashed) runs' namespaces."""
    for name in namespaces():
        if name.startswith("stnd"):
            sh("ip", "netns", "delete", name, check=False)


def wait_until(predicate, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    """(demo token, environment for another component)."""
    with lone.identity(tmp_path_factory.mktemp("stnd")) as found:
        yield found


@pytest.fixture
def rack():
    """The bridges' namespace with its underlay device, and the guest's namespace."""
    clean_namespaces()
    try:
        for name in (BRIDGES, GUEST):
            sh("ip", "netns", "add", name)
            sh("ip", "-n", name, "link", "set", "lo", "up")
            sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0")
        sh("ip", "-n", BRIDGES, "link", "add", UNDERLAY, "type", "veth", "peer", "name", "ulp")
        sh("ip", "-n", BRIDGES, "link", "set", "ulp", "up")
        sh("ip", "-n", BRIDGES, "addr", "add", f"{TUNNEL_IP}/24", "dev", UNDERLAY)
        sh("ip", "-n", BRIDGES, "link", "set", UNDERLAY, "up")
        yield
    finally:
        clean_namespaces()


class Network:
    """The network service process and a stub with the demo token."""

    def __init__(self, process: subprocess.Popen, token: str, data_dir: Path) -> None:
        self.process = process
        self.data_dir = data_dir
        self.channel = grpc.insecure_channel(process.address)
        self.stub = pb2_grpc.NetworkStub(self.channel)
        self.md = ((TOKEN_HEADER, token),)

    def __call__(self, rpc: str, **fields):
        request = getattr(pb2, f"{rpc}Request")(**fields)
        return getattr(self.stub, rpc)(request, metadata=self.md, timeout=60)

    def files(self, network_id: str) -> Path:
        return dhcp_agent.files_root(self.data_dir) / network_id


@pytest.fixture
def service(identity, rack, tmp_path):
    """The network service with dhcp_driver = dnsmasq; everything it made is gone after."""
    token, env = identity
    data = tmp_path / "network"  # private (0700), as run-all's data dirs are
    shutil.copytree(Path(env["STRATUS_DATA_DIR"]) / "secrets", data / "secrets")
    env = env | {
        "STRATUS_DATA_DIR": str(data),
        "STRATUS_NETWORK_DHCP_DRIVER": "dnsmasq",
        "STRATUS_NETWORK_DHCP_TUNNEL_IP": TUNNEL_IP,
        "STRATUS_NETWORK_DHCP_UNDERLAY_DEVICE": UNDERLAY,
        "STRATUS_NETWORK_DHCP_BRIDGE_NAMESPACE": BRIDGES,
        "STRATUS_NETWORK_DHCP_RESYNC_SECONDS": "2",
    }
    try:
        with lone.started("components.network", env, tmp_path / "network.log") as process:
            yield Network(process, token, data)
    finally:
        dhcp_agent.clean_leftovers(data)


def discover(tmp_path: Path, mac: str, client: str = CLIENT, tries: int = 5) -> dict | None:
    """The guest's DHCP answer for ``mac`` (a few tries: SIGHUP and links are asynchronous)."""
    script = tmp_path / "client.py"
    script.write_text(client)
    command = ["ip", "netns", "exec", GUEST, sys.executable, str(script), GUEST_IF, mac, "2"]
    for _ in range(tries):
        out = subprocess.run(command, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        if (answer := json.loads(out.stdout)) is not None:
            return answer
    return None


def plug_guest(network_id: str, mac: str) -> None:
    sh("ip", "-n", BRIDGES, "link", "add", GUEST_TAP, "type", "veth", "peer", "name", GUEST_IF,
       "netns", GUEST)  # fmt: skip
    sh("ip", "-n", BRIDGES, "link", "set", GUEST_TAP, "master", bridge_name(network_id), "up")
    sh("ip", "-n", GUEST, "link", "set", GUEST_IF, "address", mac, "up")


def dnsmasq_pid(service: Network, network_id: str) -> int | None:
    pid_file = service.files(network_id) / "dnsmasq.pid"
    pid = dhcp.daemons.read_pid(pid_file)
    if pid is not None and dhcp.daemons.runs(pid, "dnsmasq", f"--pid-file={pid_file}"):
        return pid
    return None


def uid_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def test_the_agent_serves_the_ports_and_removes_everything_with_the_network(service, tmp_path):
    api = service
    network = api("CreateNetwork", name=f"{PREFIX}-net")
    qdhcp = f"qdhcp-{network.id}"
    api("CreateSubnet", network_id=network.id, cidr="10.93.0.0/24",
        dns_nameservers=["10.93.0.53"])  # fmt: skip
    v6 = api("CreateSubnet", network_id=network.id, cidr="fd93::/64")
    assert v6.ipv6_address_mode == "dhcpv6-stateful"
    a = api("CreatePort", network_id=network.id, name="a")
    b = api("CreatePort", network_id=network.id, name="b")
    assert [ip.ip_address for ip in a.fixed_ips] == ["10.93.0.3", "fd93::3"]  # .2: the DHCP port

    assert qdhcp in namespaces()
    pid = dnsmasq_pid(api, network.id)
    assert pid is not None and uid_of(pid) == pwd.getpwnam("nobody").pw_uid
    hosts = api.files(network.id) / "host"

    def entries() -> list[str]:
        return hosts.read_text().splitlines()

    expected = [
        f"{a.mac_address},10.93.0.3",
        f"{a.mac_address},[fd93::3]",
        f"{b.mac_address},10.93.0.4",
        f"{b.mac_address},[fd93::4]",
    ]
    assert entries() == expected
    dhcp_port_id = next(
        p.id
        for p in api("ListPorts", network_id=network.id).ports
        if p.device_owner == "network:dhcp"
    )
    bridge = bridge_name(network.id)
    assert links(BRIDGES)[f"tap{dhcp_port_id[:11]}"]["master"] == bridge
    inside = links(qdhcp)[f"ns-{dhcp_port_id[:11]}"]
    assert "UP" in inside["flags"]

    plug_guest(network.id, a.mac_address)
    answer = discover(tmp_path, a.mac_address)
    assert answer == {
        "yiaddr": "10.93.0.3",
        "router": ["10.93.0.1"],
        "dns": ["10.93.0.53"],
        "mtu": 1450,  # the network's, by default what VXLAN over a 1500-byte underlay carries
    }
    answer6 = discover(tmp_path, a.mac_address, CLIENT6)
    assert answer6 is not None and answer6["addresses"] == ["fd93::3"]

    api("DeletePort", port_id=b.id)
    assert entries() == expected[:2]
    assert dnsmasq_pid(api, network.id) == pid  # SIGHUP, no restart
    assert discover(tmp_path, b.mac_address, tries=1) is None

    sh("ip", "-n", BRIDGES, "link", "del", GUEST_TAP)
    api("DeletePort", port_id=a.id)
    api("DeleteNetwork", network_id=network.id)
    assert qdhcp not in namespaces()
    assert not os.path.exists(f"/proc/{pid}") or dhcp.daemons.wait_gone(pid, 5)
    left = links(BRIDGES)
    assert bridge not in left and f"tap{dhcp_port_id[:11]}" not in left
    assert not any(name.startswith("vxlan-") for name in left)
    assert not api.files(network.id).exists()
    assert not (api.data_dir / "dhcp" / network.id).exists()


def test_stopping_the_service_leaves_nothing_and_a_restart_serves_again(service, tmp_path):
    api = service
    network = api("CreateNetwork")
    api("CreateSubnet", network_id=network.id, cidr="10.94.0.0/24")
    api("CreatePort", network_id=network.id)
    pid = dnsmasq_pid(api, network.id)
    assert pid is not None and f"qdhcp-{network.id}" in namespaces()
    api.process.send_signal(signal.SIGTERM)
    api.process.wait(30)
    assert dhcp.daemons.wait_gone(pid, 5)
    assert f"qdhcp-{network.id}" not in namespaces()
    assert not any(n.startswith(("brq", "vxlan-", "tap")) for n in links(BRIDGES))
    assert not dhcp_agent.files_root(api.data_dir).exists()


def test_clean_leftovers_after_a_kill(service, tmp_path):
    api = service
    network = api("CreateNetwork")
    api("CreateSubnet", network_id=network.id, cidr="10.95.0.0/24")
    api("CreatePort", network_id=network.id)
    pid = dnsmasq_pid(api, network.id)
    assert pid is not None
    api.process.kill()
    api.process.wait(10)
    assert dnsmasq_pid(api, network.id) == pid  # outlived the service
    dhcp_agent.clean_leftovers(api.data_dir)
    assert dhcp.daemons.wait_gone(pid, 5)
    assert f"qdhcp-{network.id}" not in namespaces()
    assert not any(n.startswith(("brq", "vxlan-", "tap")) for n in links(BRIDGES))
    assert not dhcp_agent.files_root(api.data_dir).exists()


def lease(tmp_path: Path, mac: str, tries: int = 1) -> str | None:
    """The address the guest leases for ``mac`` (DISCOVER, REQUEST, ACK), or None."""
    return discover(tmp_path, mac, CLIENT_LEASE, tries=tries)


def test_a_deleted_ports_lease_is_released_for_the_next_port_with_its_address(service, tmp_path):
    if shutil.which("dhcp_release") is None:
        pytest.skip("needs dhcp_release (dnsmasq-utils)")
    api = service
    network = api("CreateNetwork")
    subnet = api("CreateSubnet", network_id=network.id, cidr="10.96.0.0/24")
    p1 = api("CreatePort", network_id=network.id)
    address = p1.fixed_ips[0].ip_address
    plug_guest(network.id, p1.mac_address)
    assert lease(tmp_path, p1.mac_address, tries=5) == address  # the new link may lag
    leases = api.files(network.id) / "leases"
    wait_until(lambda: p1.mac_address in leases.read_text(), what="dnsmasq records the lease")
    pid = dnsmasq_pid(api, network.id)

    api("DeletePort", port_id=p1.id)
    assert p1.mac_address not in leases.read_text()  # released before DeletePort returned
    p2 = api("CreatePort", network_id=network.id,
             fixed_ips=[pb2.Port.FixedIp(subnet_id=subnet.id, ip_address=address)])  # fmt: skip
    assert p2.mac_address != p1.mac_address and p2.fixed_ips[0].ip_address == address
    sh("ip", "-n", GUEST, "link", "set", GUEST_IF, "address", p2.mac_address)
    started = time.monotonic()
    assert lease(tmp_path, p2.mac_address) == address
    assert time.monotonic() - started < 5
    assert dnsmasq_pid(api, network.id) == pid  # SIGHUP and release, no restart


def test_clean_leftovers_when_the_bridge_namespace_is_gone(service, tmp_path):
    api = service
    network = api("CreateNetwork")
    api("CreateSubnet", network_id=network.id, cidr="10.98.0.0/24")
    api("CreatePort", network_id=network.id)
    pid = dnsmasq_pid(api, network.id)
    assert pid is not None
    api.process.kill()
    api.process.wait(10)
    sh("ip", "netns", "delete", BRIDGES)  # the machine's namespace went first
    dhcp_agent.clean_leftovers(api.data_dir)
    assert dhcp.daemons.wait_gone(pid, 5)
    assert f"qdhcp-{network.id}" not in namespaces()
    assert not dhcp_agent.files_root(api.data_dir).exists()
    assert not (api.data_dir / "dhcp" / network.id).exists()
