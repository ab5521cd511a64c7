"""The DHCP agent's links: qdhcp namespaces and the veth pair joining each to its bridge.

Every call looks first and changes only what differs, and takes "already
exists" / "does not exist" from a concurrent or earlier run for success, so a
resync reapplies them safely. ``netns`` "" means the namespace the caller runs in.
"""

from __future__ import annotations

import json
import logging

from components.framework import iproute

log = logging.getLogger(__name__)

EXISTS = "File exists"
MISSING = ("does not exist", "No such file", "Cannot find device", "Invalid argument")


class LinkError(iproute.CommandFailed):
    """An ip command failed; the message names it and carries its stderr."""


def ip(*args: str, netns: str = "") -> str:
    return iproute.run("ip", *args, netns=netns, error=LinkError)


def _tolerating(markers: tuple[str, ...], *args: str, netns: str = "") -> None:
    try:
        ip(*args, netns=netns)
    except LinkError as exc:
        if not any(marker in str(exc) for marker in markers):
            raise


def namespaces() -> set[str]:
    return {entry["name"] for entry in json.loads(ip("-j", "netns", "list") or "[]")}


def ensure_namespace(name: str) -> None:
    if name not in namespaces():
        _tolerating((EXISTS,), "netns", "add", name)
    ip("link", "set", "lo", "up", netns=name)


def delete_namespace(name: str) -> None:
    if name in namespaces():
        _tolerating(MISSING, "netns", "delete", name)


def link(name: str, netns: str = "") -> dict | None:
    """The link's details (``ip -j link show``), or None if there is none of that name."""
    try:
        found = json.loads(ip("-j", "link", "show", "dev", name, netns=netns) or "[]")
    except LinkError as exc:
        if any(marker in str(exc) for marker in MISSING):
            return None
        raise
    return found[0] if found else None


def delete_link(name: str, netns: str = "") -> None:
    if link(name, netns) is not None:
        _tolerating(MISSING, "link", "del", name, netns=netns)


def ensure_veth(tap: str, bridge_netns: str, peer: str, peer_netns: str) -> None:
    """A veth pair: ``tap`` in ``bridge_netns``, ``peer`` in ``peer_netns``."""
    if link(tap, bridge_netns) is not None:
        return
    delete_link(peer, peer_netns)  # a half left by an earlier run
    ip("link", "add", tap, "type", "veth", "peer", "name", peer, "netns", peer_netns,
       netns=bridge_netns)  # fmt: skip


def configure(name: str, netns: str, mac_address: str, mtu: int) -> None:
    """Give the link its MAC and MTU and bring it up."""
    current = link(name, netns) or {}
    if current.get("address") != mac_address:
        ip("link", "set", "dev", name, "address", mac_address, netns=netns)
    if current.get("mtu") != mtu:
        ip("link", "set", "dev", name, "mtu", str(mtu), netns=netns)
    if "UP" not in current.get("flags", ()):
        ip("link", "set", "dev", name, "up", netns=netns)


def flush_addresses(name: str, netns: str) -> None:
    """Remove the link's global addresses (before dnsmasq restarts with new subnets)."""
    ip("addr", "flush", "dev", name, "scope", "global", netns=netns)
