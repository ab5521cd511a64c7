"""The rack ``make run-all MACHINES=3`` builds on this one machine, namespaces as machines.

What it is, for a prefix ``p`` and the tag ``t`` (from the port offset)::

    root namespace (the operator's shell, the supervisor)
      p-op 10.251.t.1/24 ──veth──┐
    p-underlay:                  operator ─┐
                                           switch (a Linux bridge: the rack's switch)
                      controller, compute-1, ... ─┘ (veth ends, one per machine)
    p-controller:  eth0 10.251.t.10/24, 10.251.t.11/24 ──veth── controller
    p-compute-1:   eth0 10.251.t.20/24                  ──veth── compute-1

* Addresses: the rack's /24 is ``10.251.<tag>.0/24``; the operator's end in the
  root namespace is ``.1``; the n-th machine added (from 0) gets ``.10*(n+1)``
  and the addresses after it (the controller's replicas bind its second), so
  at most 24 machines of at most 10 addresses each; a machine may instead be
  placed at a host number of .2 to .9 (run-all's ``network`` machine is .5,
  with real guests). :meth:`Rack.create` refuses
  a subnet the root namespace already routes (another rack, or the host's own).
* Names: the only interface in the root namespace is ``<prefix>-op`` (hence a
  prefix of at most 12 characters); everything else lives in the rack's own
  namespaces. The underlay side of a machine's veth carries the machine's name,
  which is what :meth:`Rack.cut` sets down.
* Leftovers: everything is written to ``<data_dir>/rack.json`` (0600) before
  it is made. :meth:`Rack.clean_leftovers` (which :meth:`Rack.create` calls
  first) deletes what that file lists and, when it is missing, what it finds by
  name: ``<prefix>-underlay``, ``<prefix>-op``, and the ``<prefix>-*``
  namespaces whose ``eth0`` carries the rack's mark (its alias), so a
  namespace of someone else's that happens to share the prefix is left alone;
  and, first, what the run's services left outside the rack (wiring.clean_leftovers:
  the DHCP agent's ``qdhcp-*`` namespaces and dnsmasq, NBD export daemons).
* Crash: :meth:`Rack.start_reaper` starts qemu_host's reaper over the rack's
  namespaces; when the supervisor dies (even by SIGKILL) it ends what still
  runs in them and deletes them. The operator's veth goes with the underlay:
  deleting one end of a veth deletes the other.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import logging
import os
import re
import subprocess
import time
from pathlib import Path

from components.framework import iproute
from components.supervisor import qemu_host, wiring

log = logging.getLogger(__name__)

SUBNETS = ipaddress.IPv4Network("10.251.0.0/16")
OPERATOR_HOST = 1
HOSTS_PER_MACHINE = 10
MAX_MACHINES = 24  # .10 to .249
BRIDGE = "switch"
OPERATOR_PORT = "operator"
MACHINE_LINK = "eth0"
RESERVED = frozenset({BRIDGE, OPERATOR_PORT, "underlay", "lo", "op"})
IFNAMSIZ = 15  # the longest interface name Linux takes
MAX_PREFIX = IFNAMSIZ - len("-op")
# How long processes a killed run left in its machines get to end before the rack
# counts as in use by another run.
IN_USE_SETTLE_SECONDS = 10.0
NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
MARK = "stratus-rack"  # an interface's alias: "stratus-rack <prefix>"
STATE_FILE = "rack.json"
TIMEOUT = 15.0  # one ip command
PORT_OFFSET_STEP = 1000  # run-all's offsets are thousands apart (ports.SUGGESTED_OFFSETS)


class RackError(iproute.CommandFailed):
    """The rack cannot be built, changed or deleted; names the command and its stderr."""


def subnet_for_tag(tag: int) -> ipaddress.IPv4Network:
    """``10.251.<tag>.0/24``, the rack's subnet for a tag from 0 to 255."""
    if not 0 <= tag <= 255:
        raise RackError(f"rack tag {tag} is outside 0..255")
    return ipaddress.IPv4Network((int(SUBNETS.network_address) + (tag << 8), 24))


def tag_for_port_offset(offset: int) -> int:
    """The tag run-all at ``offset`` uses: 0 -> 0, 1000 -> 1, 20000 -> 20."""
    return offset // PORT_OFFSET_STEP % 256


@dataclasses.dataclass(frozen=True)
class Machine:
    """One machine of the rack: its namespace and underlay addresses (the first is its own)."""

    name: str
    namespace: str
    addresses: tuple[str, ...]

    @property
    def port(self) -> str:
        """The underlay side of its veth, in the underlay namespace, on the switch."""
        return self.name


class Layout:
    """The rack's names and addresses, worked out without touching the host."""

    def __init__(self, prefix: str, tag: int = 0) -> None:
        if not NAME.match(prefix) or len(prefix) > MAX_PREFIX:
            raise RackError(
                f"rack prefix {prefix!r} must be 1..{MAX_PREFIX} of a-z, 0-9, '-', "
                "starting with a letter"
            )
        self.prefix = prefix
        self.subnet = subnet_for_tag(tag)
        self.machines: dict[str, Machine] = {}
        self._blocks = 0  # machines numbered .10*(n+1) onwards

    @property
    def underlay(self) -> str:
        return f"{self.prefix}-underlay"

    @property
    def operator_link(self) -> str:
        """The operator's end of the rack, in the root namespace."""
        return f"{self.prefix}-op"

    @property
    def operator_address(self) -> str:
        return str(self.subnet[OPERATOR_HOST])

    @property
    def mark(self) -> str:
        return f"{MARK} {self.prefix}"

    def add(self, name: str, addresses: int = 1, host: int | None = None) -> Machine:
        """Name and number a new machine: the n-th added without ``host`` gets .10*(n+1)
        onwards; one with ``host`` (2..9) gets .<host> onwards, below the first block."""
        if not NAME.match(name) or len(name) > IFNAMSIZ or name in RESERVED:
            raise RackError(
                f"machine name {name!r} must be 1..{IFNAMSIZ} of a-z, 0-9, '-', starting "
                f"with a letter, and none of {', '.join(sorted(RESERVED))}"
            )
        if name in self.machines:
            raise RackError(f"machine {name} is already in rack {self.prefix}")
        if not 1 <= addresses <= HOSTS_PER_MACHINE:
            raise RackError(f"a machine has 1..{HOSTS_PER_MACHINE} addresses, not {addresses}")
        if host is None:
            if self._blocks >= MAX_MACHINES:
                raise RackError(f"rack {self.prefix} is full ({MAX_MACHINES} machines)")
            first = HOSTS_PER_MACHINE * (self._blocks + 1)
        else:
            first = host
            if host <= OPERATOR_HOST or host + addresses > HOSTS_PER_MACHINE:
                raise RackError(
                    f"a machine placed at host .{host} with {addresses} address(es) must fit "
                    f"in .{OPERATOR_HOST + 1}..{HOSTS_PER_MACHINE - 1}"
                )
        hosts = tuple(str(self.subnet[first + i]) for i in range(addresses))
        taken = {a for m in self.machines.values() for a in m.addresses}
        if taken.intersection(hosts):
            raise RackError(f"machine {name}'s addresses {', '.join(hosts)} are taken")
        machine = Machine(name, f"{self.prefix}-{name}", hosts)
        self.machines[name] = machine
        if host is None:
            self._blocks += 1
        return machine

    def forget(self, name: str) -> None:
        """Take back a machine that could not be made (its addresses free again)."""
        machine = self.machines.pop(name)
        if machine.addresses[0] == str(self.subnet[HOSTS_PER_MACHINE * self._blocks]):
            self._blocks -= 1

    def machine(self, name: str) -> Machine:
        try:
            return self.machines[name]
        except KeyError:
            raise RackError(f"no machine {name!r} in rack {self.prefix}") from None


class Rack:
    """The rack itself: ``create()``, then ``add()`` each machine, ``destroy()`` at the end.

    Nothing touches the host before ``create()``; as a context manager it is created on
    entry and destroyed on exit.
    """

    def __init__(self, prefix: str, data_dir: Path, tag: int = 0) -> None:
        self.layout = Layout(prefix, tag)
        self.data_dir = Path(data_dir)
        self._namespaces: list[str] = []  # made (or being made), in order
        self._links: list[str] = []  # in the root namespace

    def __enter__(self) -> Rack:
        return self.create()

    def __exit__(self, *exc_info: object) -> None:
        self.destroy()

    @property
    def prefix(self) -> str:
        return self.layout.prefix

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return self.layout.subnet

    @property
    def operator_address(self) -> str:
        """The root namespace's address in the rack: what a machine sees the operator as."""
        return self.layout.operator_address

    @property
    def state_file(self) -> Path:
        return self.data_dir / STATE_FILE

    def namespace(self, machine: str) -> str:
        return self.layout.machine(machine).namespace

    def address(self, machine: str, index: int = 0) -> str:
        addresses = self.layout.machine(machine).addresses
        if not 0 <= index < len(addresses):
            raise RackError(f"machine {machine} has {len(addresses)} address(es), no #{index}")
        return addresses[index]

    def addresses(self, machine: str) -> tuple[str, ...]:
        return self.layout.machine(machine).addresses

    def machines(self) -> list[str]:
        return list(self.layout.machines)

    def exec_prefix(self, machine: str) -> list[str]:
        """Put in front of a command to run it inside ``machine``."""
        return ["ip", "netns", "exec", self.namespace(machine)]

    def create(self, settle_seconds: float = IN_USE_SETTLE_SECONDS) -> Rack:
        """Clean a previous run's leftovers, then make the underlay, its switch and the
        operator's veth. Refuses a subnet the root namespace routes already. A failed
        create leaves nothing behind. Refuses a rack of the same prefix that is alive (its
        machines run processes): another run-all at the same port offset."""
        self.refuse_if_in_use(settle_seconds)
        Rack.clean_leftovers(self.prefix, self.data_dir)
        clashes = overlapping_routes(self.subnet, _ip_json(["-4", "route", "show", "table", "all"]))
        if clashes:
            raise RackError(
                f"rack subnet {self.subnet} is already routed in the root namespace "
                f"({'; '.join(clashes)}): pick another tag (port offset)"
            )
        try:
            self._make_underlay()
        except BaseException:
            with contextlib.suppress(RackError):
                self.destroy()
            raise
        log.info("rack %s: subnet %s, operator %s", self.prefix, self.subnet, self.operator_address)
        return self

    def _make_underlay(self) -> None:
        layout, underlay = self.layout, self.layout.underlay
        self._new_namespace(underlay)
        _ip(["link", "add", BRIDGE, "type", "bridge"], underlay)
        _ip(["link", "set", BRIDGE, "up"], underlay)
        self._links.append(layout.operator_link)
        self._save()
        peer = ["peer", "name", OPERATOR_PORT, "netns", underlay]
        _ip(["link", "add", layout.operator_link, "type", "veth", *peer])
        _ip(["link", "set", layout.operator_link, "alias", layout.mark])
        _ip(["addr", "add", f"{layout.operator_address}/24", "dev", layout.operator_link])
        _ip(["link", "set", layout.operator_link, "up"])
        _ip(["link", "set", OPERATOR_PORT, "master", BRIDGE, "up"], underlay)

    def add(self, machine: str, addresses: int = 1, host: int | None = None) -> Machine:
        """A new machine: its namespace with ``lo`` and ``eth0`` up, ``eth0`` holding its
        ``addresses`` underlay addresses (from .<host> if given, see :meth:`Layout.add`),
        the other end of ``eth0`` on the switch. A failed add leaves no trace of it."""
        if self.layout.underlay not in self._namespaces:
            raise RackError(f"rack {self.prefix} is not created yet")
        new = self.layout.add(machine, addresses, host)
        try:
            self._make_machine(new)
        except BaseException:
            self.layout.forget(machine)
            with contextlib.suppress(RackError):
                _delete([new.namespace], [])
            with contextlib.suppress(ValueError):
                self._namespaces.remove(new.namespace)
                self._save()
            raise
        log.info("rack %s: %s at %s", self.prefix, machine, ", ".join(new.addresses))
        return new

    def _make_machine(self, new: Machine) -> None:
        self._new_namespace(new.namespace)
        peer = ["peer", "name", new.port, "netns", self.layout.underlay]
        _ip(["link", "add", MACHINE_LINK, "type", "veth", *peer], new.namespace)
        _ip(["link", "set", MACHINE_LINK, "alias", self.layout.mark], new.namespace)
        for address in new.addresses:
            _ip(["addr", "add", f"{address}/24", "dev", MACHINE_LINK], new.namespace)
        _ip(["link", "set", MACHINE_LINK, "up"], new.namespace)
        _ip(["link", "set", new.port, "master", BRIDGE, "up"], self.layout.underlay)

    def cut(self, machine: str) -> None:
        """Unplug ``machine`` from the switch: its underlay port goes down."""
        port = self.layout.machine(machine).port
        _ip(["link", "set", port, "down"], self.layout.underlay)

    def restore(self, machine: str) -> None:
        """Plug ``machine`` back in."""
        port = self.layout.machine(machine).port
        _ip(["link", "set", port, "up"], self.layout.underlay)

    def start_reaper(self):
        """qemu_host's reaper over this rack's namespaces: it deletes them (and with the
        underlay the operator's veth) once the supervisor is gone, however it went, then
        cleans what the run's services left outside them (wiring.clean_leftovers: the DHCP
        agent's namespaces, NBD exports). Start it after the last ``add``; stop it with
        ``qemu_host.stop_reaper`` after ``destroy``."""
        machines = [m.namespace for m in self.layout.machines.values()]
        return qemu_host.start_reaper(*machines, self.layout.underlay, data_dir=self.data_dir)

    def destroy(self) -> None:
        """End what runs in the machines, delete every namespace and veth of the rack and
        its state file. Idempotent."""
        _delete(self._namespaces[::-1], self._links)  # the underlay (made first) last
        self._namespaces, self._links = [], []
        self.state_file.unlink(missing_ok=True)

    def refuse_if_in_use(self, settle_seconds: float = IN_USE_SETTLE_SECONDS) -> None:
        """RackError if a machine of this prefix still runs processes after
        ``settle_seconds`` (those of a run killed a moment ago stop by themselves)."""
        listing = _ip(["netns", "list"])
        machines = [
            name
            for name in namespaces_with_prefix(listing, self.prefix)
            if _marked(name, self.layout.mark)
        ]
        deadline = time.monotonic() + settle_seconds
        while True:
            running = {name: qemu_host.namespace_pids(name) for name in machines}
            running = {name: pids for name, pids in running.items() if pids}
            if not running:
                return
            if time.monotonic() >= deadline:
                where = "; ".join(f"{n}: pids {' '.join(map(str, p))}" for n, p in running.items())
                raise RackError(
                    f"rack {self.prefix} is in use by another run ({where}): stop that run, "
                    "or start this one with another STRATUS_PORT_OFFSET"
                )
            time.sleep(0.25)

    @staticmethod
    def clean_leftovers(prefix: str, data_dir: Path) -> list[str]:
        """Delete what a previous rack with ``prefix`` (or the state file in ``data_dir``)
        left behind, e.g. after a SIGKILL of the supervisor. Returns what was deleted."""
        layout = Layout(prefix)
        state_file = Path(data_dir) / STATE_FILE
        namespaces, links = [], []
        with contextlib.suppress(OSError, ValueError):
            state = json.loads(state_file.read_text())
            namespaces, links = list(state["namespaces"]), list(state["links"])
        listing = _ip(["netns", "list"])
        for name in namespaces_with_prefix(listing, prefix):
            if name not in namespaces and _marked(name, layout.mark):
                namespaces.append(name)
        # The underlay last: the machines' ends of their veths go first, the operator's with it.
        if layout.underlay in namespaces:
            namespaces.remove(layout.underlay)
            namespaces.append(layout.underlay)
        elif namespace_listed(listing, layout.underlay):
            namespaces.append(layout.underlay)
        if layout.operator_link not in links:
            links.append(layout.operator_link)
        wiring.clean_leftovers(Path(data_dir))  # while the bridges they refer to remain
        gone = _delete(namespaces, links)
        state_file.unlink(missing_ok=True)
        if gone:
            log.warning("rack %s: deleted leftovers %s", prefix, ", ".join(gone))
        return gone

    def _new_namespace(self, name: str) -> None:
        self._namespaces.append(name)
        self._save()
        _ip(["netns", "add", name])
        _ip(["link", "set", "lo", "up"], name)

    def _save(self) -> None:
        """Write down what is about to be made, before making it (0600, replaced whole)."""
        state = {
            "prefix": self.prefix,
            "subnet": str(self.subnet),
            "namespaces": self._namespaces,
            "links": self._links,
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(state, out, indent=1)
        temporary.replace(self.state_file)


def overlapping_routes(subnet: ipaddress.IPv4Network, routes: list[dict]) -> list[str]:
    """The routes of ``ip -j route show table all`` that overlap ``subnet`` (a default
    route does not count: it covers everything)."""
    found = []
    for route in routes:
        destination = route.get("dst", "")
        if destination == "default":
            continue
        with contextlib.suppress(ValueError):
            if ipaddress.IPv4Network(destination, strict=False).overlaps(subnet):
                found.append(f"{destination} dev {route.get('dev', '?')}")
    return found


def namespaces_with_prefix(listing: str, prefix: str) -> list[str]:
    """Names from ``ip netns list`` (``name (id: 3)`` lines) that start ``<prefix>-``."""
    names = (line.split()[0] for line in listing.splitlines() if line.strip())
    return [name for name in names if name.startswith(f"{prefix}-")]


def namespace_listed(listing: str, name: str) -> bool:
    return any(line.split()[0] == name for line in listing.splitlines() if line.strip())


def _marked(namespace: str, mark: str) -> bool:
    """Whether ``namespace`` is a machine of the rack: its eth0's alias is the mark."""
    try:
        links = _ip_json(["link", "show", "dev", MACHINE_LINK], namespace)
    except RackError:
        return False
    return any(link.get("ifalias") == mark for link in links)


def _delete(namespaces: list[str], links: list[str]) -> list[str]:
    """Delete ``namespaces`` (their processes ended first) and root-namespace ``links``
    that exist; tries all of them, then raises the first failure."""
    gone, errors = [], []
    for name in namespaces:
        if qemu_host.namespace_exists(name):
            try:
                qemu_host.delete_namespace(name)
                gone.append(name)
            except (qemu_host.HostSetupError, subprocess.TimeoutExpired) as error:
                errors.append(RackError(f"cannot delete namespace {name}: {error}"))
    for link in links:
        if _link_exists(link):
            try:
                _ip(["link", "del", link])
                gone.append(link)
            except RackError as error:
                if _link_exists(link):
                    errors.append(error)
    if errors:
        raise errors[0]
    return gone


def _link_exists(link: str) -> bool:
    """Whether the root namespace has an interface ``link``."""
    try:
        _ip(["link", "show", "dev", link])
    except RackError:
        return False
    return True


def _ip_json(args: list[str], namespace: str | None = None) -> list[dict]:
    output = _ip(["-j", *args], namespace)
    try:
        return json.loads(output or "[]")
    except ValueError:
        raise RackError(f"ip -j {' '.join(args)} printed no JSON: {output[:200]!r}") from None


def _ip(args: list[str], namespace: str | None = None) -> str:
    """Run ``ip`` (in ``namespace`` if given); its standard output, or a RackError."""
    return iproute.run("ip", *args, netns=namespace or "", timeout=TIMEOUT, error=RackError)
