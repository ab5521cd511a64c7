"""The leases a network's dnsmasq holds, and releasing those no port should have any more.

dnsmasq keeps a lease for a MAC until it expires, even after that MAC's host
entry is gone, and meanwhile refuses the address to any other MAC: a port
deleted (or given another MAC or address) would keep the next port IPAM hands
the address to without DHCP for a lease time. As Neutron's DHCP agent does,
the agent reads dnsmasq's lease file and, for every lease whose MAC and
address are not a current host entry, makes dnsmasq drop it with
``dhcp_release`` (``dhcp_release6`` for IPv6) from dnsmasq-utils, run in the
network's namespace: they send dnsmasq the client's RELEASE.

The lease file (``dnsmasq(8)``, ``--dhcp-leasefile``)::

    <expiry> <mac> <ipv4> <hostname|*> <client id|*>
    duid <server DUID>
    <expiry> <IAID (T<IAID>: temporary)> <ipv6> <hostname|*> <client DUID>

An IPv6 lease has no MAC; the one in a DUID-LL or DUID-LLT (Ethernet) is
taken for it, else only its address is compared.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

DHCP_RELEASE = "dhcp_release"
DHCP_RELEASE6 = "dhcp_release6"
RUN_TIMEOUT_SECONDS = 5.0  # one dhcp_release
GONE_TIMEOUT_SECONDS = 2.0  # for dnsmasq to drop the released leases from its file
POLL_SECONDS = 0.05


@dataclasses.dataclass(frozen=True)
class Lease:
    """One lease of the file; ``mac`` "" when an IPv6 client's DUID names none."""

    mac: str
    ip: str
    client_id: str = ""  # v4: dnsmasq's client id ("" for "*"); v6: the client's DUID
    iaid: str = ""  # v6 only
    server_id: str = ""  # v6 only: dnsmasq's DUID

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.ip).version

    @property
    def key(self) -> tuple[str, str]:
        return self.mac, self.ip


def mac_of_duid(duid: str) -> str:
    """The Ethernet MAC in a DUID-LLT (type 1) or DUID-LL (type 3), else ""."""
    raw = duid.split(":")
    try:
        kind, hardware = int("".join(raw[0:2]), 16), int("".join(raw[2:4]), 16)
    except ValueError:
        return ""
    offset = {1: 8, 3: 4}.get(kind)
    if hardware != 1 or offset is None or len(raw) != offset + 6:
        return ""
    return ":".join(raw[offset:]).lower()


def parse(text: str) -> list[Lease]:
    """The leases of a lease file's text; lines that do not parse are skipped (the
    file may be read while dnsmasq rewrites it)."""
    leases, server_id = [], ""
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "duid":
            server_id = fields[1]
            continue
        if len(fields) < 5:
            continue
        _, second, address, _, client = fields[:5]
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        client = "" if client == "*" else client
        if ip.version == 4:
            leases.append(Lease(second.lower(), str(ip), client))
        else:
            leases.append(Lease(mac_of_duid(client), str(ip), client, second, server_id))
    return leases


def read(path: Path) -> list[Lease]:
    try:
        return parse(path.read_text(errors="replace"))
    except OSError:
        return []


def unused(leases: Iterable[Lease], hosts: Iterable[tuple[str, str]]) -> list[Lease]:
    """The leases whose (MAC, address) is not one of ``hosts`` (v6: a lease without a
    MAC is kept while its address is in ``hosts``)."""
    wanted = {(mac.lower(), str(ipaddress.ip_address(ip))) for mac, ip in hosts}
    addresses = {ip for _, ip in wanted}
    found = []
    for lease in leases:
        if lease.key in wanted or (not lease.mac and lease.ip in addresses):
            continue
        found.append(lease)
    return found


def command(lease: Lease, interface: str) -> list[str] | None:
    """The release command for ``lease`` (without the namespace); None if there is
    none: dhcp_release6 not installed, or the v6 lease lacks what it needs."""
    if lease.version == 4:
        return [DHCP_RELEASE, interface, lease.ip, lease.mac, *filter(None, [lease.client_id])]
    if shutil.which(DHCP_RELEASE6) is None or not (lease.client_id and lease.server_id):
        return None
    return [
        DHCP_RELEASE6,
        "--iface", interface,
        "--ip", lease.ip,
        "--client-id", lease.client_id,
        "--server-id", lease.server_id,
        *(["--iaid", lease.iaid] if lease.iaid.isdigit() else []),
    ]  # fmt: skip


def release(
    lease_file: Path,
    namespace: str,
    interface: str,
    hosts: Iterable[tuple[str, str]],
    timeout: float = GONE_TIMEOUT_SECONDS,
) -> list[Lease]:
    """Release every lease in ``lease_file`` that is not one of ``hosts`` ((MAC, IP)s);
    wait up to ``timeout`` s for dnsmasq to drop them. Returns those released.

    A missing dhcp_release or a failed one is logged, never raised: the lease
    then only expires.
    """
    hosts = list(hosts)
    stale = unused(read(lease_file), hosts)
    if not stale:
        return []
    if shutil.which(DHCP_RELEASE) is None:
        log.warning(
            "%s (dnsmasq-utils) is not installed: %d lease(s) of %s are held until they expire",
            DHCP_RELEASE,
            len(stale),
            namespace,
        )
        return []
    released = []
    for lease in stale:
        args = command(lease, interface)
        if args is None:
            log.info("cannot release the IPv6 lease of %s in %s (no %s or no DUIDs); it expires",
                     lease.ip, namespace, DHCP_RELEASE6)  # fmt: skip
            continue
        if _run(["ip", "netns", "exec", namespace, *args]):
            released.append(lease)
            log.info("released the lease of %s %s in %s", lease.mac or lease.client_id,
                     lease.ip, namespace)  # fmt: skip
    _wait_dropped(lease_file, {lease.key for lease in released}, timeout)
    return released


def _run(args: list[str]) -> bool:
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("`%s` failed: %s", " ".join(args), exc)
        return False
    if result.returncode != 0:
        log.warning("`%s` failed: %s", " ".join(args), result.stderr.strip())
        return False
    return True


def _wait_dropped(lease_file: Path, keys: set[tuple[str, str]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while keys:
        held = keys & {lease.key for lease in read(lease_file)}
        if not held:
            return
        if time.monotonic() >= deadline:
            log.warning("dnsmasq still holds %s after %.1f s", sorted(held), timeout)
            return
        time.sleep(POLL_SECONDS)
