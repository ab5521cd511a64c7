"""Plugging NICs into VXLAN segments (nic_type "bridge"), on a real network namespace.

The network service is the far side of a contract here: a stand-in stub answers
RegisterTunnelEndpoint and GetNetworkSegment as the proto says. The bridges,
VXLAN interfaces and flooding entries are real, in a namespace of this test's
own (``stcs<pid>-h``, removed at the end, and after a crash by the next run);
a guest's tap is one end of a veth pair put on the bridge, as libvirt would.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import types
import uuid

import pytest

from components.compute.config import ComputeConfig
from components.compute.host import _guest_networks
from components.compute.network import PluggedPort
from components.compute.segments import BridgeNetworks, NetworkSegments, bridge_networks
from components.framework import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from components.network.vxlan import VxlanHost, bridge_name
from stratus.network.v1 import network_service_pb2 as net_pb2
from tests import vxlan_namespaces

PID = os.getpid()
NAMESPACE = f"stcs{PID}-h"
UNDERLAY = "ul0"
LOCAL_IP = "10.253.0.1"
HOST = "compute-1"
VNI = 6100 + PID % 1000


def _why_not() -> str | None:
    return vxlan_namespaces.why_not("stcs")


WHY_NOT = _why_not()
needs_namespace = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))


def ip(*args: str) -> str:
    return subprocess.run(
        ["ip", "-n", NAMESPACE, *args], check=True, capture_output=True, text=True, timeout=10
    ).stdout


def clean() -> None:
    """Remove this run's namespace and those of earlier runs whose process is gone."""
    vxlan_namespaces.clean("stcs")


class NetworkStub:
    """The network service's segment RPCs: endpoints by host, ports' hosts by network."""

    def __init__(self) -> None:
        self.endpoints: dict[str, str] = {}
        # network id -> (VNI, hosts with a port on it)
        self.networks: dict[str, tuple[int, set[str]]] = {}
        self.network_type = "vxlan"
        self.calls: list[str] = []
        # How many RegisterTunnelEndpoint calls fail next.
        self.unavailable = 0

    def add_network(self, vni: int = VNI, hosts=(HOST,)) -> str:
        network_id = str(uuid.uuid4())
        self.networks[network_id] = (vni, set(hosts))
        return network_id

    def RegisterTunnelEndpoint(self, request):
        self.calls.append("RegisterTunnelEndpoint")
        if self.unavailable:
            self.unavailable -= 1
            raise Unavailable("the network service is restarting")
        self.endpoints[request.host] = request.ip_address
        return net_pb2.TunnelEndpoint(host=request.host, ip_address=request.ip_address)

    def GetNetworkSegment(self, request):
        self.calls.append("GetNetworkSegment")
        if request.network_id not in self.networks:
            raise NotFound(f"no network {request.network_id}")
        vni, hosts = self.networks[request.network_id]
        return net_pb2.NetworkSegment(
            network_id=request.network_id,
            network_type=self.network_type,
            segmentation_id=vni,
            mtu=1450,
            tunnel_endpoints=[
                net_pb2.TunnelEndpoint(host=h, ip_address=self.endpoints[h])
                for h in sorted(hosts)
                if h in self.endpoints
            ],
        )


@pytest.fixture
def namespace():
    clean()
    try:
        subprocess.run(["ip", "netns", "add", NAMESPACE], check=True, timeout=10)
        # No dummy module everywhere: a veth pair whose far end stays unplugged.
        ip("link", "add", UNDERLAY, "type", "veth", "peer", f"{UNDERLAY}p")
        ip("addr", "add", f"{LOCAL_IP}/24", "dev", UNDERLAY)
        ip("link", "set", UNDERLAY, "up")
        yield NAMESPACE
    finally:
        clean()


@pytest.fixture
def stub():
    stub = NetworkStub()
    stub.endpoints.update({"compute-2": "10.253.0.2", "network-1": "10.253.0.9"})
    return stub


@pytest.fixture
def networks(namespace, stub, tmp_path):
    return bridge_networks(
        NetworkSegments(lambda: stub), HOST, LOCAL_IP, UNDERLAY, namespace, tmp_path
    )


def port(network_id: str, mac: str = "fa:16:3e:00:00:0a") -> PluggedPort:
    return PluggedPort(str(uuid.uuid4()), network_id, "private", mac, "10.0.0.10", 1450)


def links() -> dict[str, dict]:
    return {link["ifname"]: link for link in json.loads(ip("-j", "-d", "link", "show"))}


def flooding(vni: int = VNI) -> set[str]:
    shown = subprocess.run(
        ["bridge", "-netns", NAMESPACE, "-j", "fdb", "show", "dev", f"vxlan-{vni}"],
        check=True, capture_output=True, text=True, timeout=10,
    ).stdout  # fmt: skip
    return {e["dst"] for e in json.loads(shown or "[]") if e.get("mac") == "00:00:00:00:00:00"}


def start_guest(network_id: str, tap: str) -> None:
    """What libvirt does for a bridge NIC: a tap on the network's bridge."""
    ip("link", "add", tap, "type", "veth", "peer", f"{tap}p")
    ip("link", "set", tap, "master", bridge_name(network_id), "up")


def stop_guest(tap: str) -> None:
    ip("link", "del", tap)


@needs_namespace
def test_plug_registers_the_endpoint_then_bridges_the_network_flooding_to_other_hosts(
    networks, stub
):
    network_id = stub.add_network(hosts=(HOST, "compute-2", "network-1", "compute-v6"))
    stub.endpoints["compute-v6"] = "fd00:253::7"
    networks.plug(port(network_id))
    assert stub.endpoints[HOST] == LOCAL_IP
    assert stub.calls == ["RegisterTunnelEndpoint", "GetNetworkSegment"]
    found = links()
    bridge = bridge_name(network_id)
    assert found[f"vxlan-{VNI}"]["master"] == bridge
    assert found[f"vxlan-{VNI}"]["linkinfo"]["info_data"]["id"] == VNI
    # This host's own address and the IPv6 endpoint (IPv4 underlay) are not flooded to.
    assert flooding() == {"10.253.0.2", "10.253.0.9"}
    networks.plug(port(network_id, "fa:16:3e:00:00:0b"))
    assert stub.calls.count("RegisterTunnelEndpoint") == 1


@needs_namespace
def test_last_port_unplugged_removes_the_bridge_and_vxlan_interface(networks, stub):
    network_id = stub.add_network()
    for n, mac in enumerate(("fa:16:3e:00:00:0a", "fa:16:3e:00:00:0b")):
        networks.plug(port(network_id, mac))
        start_guest(network_id, f"tapg{n}")
    stop_guest("tapg0")
    networks.unplug(network_id, "FA:16:3E:00:00:0A")
    assert bridge_name(network_id) in links()
    stop_guest("tapg1")
    networks.unplug(network_id, "fa:16:3e:00:00:0b")
    networks.unplug(network_id, "fa:16:3e:00:00:0b")
    assert networks.vxlan.list().empty()


@needs_namespace
def test_a_port_plugged_for_a_guest_not_yet_defined_keeps_the_bridge(networks, stub):
    network_id = stub.add_network()
    networks.plug(port(network_id, "fa:16:3e:00:00:0a"))  # a build half way
    networks.plug(port(network_id, "fa:16:3e:00:00:0b"))  # another build, which fails
    networks.unplug(network_id, "fa:16:3e:00:00:0b")
    assert bridge_name(network_id) in links()


@needs_namespace
def test_a_bridge_another_process_uses_stays_after_the_last_port(networks, stub):
    network_id = stub.add_network()
    networks.plug(port(network_id))
    start_guest(network_id, "dhcp0")  # e.g. a DHCP server's interface, in a shared namespace
    networks.unplug(network_id, "fa:16:3e:00:00:0a")
    assert links()["dhcp0"]["master"] == bridge_name(network_id)


@needs_namespace
def test_refresh_follows_hosts_joining_and_leaving_the_network(networks, stub):
    network_id = stub.add_network(hosts=(HOST, "compute-2"))
    networks.plug(port(network_id))
    start_guest(network_id, "tapg0")
    assert flooding() == {"10.253.0.2"}
    stub.endpoints["compute-3"] = "10.253.0.3"
    stub.networks[network_id] = (VNI, {HOST, "compute-3", "network-1"})
    networks.refresh()
    assert flooding() == {"10.253.0.3", "10.253.0.9"}


@needs_namespace
def test_refresh_updates_peers_while_registering_fails_and_registers_later(
    networks, stub, tmp_path
):
    network_id = stub.add_network(hosts=(HOST,))
    networks.plug(port(network_id))
    restarted = bridge_networks(
        NetworkSegments(lambda: stub), HOST, LOCAL_IP, UNDERLAY, NAMESPACE, tmp_path
    )
    stub.unavailable = 1
    stub.networks[network_id] = (VNI, {HOST, "compute-2"})
    restarted.refresh()
    assert flooding() == {"10.253.0.2"}
    restarted.refresh()
    assert stub.calls.count("RegisterTunnelEndpoint") == 3
    restarted.refresh()
    assert stub.calls.count("RegisterTunnelEndpoint") == 3


@needs_namespace
def test_refresh_removes_the_unused_bridge_of_a_deleted_network(networks, stub):
    network_id = stub.add_network()
    networks.plug(port(network_id))
    start_guest(network_id, "tapg0")
    del stub.networks[network_id]
    networks.refresh()
    assert bridge_name(network_id) in links()  # a guest is still on it
    stop_guest("tapg0")
    networks.refresh()  # the port was never unplugged (the host lost track): still ours
    assert bridge_name(network_id) in links()
    networks.unplug(network_id, "fa:16:3e:00:00:0a")
    assert networks.vxlan.list().empty()


@needs_namespace
def test_refresh_of_a_network_whose_ports_went_without_unplug_removes_it_when_deleted(
    networks, stub, tmp_path
):
    network_id = stub.add_network()
    networks.plug(port(network_id))
    # A restarted host: nothing is plugged by this process, the bridge is still known.
    restarted = bridge_networks(
        NetworkSegments(lambda: stub), HOST, LOCAL_IP, UNDERLAY, NAMESPACE, tmp_path
    )
    del stub.networks[network_id]
    restarted.refresh()
    assert restarted.vxlan.list().empty()


@needs_namespace
def test_a_restarted_host_goes_on_refreshing_the_bridges_it_made(networks, stub, tmp_path):
    network_id = stub.add_network(hosts=(HOST,))
    networks.plug(port(network_id))
    start_guest(network_id, "tapg0")
    restarted = bridge_networks(
        NetworkSegments(lambda: stub), HOST, LOCAL_IP, UNDERLAY, NAMESPACE, tmp_path
    )
    stub.networks[network_id] = (VNI, {HOST, "compute-2"})
    restarted.refresh()
    assert flooding() == {"10.253.0.2"}
    assert stub.endpoints[HOST] == LOCAL_IP


@needs_namespace
def test_refresh_does_not_make_again_a_bridge_removed_by_another_process(networks, stub):
    network_id = stub.add_network()
    networks.plug(port(network_id))
    start_guest(network_id, "dhcp0")  # another process's interface keeps the bridge ...
    networks.unplug(network_id, "fa:16:3e:00:00:0a")
    ip("link", "del", bridge_name(network_id))  # ... until it removes the bridge itself
    networks.refresh()
    networks.refresh()
    assert bridge_name(network_id) not in links()
    assert "GetNetworkSegment" not in stub.calls[2:]


@needs_namespace
def test_a_bridge_made_by_another_process_between_look_and_add_is_tolerated(
    namespace, stub, tmp_path, caplog
):
    class Racing(VxlanHost):
        """Another process makes the bridge right after this one looked."""

        raced = False

        def _links(self):
            found = super()._links()
            if not self.raced:
                self.raced = True
                self._ip("link", "add", bridge_name(network_id), "type", "bridge")
            return found

    network_id = stub.add_network()
    vxlan = Racing(UNDERLAY, LOCAL_IP, netns=namespace)
    caplog.set_level(logging.INFO, logger="components.compute.segments")
    state = tmp_path / "bridges.json"
    networks = BridgeNetworks(NetworkSegments(lambda: stub), vxlan, HOST, state)
    networks.plug(port(network_id))
    assert Racing.raced or vxlan.raced
    assert links()[f"vxlan-{VNI}"]["master"] == bridge_name(network_id)


@needs_namespace
def test_a_segment_not_carried_over_vxlan_is_failed_precondition(networks, stub):
    network_id = stub.add_network()
    stub.network_type = "vlan"
    with pytest.raises(FailedPrecondition) as caught:
        networks.plug(port(network_id))
    assert caught.value.reason == "NETWORK_SEGMENT_UNSUPPORTED"
    assert networks.vxlan.list().empty()


def test_nic_is_a_tap_on_the_networks_bridge(tmp_path):
    networks = bridge_networks(NetworkSegments(NetworkStub), HOST, LOCAL_IP, UNDERLAY, "", tmp_path)
    nic = networks.nic(port("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"))
    assert (nic.bridge, nic.mac_address, nic.mtu) == ("brq0a1b2c3d-4e", "fa:16:3e:00:00:0a", 1450)


@pytest.mark.parametrize(
    ("tunnel_ip", "underlay", "field"),
    [
        ("", "lo", "tunnel_ip"),
        ("fd00::1", "lo", "tunnel_ip"),
        ("10.253.0.1", "", "underlay_device"),
    ],
)
def test_bridge_nics_need_a_tunnel_ip_and_an_underlay_device(tmp_path, tunnel_ip, underlay, field):
    with pytest.raises(InvalidArgument, match=field.upper().join(["STRATUS_COMPUTE_", ""])):
        bridge_networks(NetworkSegments(NetworkStub), HOST, tunnel_ip, underlay, "", tmp_path)


def test_the_host_reads_segments_with_its_service_token(tmp_path):
    """A build acts as its user; segments and endpoints are asked for as the service."""
    asked = []
    stub = NetworkStub()

    class Clients:
        def stub(self, stub_cls, service_type, **options):
            asked.append((stub_cls.__name__, service_type, options))
            return stub

    config = ComputeConfig(
        host_name=HOST, nic_type="bridge", tunnel_ip=LOCAL_IP, underlay_device="lo"
    )
    runtime = types.SimpleNamespace(config=config, clients=Clients())
    networks = _guest_networks(runtime, tmp_path)
    networks.register()
    assert asked == [("NetworkStub", "network", {"as_service": True})]
    assert stub.endpoints == {HOST: LOCAL_IP}


@needs_namespace
def test_a_bridge_whose_ports_were_released_while_the_host_was_away_goes_at_refresh(
    networks, stub, tmp_path
):
    network_id = stub.add_network(hosts=(HOST, "compute-2"))
    networks.plug(port(network_id))
    start_guest(network_id, "tapg0")
    # The host restarts; meanwhile its server was deleted locally (ports released), and
    # the reconciler has destroyed the guest: nothing of this host is on the network.
    restarted = bridge_networks(
        NetworkSegments(lambda: stub), HOST, LOCAL_IP, UNDERLAY, NAMESPACE, tmp_path
    )
    stub.networks[network_id] = (VNI, {"compute-2"})
    restarted.refresh()
    assert bridge_name(network_id) in links(), "the guest's tap still uses it"
    stop_guest("tapg0")
    restarted.refresh()
    assert restarted.vxlan.list().empty()
