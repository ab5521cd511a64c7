"""The DHCP agent inside the network service (Neutron's DHCP agent role).

For each network with an enable_dhcp subnet, on this service's host::

    brq<net[:11]> (VxlanHost: the network's bridge and vxlan-<VNI>, flooding to the
      │            segment's other tunnel endpoints)
      └── tap<port[:11]> ══ veth ══ ns-<port[:11]> in qdhcp-<net>: the DHCP port's MAC
                                    and addresses, dnsmasq (dhcp.py) listening on it

:meth:`DhcpAgent.sync` makes one network's share match the database, after
each change that matters (the servicer calls :meth:`DhcpAgent.changed` once its
transaction committed) and for every network every ``dhcp_resync_seconds``.
Syncs of one network take turns (a lock each); a failed one is logged and
left to the next resync, never failing the caller's RPC. The host hosts file
changes take a SIGHUP; new subnets a restart of dnsmasq. Every sync then
releases the leases dnsmasq holds for no current host entry (a port deleted,
its MAC or address changed, the address now another MAC's), as Neutron's
agent does, so that the next port given the address gets it at once.

What was made for a network is recorded in ``<data_dir>/dhcp/<network id>/state.json``
before it is made, so that a stop, a resync after the network went, or
:func:`clean_leftovers` after a SIGKILL removes exactly that.

dnsmasq's own files are not in the data dir: dnsmasq drops root for ``nobody``
and re-reads its hosts file as that user on SIGHUP, so every parent of its
files must be searchable by ``nobody``, and the data dir is 0700. They live in
``/run/stratus-dhcp/<hash of the data dir>/<network id>/`` instead: the two
directories above are root's and 0711 (nobody may pass through, not list),
the network's directory and its files are nobody's and 0700/0600 (dhcp.py).
The hash keeps two clouds on one machine apart and lets clean_leftovers find
the directory again from the data dir alone. dnsmasq keeps running as
nobody, not as root.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import shutil
import threading
from collections import defaultdict
from pathlib import Path

from components.framework import InvalidArgument, Periodic, daemons, db
from components.network import dhcp, dhcp_links, dhcp_plan, dhcp_ports, ports, tunnels
from components.network.config import NetworkConfig
from components.network.dhcp_plan import Plan
from components.network.models import Network, Port, Subnet
from components.network.vxlan import VxlanHost

log = logging.getLogger(__name__)

DRIVERS = ("", "dnsmasq")
RUN_ROOT = Path("/run/stratus-dhcp")
STATE = "state.json"


def files_root(data_dir: str | os.PathLike) -> Path:
    """Where dnsmasq's files of the service with ``data_dir`` live (see the docstring)."""
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    return RUN_ROOT / digest


def check_config(config: NetworkConfig) -> None:
    """Refuse to start with a DHCP driver that cannot work."""
    if config.dhcp_driver not in DRIVERS:
        raise InvalidArgument(
            f"dhcp_driver {config.dhcp_driver!r} is not one of {DRIVERS}", field="dhcp_driver"
        )
    if not config.dhcp_driver:
        return
    try:
        ipaddress.IPv4Address(config.dhcp_tunnel_ip)
    except ValueError:
        raise InvalidArgument(
            f"dhcp_tunnel_ip {config.dhcp_tunnel_ip!r} must be this machine's IPv4 underlay"
            " address",
            field="dhcp_tunnel_ip",
        ) from None
    if not config.dhcp_underlay_device or not config.dhcp_host:
        raise InvalidArgument(
            "dhcp_underlay_device and dhcp_host are needed with dhcp_driver",
            field="dhcp_underlay_device",
        )


def wanted(network_id: str, config: NetworkConfig) -> Plan | None:
    """What this host should run for the network, its DHCP port made or fixed first."""
    port = dhcp_ports.ensure(network_id, config.dhcp_host, config.mac_prefix)
    network = Network.get_or_none(Network.id == network_id)
    if port is None or network is None:
        return None
    subnets = list(
        Subnet.select().where(Subnet.network == network.id).order_by(Subnet.create_time, Subnet.id)
    )
    rows = ports.with_addresses(
        list(Port.select().where(Port.network == network.id).order_by(Port.create_time, Port.id))
    )
    endpoints = tunnels.endpoints_of(network.id)
    return dhcp_plan.plan(network, subnets, rows, port.id, endpoints, config.dhcp_tunnel_ip)


def _searchable(path: Path) -> Path:
    """``path`` as a directory others may pass through but not list (0711)."""
    path.mkdir(mode=0o711, exist_ok=True)
    path.chmod(0o711)
    return path


def _read_state(directory: Path) -> dict:
    try:
        return json.loads((directory / STATE).read_text())
    except (OSError, ValueError):
        return {}


def _remove(network_id: str, state: dict, files: Path) -> None:
    """Stop and delete what ``state`` says was made for the network; then forget it.

    A bridge namespace gone already (the machine's guest namespace removed
    before us) took the tap, bridge and vxlan with it: only the rest is
    removed then. Each step is tried even when an earlier one failed; the
    first failure is raised after all of them.
    """
    bridge_netns = state.get("bridge_namespace", "")
    steps = [
        lambda: dhcp.stop_stale(files / "dnsmasq.pid"),
        lambda: dhcp_links.delete_namespace(dhcp_plan.namespace(network_id)),
    ]
    if not bridge_netns or bridge_netns in dhcp_links.namespaces():
        if state.get("tap"):
            steps.append(lambda: dhcp_links.delete_link(state["tap"], bridge_netns))
        if state.get("vni") and state.get("tunnel_ip") and state.get("underlay_device"):
            host = VxlanHost(state["underlay_device"], state["tunnel_ip"], bridge_netns)
            steps.append(lambda: host.remove_if_unused(network_id, state["vni"]))
    else:
        log.info("bridge namespace %s of network %s is gone, and its links with it",
                 bridge_netns, network_id)  # fmt: skip
    failures = []
    for step in steps:
        try:
            step()
        except Exception as exc:
            failures.append(exc)
            log.warning("removing the DHCP server of network %s: %s", network_id, exc)
    if not failures or daemons.read_pid(files / "dnsmasq.pid") is None:
        shutil.rmtree(files, ignore_errors=True)  # kept while it names a dnsmasq to stop
    if failures:
        raise failures[0]


class DhcpAgent:
    """One network service's DHCP servers: :meth:`start`, :meth:`changed`, :meth:`stop`."""

    def __init__(self, config: NetworkConfig) -> None:
        check_config(config)
        self.config = config
        self.state_root = Path(config.data_dir).resolve() / "dhcp"
        self.files_root = files_root(config.data_dir)
        self.servers: dict[str, dhcp.DhcpServer] = {}
        # What each running dnsmasq serves: (subnets, interface), ports.
        self.served: dict[str, tuple] = {}
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._stopped = False
        self._timer: Periodic | None = None

    # -- the calls -----------------------------------------------------------------

    def start(self) -> None:
        """Resync every network now (and stop what gone networks left), then periodically."""
        self._timer = Periodic("dhcp-resync", self.config.dhcp_resync_seconds, self._resync_task)
        self._timer.start()

    def changed(self, *network_ids: str) -> None:
        """The networks changed (committed): sync each; never raises."""
        for network_id in network_ids:
            self.sync(network_id)

    def sync(self, network_id: str) -> bool:
        """Make the network's DHCP server here match the database; False if that failed."""
        with self._lock(network_id):
            if self._stopped:
                return False
            try:
                plan = wanted(network_id, self.config)
                if plan is None:
                    self._teardown(network_id)
                else:
                    self._apply(plan)
                return True
            except Exception:
                log.exception(
                    "DHCP of network %s not in sync; the resync tries again in %.0f s",
                    network_id,
                    self.config.dhcp_resync_seconds,
                )
                return False

    def resync_all(self) -> None:
        """Register this host's tunnel endpoint; sync every network, and every recorded one."""
        tunnels.register(self.config.dhcp_host, self.config.dhcp_tunnel_ip)
        ids = [row.id for row in Network.select(Network.id).order_by(Network.id)]
        for network_id in sorted(set(ids) | set(self.recorded())):
            self.sync(network_id)

    def recorded(self) -> list[str]:
        """The networks something was made for (and not yet removed)."""
        if not self.state_root.is_dir():
            return []
        return sorted(p.parent.name for p in self.state_root.glob(f"*/{STATE}"))

    def stop(self) -> None:
        """Stop every dnsmasq; delete every namespace, veth and unused bridge made."""
        if self._timer is not None:
            self._timer.stop()
        with self._guard:
            self._stopped = True
        for network_id in sorted(set(self.recorded()) | set(self.servers)):
            with self._lock(network_id):
                try:
                    self._teardown(network_id)
                except Exception:
                    log.exception("could not remove the DHCP server of network %s", network_id)
        if self.files_root.is_dir() and not any(self.files_root.iterdir()):
            self.files_root.rmdir()

    # -- inside a network's lock ---------------------------------------------------

    def _lock(self, network_id: str) -> threading.Lock:
        with self._guard:
            return self._locks[network_id]

    def _resync_task(self) -> None:
        try:
            self.resync_all()
        finally:
            db.close()  # the timer's thread holds no connection between runs

    def _vxlan(self) -> VxlanHost:
        config = self.config
        return VxlanHost(
            config.dhcp_underlay_device, config.dhcp_tunnel_ip, config.dhcp_bridge_namespace
        )

    def _record(self, plan: Plan) -> dict:
        """Record what is about to be made; returns what was recorded before."""
        directory = self.state_root / plan.network_id
        before = _read_state(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        state = {
            "network_id": plan.network_id,
            "vni": plan.vni,
            "tap": plan.tap,
            "bridge_namespace": self.config.dhcp_bridge_namespace,
            "underlay_device": self.config.dhcp_underlay_device,
            "tunnel_ip": self.config.dhcp_tunnel_ip,
        }
        if state != before:
            tmp = directory / f".{STATE}.tmp"
            tmp.write_text(json.dumps(state, sort_keys=True))
            tmp.replace(directory / STATE)
        return before

    def _apply(self, plan: Plan) -> None:
        before = self._record(plan)
        bridge_netns = self.config.dhcp_bridge_namespace
        if before.get("tap") and before["tap"] != plan.tap:  # the DHCP port was replaced
            dhcp_links.delete_link(before["tap"], before.get("bridge_namespace", ""))
        host = self._vxlan()
        host.set_peers(plan.network_id, plan.vni, set(plan.peers))  # makes the bridge too
        dhcp_links.ensure_namespace(plan.namespace)
        dhcp_links.ensure_veth(plan.tap, bridge_netns, plan.interface, plan.namespace)
        host.plug(plan.network_id, plan.vni, plan.tap)
        mtu = dhcp_links.link(plan.tap, bridge_netns)["mtu"]
        dhcp_links.configure(plan.interface, plan.namespace, plan.mac_address, mtu)
        self._serve(plan)

    def _serve(self, plan: Plan) -> None:
        server = self.servers.get(plan.network_id)
        key = (plan.subnets, plan.interface)
        served_key, served_ports = self.served.get(plan.network_id, (None, None))
        if server is not None and server.running() and served_key == key:
            if served_ports != plan.ports:
                server.write(plan.subnets, plan.ports)
                server.reload()
                self.served[plan.network_id] = (key, plan.ports)
            server.release_unused()
            return
        if server is not None and server.interface != plan.interface:
            server.stop()
            server = None
        if server is None:
            _searchable(RUN_ROOT)
            _searchable(self.files_root)
            files = self.files_root / plan.network_id
            server = dhcp.DhcpServer(plan.network_id, files, plan.namespace, plan.interface)
            self.servers[plan.network_id] = server
        server.write(plan.subnets, plan.ports)
        dhcp_links.flush_addresses(plan.interface, plan.namespace)
        server.start()  # stops a running one first (ours, or a stale one by its pid file)
        self.served[plan.network_id] = (key, plan.ports)
        server.release_unused()  # a restart keeps the lease file

    def _teardown(self, network_id: str) -> None:
        server = self.servers.pop(network_id, None)
        self.served.pop(network_id, None)
        if server is not None:
            server.stop()
        directory, files = self.state_root / network_id, self.files_root / network_id
        if server is None and not directory.exists() and not files.exists():
            return  # nothing was made for it here
        _remove(network_id, _read_state(directory), files)
        shutil.rmtree(directory, ignore_errors=True)
        log.info("removed the DHCP server of network %s", network_id)


def clean_leftovers(data_dir: str | os.PathLike) -> None:
    """After the network service was killed: stop the dnsmasqs and delete the qdhcp
    namespaces, veths and unused bridges it recorded under ``data_dir``."""
    state_root = Path(data_dir).resolve() / "dhcp"
    root = files_root(data_dir)
    ids = {p.parent.name for p in state_root.glob(f"*/{STATE}")} if state_root.is_dir() else set()
    if root.is_dir():
        ids |= {p.name for p in root.iterdir() if p.is_dir()}
    for network_id in sorted(ids):
        try:
            _remove(network_id, _read_state(state_root / network_id), root / network_id)
            shutil.rmtree(state_root / network_id, ignore_errors=True)
        except Exception:
            log.exception("could not clean up the DHCP server of network %s", network_id)
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()
