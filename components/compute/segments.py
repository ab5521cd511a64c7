"""Plugging real guests' NICs into VXLAN segments: a Linux bridge per network (nic_type "bridge").

The compute host's network agent part, as neutron's Linux-bridge agent does it.
Before a guest's domain is defined, each of its ports is *plugged*:

1. this host's tunnel endpoint (its host name and underlay address) is
   registered with the network service, once per process (RegisterTunnelEndpoint);
2. the network's segment is read (GetNetworkSegment): its VNI and the tunnel
   endpoints of every host with a port on it;
3. the network's bridge ``brq<network id[:11]>`` with its ``vxlan-<vni>``
   interface is made if missing, and flooding set to exactly the other hosts'
   endpoints (components/network/vxlan.py). libvirt then creates the guest's
   tap on that bridge (``<interface type='bridge'>``, domain_xml.py).

Both calls carry the host's own service token, whatever user the host acts for:
only services (and admins) may make them.

*Unplugging* (after the domain is gone, so its tap is gone too) removes the
bridge and its VXLAN interface with the host's last port on the network. A port
plugged but whose guest is not defined yet counts (a build on the same network
may be half way), and so does any interface another process put on the bridge
(in a single-machine run the bridge may be shared): "used" is any port on the
bridge besides the VXLAN interface.

:meth:`BridgeNetworks.refresh` runs every ``segment_refresh_seconds``: it
registers the endpoint if that has not succeeded yet and sets, for every
network this host made a bridge for, the peers the network service now lists,
so a host joining or leaving a network is reached or dropped within that
period; the bridge of a network that no longer exists, or on which no port
of this host is bound any more (its servers were deleted while the host was
away), is removed if unused.
Which networks this host made bridges for (with their VNIs) is kept in a file
under the host's directory, so a restarted host goes on refreshing the
bridges of guests that kept running.

Another process may create or delete the same bridge between a look and a
change in a shared namespace: a command refused because of that ("File
exists", "Cannot find device") is retried from a fresh look, a few times.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from components.compute.domain_xml import Nic
from components.compute.network import PluggedPort
from components.framework import FailedPrecondition, InvalidArgument, NotFound, StratusError, call
from components.network.vxlan import MAX_VNI, VxlanError, VxlanHost, bridge_name
from stratus.network.v1 import network_service_pb2 as net_pb2

log = logging.getLogger(__name__)

VXLAN = "vxlan"
# stderr of an ip or bridge command refused because another process changed the
# same link or entry between our look and our change.
RACES = ("File exists", "Cannot find device", "No such device", "No such file or directory")
ATTEMPTS = 3
STATE_FILE = "bridges.json"


@dataclasses.dataclass(frozen=True)
class Segment:
    """How one network's layer 2 is carried: its VNI and the endpoints of its hosts."""

    network_id: str
    vni: int
    # Underlay addresses of the hosts with a port on the network.
    endpoints: frozenset[str]


class NetworkSegments:
    """The network service's segment calls, through ``stub()``: a NetworkStub that sends
    the host's service token."""

    def __init__(self, stub: Callable[[], object]) -> None:
        self._stub = stub

    def register(self, host: str, ip_address: str) -> None:
        request = net_pb2.RegisterTunnelEndpointRequest(host=host, ip_address=ip_address)
        call(self._stub().RegisterTunnelEndpoint, request)

    def get(self, network_id: str) -> Segment:
        """The network's segment; NotFound if the network is gone, FailedPrecondition if
        it is not carried over VXLAN."""
        request = net_pb2.GetNetworkSegmentRequest(network_id=network_id)
        segment = call(self._stub().GetNetworkSegment, request)
        if segment.network_type != VXLAN or not 1 <= segment.segmentation_id <= MAX_VNI:
            raise FailedPrecondition(
                f"network {network_id} is carried as {segment.network_type!r} "
                f"{segment.segmentation_id}; this host plugs only VXLAN segments",
                reason="NETWORK_SEGMENT_UNSUPPORTED",
                network_id=network_id,
            )
        return Segment(
            network_id=network_id,
            vni=segment.segmentation_id,
            endpoints=frozenset(e.ip_address for e in segment.tunnel_endpoints if e.ip_address),
        )


class BridgeNetworks:
    """This host's bridges, one per network it has guests on (see the module docstring)."""

    # Ports are plugged (operations.py plugs them again before a guest starts).
    enabled = True

    def __init__(
        self,
        segments: NetworkSegments,
        vxlan: VxlanHost,
        host_name: str,
        state_file: Path,
    ) -> None:
        self.segments = segments
        self.vxlan = vxlan
        self.host_name = host_name
        self.state_file = state_file
        self._lock = threading.Lock()
        self._registered = False
        # network id -> VNI of every bridge this host made and has not removed.
        self._vnis: dict[str, int] = _load(state_file)
        # network id -> MACs plugged by this process and not unplugged since.
        self._plugged: dict[str, set[str]] = {}

    @property
    def tunnel_ip(self) -> str:
        return self.vxlan.local_ip

    def nic(self, port: PluggedPort) -> Nic:
        """The domain's NIC for the port: a tap libvirt puts on the network's bridge."""
        return Nic(port.port_id, port.mac_address, port.mtu, bridge=bridge_name(port.network_id))

    def register(self) -> None:
        """Register this host's tunnel endpoint (idempotent on the network service's side)."""
        self.segments.register(self.host_name, self.tunnel_ip)
        if not self._registered:
            log.info("tunnel endpoint of %s registered: %s", self.host_name, self.tunnel_ip)
        self._registered = True

    def plug(self, port: PluggedPort) -> None:
        """Have the port's network bridged to its VXLAN segment, flooding to its other hosts."""
        if not self._registered:
            self.register()
        segment = self.segments.get(port.network_id)
        with self._lock:
            self._plugged.setdefault(port.network_id, set()).add(port.mac_address.lower())
            self._apply(segment)
        log.info("port %s plugged into %s", port.port_id, bridge_name(port.network_id))

    def unplug(self, network_id: str, mac_address: str) -> None:
        """Forget the port; with this host's last port on the network gone, remove the
        bridge and its VXLAN interface unless something else is on it (idempotent)."""
        if not network_id:
            return
        with self._lock:
            plugged = self._plugged.get(network_id, set())
            plugged.discard(mac_address.lower())
            if plugged:
                return
            self._plugged.pop(network_id, None)
            vni = self._vnis.get(network_id)
            if vni is not None:
                self._remove_if_unused(network_id, vni)

    def refresh(self) -> None:
        """Register if not yet done, then bring every bridge's peers up to date."""
        if not self._registered:
            try:
                self.register()
            except StratusError as exc:
                # The peers of the bridges already made are worth refreshing regardless.
                log.warning("could not register the tunnel endpoint (next time): %s", exc)
        with self._lock:
            known = dict(self._vnis)
        present = self.vxlan.list().bridges
        for network_id, vni in sorted(known.items()):
            try:
                self._refresh(network_id, vni, bridge_name(network_id) in present)
            except (StratusError, VxlanError) as exc:
                log.warning("could not refresh the segment of network %s: %s", network_id, exc)

    def _refresh(self, network_id: str, vni: int, present: bool) -> None:
        if not present:
            with self._lock:
                if not self._plugged.get(network_id):
                    log.info("the bridge of network %s is gone", network_id)
                    self._forget(network_id)
            return
        try:
            segment = self.segments.get(network_id)
        except NotFound:
            with self._lock:
                if not self._plugged.get(network_id) and network_id in self._vnis:
                    log.info("network %s is gone: removing its bridge if unused", network_id)
                    self._remove_if_unused(network_id, vni)
            return
        with self._lock:
            if self.tunnel_ip not in segment.endpoints and not self._plugged.get(network_id):
                # No port of this host is bound to the network any more (its server was
                # deleted while the host was away): the bridge goes if nothing uses it.
                log.info(
                    "no port of network %s is bound here: removing its bridge if unused", network_id
                )
                self._remove_if_unused(network_id, vni)
            elif network_id in self._vnis:  # not unplugged meanwhile (that would make it again)
                self._apply(segment)

    # -- under the lock ---------------------------------------------------------------

    def _apply(self, segment: Segment) -> None:
        network_id, vni = segment.network_id, segment.vni
        peers = {ip for ip in segment.endpoints if _ipv4(ip)} - {self.tunnel_ip}
        ignored = {ip for ip in segment.endpoints if not _ipv4(ip)}
        if ignored:
            log.warning(
                "network %s: IPv6 endpoints %s ignored (IPv4 underlay)", network_id, ignored
            )
        self._remember(network_id, vni)
        # Makes the bridge and its VXLAN interface first if they are missing.
        _tolerating_races(self.vxlan.set_peers, network_id, vni, peers)

    def _remove_if_unused(self, network_id: str, vni: int) -> None:
        if _tolerating_races(self.vxlan.remove_if_unused, network_id, vni):
            log.info("bridge %s of network %s removed", bridge_name(network_id), network_id)
            self._forget(network_id)

    def _remember(self, network_id: str, vni: int) -> None:
        if self._vnis.get(network_id) != vni:
            self._vnis[network_id] = vni
            _save(self.state_file, self._vnis)

    def _forget(self, network_id: str) -> None:
        if self._vnis.pop(network_id, None) is not None:
            _save(self.state_file, self._vnis)


def bridge_networks(
    segments: NetworkSegments,
    host_name: str,
    tunnel_ip: str,
    underlay_device: str,
    namespace: str,
    root: Path,
) -> BridgeNetworks:
    """The host's BridgeNetworks from its settings; InvalidArgument names a missing one."""
    if not underlay_device:
        raise InvalidArgument(
            "nic_type bridge needs underlay_device (STRATUS_COMPUTE_UNDERLAY_DEVICE)",
            field="underlay_device",
        )
    if not _ipv4(tunnel_ip):
        raise InvalidArgument(
            f"nic_type bridge needs tunnel_ip (STRATUS_COMPUTE_TUNNEL_IP) to be this host's "
            f"IPv4 underlay address, not {tunnel_ip!r}",
            field="tunnel_ip",
        )
    vxlan = VxlanHost(underlay_device, tunnel_ip, netns=namespace)
    return BridgeNetworks(segments, vxlan, host_name, root / STATE_FILE)


def _tolerating_races(fn, *args):
    """``fn(*args)``, tried again (from a fresh look) when another process changed the
    same link between its look and its change."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return fn(*args)
        except VxlanError as exc:
            if attempt == ATTEMPTS or not any(race in exc.stderr for race in RACES):
                raise
            log.info("%s raced with another process (%s); trying again", fn.__name__, exc)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def _ipv4(address: str) -> bool:
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return True


def _load(path: Path) -> dict[str, int]:
    try:
        return {str(k): int(v) for k, v in json.loads(path.read_text()).items()}
    except FileNotFoundError:
        return {}
    except (ValueError, AttributeError) as exc:
        log.warning("%s is unreadable (%s): starting without it", path, exc)
        return {}


def _save(path: Path, vnis: dict[str, int]) -> None:
    """Write the file whole and atomically (a crash leaves the old or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(vnis, sort_keys=True))
    os.replace(partial, path)
