"""A host's side of VXLAN tenant networks, as neutron's linuxbridge agent builds them.

For each network the host has a guest on::

    brq<first 11 of the network id>   a Linux bridge (bridge_name)
      ├── vxlan-<vni>                 id <vni> dev <underlay> local <underlay ip>
      │                               dstport 4789 nolearning, MTU = underlay - 50
      └── the guests' taps            plug() / unplug()

* MTU: VXLAN over IPv4 costs 50 bytes (outer Ethernet 14, IPv4 20, UDP 8,
  VXLAN 8), so the VXLAN interface and the taps plugged next to it get the
  underlay's MTU minus 50 (1450 on a 1500 underlay).
* Flooding (head-end replication): one all-zeros FDB entry per peer host on the
  VXLAN interface (``bridge fdb append 00:00:00:00:00:00 dev vxlan-N dst PEER``);
  broadcast, unknown unicast and multicast go to each of them. No multicast
  group. ``set_peers`` keeps exactly the given set.
* ``nolearning``: the VXLAN interface never learns where a MAC lives from what
  it receives, so the peer set alone decides where frames go (removing a peer
  stops the traffic at once, not after the 300 s ageing of a learned entry);
  unicast to a remote MAC is flooded to the peers like unknown unicast. The
  Linux bridge above still learns which port a MAC is on. Neutron's l2pop adds
  ``proxy`` too, together with ARP entries for every remote port; without them
  ``proxy`` would swallow ARP requests, so it is left off here.
* Idempotent: every call looks first and changes only what differs, so a
  restarted host reapplies the same calls; a second call runs no changing
  command.
* In a namespace: with ``netns`` set, every command runs as ``ip -netns NS`` /
  ``bridge -netns NS``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import re

from components.framework import iproute

log = logging.getLogger(__name__)

VXLAN_PREFIX = "vxlan-"
VXLAN_PORT = 4789  # IANA's; the kernel's default is still the older 8472
VXLAN_OVERHEAD = 50  # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8
FLOOD_MAC = "00:00:00:00:00:00"
MAX_VNI = 2**24 - 1
TIMEOUT = 10.0  # seconds, one ip or bridge command
VXLAN_NAME = re.compile(rf"{VXLAN_PREFIX}\d+\Z")
BRIDGE_PREFIX = "brq"


def bridge_name(network_id: str) -> str:
    """The network's bridge, "brq" + the first 11 characters of its id (neutron's
    linuxbridge naming): at most 15 characters, the kernel's limit for an interface name."""
    return f"{BRIDGE_PREFIX}{network_id[:11]}"


class VxlanError(iproute.CommandFailed):
    """An ip or bridge command failed (naming the command, carrying its stderr), or a
    VNI, device or link is not what a segment needs."""


def vxlan_name(vni: int) -> str:
    """``vxlan-<vni>``: at most 14 characters, within the kernel's 15."""
    if not 1 <= vni <= MAX_VNI:
        raise VxlanError(f"VNI {vni} is outside 1..{MAX_VNI}")
    return f"{VXLAN_PREFIX}{vni}"


@dataclasses.dataclass(frozen=True)
class Managed:
    """What this module made on a host: for leak checks."""

    bridges: frozenset[str]
    vxlans: frozenset[str]
    # (VXLAN interface, peer address) of each flooding entry.
    flood_entries: frozenset[tuple[str, str]]

    def empty(self) -> bool:
        return not (self.bridges or self.vxlans or self.flood_entries)


class VxlanHost:
    """One host's tenant bridges and VXLAN interfaces over its underlay device."""

    def __init__(
        self, underlay_device: str, local_ip: str, netns: str = "", timeout: float = TIMEOUT
    ) -> None:
        self.underlay_device = underlay_device
        self.local_ip = str(ipaddress.IPv4Address(local_ip))
        self.netns = netns
        self.timeout = timeout

    # -- the calls ------------------------------------------------------------------

    def ensure_network(self, network_id: str, vni: int) -> str:
        """The network's bridge with its VXLAN interface on it, both up; returns the bridge."""
        bridge, vxlan = bridge_name(network_id), vxlan_name(vni)
        links = self._links()
        if self.underlay_device not in links:
            raise VxlanError(f"underlay device {self.underlay_device} does not exist")
        mtu = links[self.underlay_device]["mtu"] - VXLAN_OVERHEAD
        if bridge not in links:
            self._add("link", "add", bridge, "type", "bridge")
        elif _kind(links[bridge]) != "bridge":
            raise VxlanError(f"{bridge} exists and is not a bridge")
        if vxlan in links and not self._is_ours(links[vxlan], vni):
            log.warning("%s is not VNI %d over %s: recreating it", vxlan, vni, self.local_ip)
            self._ip("link", "del", vxlan)
            del links[vxlan]
        if vxlan not in links:
            self._add(
                "link", "add", vxlan, "mtu", str(mtu), "type", "vxlan", "id", str(vni),
                "dev", self.underlay_device, "local", self.local_ip,
                "dstport", str(VXLAN_PORT), "nolearning",
            )  # fmt: skip
            links = self._links()
        self._ensure_port(links.get(vxlan, {}), vxlan, bridge, mtu)
        self._ensure_up(links.get(bridge, {}), bridge)
        return bridge

    def set_peers(self, network_id: str, vni: int, peers: set[str]) -> None:
        """Flood to exactly ``peers`` (underlay addresses); this host's own is ignored.

        Makes the network first if it is missing.
        """
        wanted = {str(ipaddress.IPv4Address(peer)) for peer in peers} - {self.local_ip}
        self.ensure_network(network_id, vni)
        vxlan = vxlan_name(vni)
        present = self._flood_entries(vxlan)
        for peer in sorted(wanted - present):
            self._bridge("fdb", "append", FLOOD_MAC, "dev", vxlan, "dst", peer)
        for peer in sorted(present - wanted):
            self._bridge("fdb", "del", FLOOD_MAC, "dev", vxlan, "dst", peer)

    def plug(self, network_id: str, vni: int, interface: str) -> None:
        """Put ``interface`` (a guest's tap) on the network's bridge, at the VXLAN MTU, up."""
        bridge = self.ensure_network(network_id, vni)
        links = self._links()
        if interface not in links:
            raise VxlanError(f"interface {interface} does not exist")
        mtu = links[vxlan_name(vni)]["mtu"]
        self._ensure_port(links[interface], interface, bridge, mtu)

    def unplug(self, interface: str) -> None:
        """Take ``interface`` off its tenant bridge; nothing to do if it is off or gone."""
        link = self._links().get(interface)
        if link and link.get("master", "").startswith(BRIDGE_PREFIX):
            self._ip("link", "set", "dev", interface, "nomaster")

    def remove_if_unused(self, network_id: str, vni: int) -> bool:
        """Delete the bridge and VXLAN interface unless another interface is on the bridge.

        Returns whether they are gone (True also when they were never there).
        """
        bridge, vxlan = bridge_name(network_id), vxlan_name(vni)
        links = self._links()
        others = [n for n, link in links.items() if link.get("master") == bridge and n != vxlan]
        if others:
            log.debug("%s still carries %s", bridge, ", ".join(sorted(others)))
            return False
        if vxlan in links:
            self._ip("link", "del", vxlan)
        if bridge in links:
            self._ip("link", "del", bridge)
        return True

    def list(self) -> Managed:
        """The tenant bridges, VXLAN interfaces and flooding entries on this host."""
        links = self._links()
        bridges = {n for n, link in links.items() if _is_tenant_bridge(n, link)}
        vxlans = {n for n, link in links.items() if VXLAN_NAME.match(n) and _kind(link) == "vxlan"}
        entries = {(v, peer) for v in vxlans for peer in self._flood_entries(v)}
        return Managed(frozenset(bridges), frozenset(vxlans), frozenset(entries))

    # -- looking -------------------------------------------------------------------

    def _links(self) -> dict[str, dict]:
        """Every link of the host by name, with details (``ip -j -d link show``)."""
        return {link["ifname"]: link for link in json.loads(self._ip("-j", "-d", "link", "show"))}

    def _flood_entries(self, vxlan: str) -> set[str]:
        entries = json.loads(self._bridge("-j", "fdb", "show", "dev", vxlan) or "[]")
        return {e["dst"] for e in entries if e.get("mac") == FLOOD_MAC and "dst" in e}

    def _is_ours(self, link: dict, vni: int) -> bool:
        data = link.get("linkinfo", {}).get("info_data", {})
        return (
            _kind(link) == "vxlan"
            and data.get("id") == vni
            and data.get("local") == self.local_ip
            and data.get("link") == self.underlay_device
            and data.get("port") == VXLAN_PORT
            and not data.get("learning", True)
        )

    # -- changing -----------------------------------------------------------------

    def _ensure_port(self, link: dict, name: str, bridge: str, mtu: int) -> None:
        if link.get("mtu") != mtu:
            self._ip("link", "set", "dev", name, "mtu", str(mtu))
        if link.get("master") != bridge:
            self._ip("link", "set", "dev", name, "master", bridge)
        self._ensure_up(link, name)

    def _ensure_up(self, link: dict, name: str) -> None:
        if "UP" not in link.get("flags", ()):
            self._ip("link", "set", "dev", name, "up")

    def _ip(self, *args: str) -> str:
        return self._run("ip", *args)

    def _add(self, *args: str) -> None:
        """``ip link add``, where another process (the compute host sharing the namespace)
        may have added the same link a moment before: "File exists" is success."""
        try:
            self._ip(*args)
        except VxlanError as exc:
            if "File exists" not in exc.stderr:
                raise

    def _bridge(self, *args: str) -> str:
        return self._run("bridge", *args)

    def _run(self, tool: str, *args: str) -> str:
        return iproute.run(tool, *args, netns=self.netns, timeout=self.timeout, error=VxlanError)


def _kind(link: dict) -> str:
    return link.get("linkinfo", {}).get("info_kind", "")


def _is_tenant_bridge(name: str, link: dict) -> bool:
    return name.startswith(BRIDGE_PREFIX) and _kind(link) == "bridge"
