"""The one narrow class between the compute host and libvirt-python.

Everything the host does to a hypervisor goes through :class:`LibvirtDriver`:
define and start a domain from XML, destroy and undefine it (idempotent),
shut it down, start it, read its state, list domains and describe the host.
A domain is named ``instance-<instance id>`` and its libvirt UUID is the
instance id, so either finds it.

Tests use libvirt's built-in ``test:///default`` driver: real libvirt, no
daemon. Its state is shared by every connection to it in one process, and it
starts with a running 8 GiB domain named ``test``. ``make run-all`` gives each
test host its own node definition instead (:func:`empty_host_xml`, opened as
``test:///<path>``): a host of the given size with no domain, as a real host
starts. Each connection to such a URI has its own state, so the host keeps
the one connection this class holds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import libvirt

from components.framework import Unavailable
from stratus.type.v1.instance_state_pb2 import PowerState

log = logging.getLogger(__name__)

# The namespace of the <metadata> element Stratus writes into each domain.
METADATA_NS = "https://stratus.dev/xmlns/instance/1"
NAME_PREFIX = "instance-"

# virDomainState values, named as the rest of the host uses them.
NOSTATE = libvirt.VIR_DOMAIN_NOSTATE
RUNNING = libvirt.VIR_DOMAIN_RUNNING
BLOCKED = libvirt.VIR_DOMAIN_BLOCKED
PAUSED = libvirt.VIR_DOMAIN_PAUSED
SHUTDOWN = libvirt.VIR_DOMAIN_SHUTDOWN  # being shut down
SHUTOFF = libvirt.VIR_DOMAIN_SHUTOFF
CRASHED = libvirt.VIR_DOMAIN_CRASHED
PMSUSPENDED = libvirt.VIR_DOMAIN_PMSUSPENDED

# virDomainState -> the power state the conductor records (nova's mapping). The only
# place libvirt's state numbers are translated: everyone else calls power_state_of().
POWER_STATES: dict[int, int] = {
    NOSTATE: PowerState.POWER_STATE_NOSTATE,
    RUNNING: PowerState.POWER_STATE_RUNNING,
    BLOCKED: PowerState.POWER_STATE_RUNNING,  # blocked on a resource, but running
    PAUSED: PowerState.POWER_STATE_PAUSED,
    SHUTDOWN: PowerState.POWER_STATE_SHUTDOWN,
    SHUTOFF: PowerState.POWER_STATE_SHUTDOWN,
    CRASHED: PowerState.POWER_STATE_CRASHED,
    PMSUSPENDED: PowerState.POWER_STATE_SUSPENDED,
}


def power_state_of(domain_state: int | None) -> int:
    """The PowerState of a virDomainState (None: no domain, so NOSTATE)."""
    if domain_state is None:
        return PowerState.POWER_STATE_NOSTATE
    return POWER_STATES.get(domain_state, PowerState.POWER_STATE_NOSTATE)


# Errors meaning the connection to libvirt itself is gone.
_CONNECTION_ERRORS = {libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_ERR_INVALID_CONN}
if hasattr(libvirt, "VIR_ERR_RPC"):
    _CONNECTION_ERRORS.add(libvirt.VIR_ERR_RPC)


def _quiet(_ctx, _err) -> None:
    """libvirt prints every error to stderr by default; we raise and log them instead."""


libvirt.registerErrorHandler(_quiet, None)


class HypervisorError(Exception):
    """libvirt refused or failed an operation on a domain."""


@dataclasses.dataclass(frozen=True)
class DomainInfo:
    name: str
    uuid: str
    # From the domain's Stratus metadata; empty for a domain Stratus did not create.
    instance_id: str
    host: str
    state: int
    vcpus: int
    memory_mib: int
    # (target, source, format) of each disk; (mac, type) of each interface.
    disks: tuple[tuple[str, str, str], ...] = ()
    interfaces: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class HostInfo:
    uri: str
    hypervisor_type: str
    hypervisor_version: str
    architecture: str
    vcpus: int
    memory_mib: int


def empty_host_xml(vcpus: int, ram_mib: int) -> str:
    """The node definition of an empty test-driver host with ``vcpus`` and ``ram_mib``."""
    return f"""<node>
  <cpu>
    <nodes>1</nodes>
    <sockets>1</sockets>
    <cores>{vcpus}</cores>
    <threads>1</threads>
    <active>{vcpus}</active>
    <mhz>2000</mhz>
    <model>x86_64</model>
  </cpu>
  <memory>{ram_mib * 1024}</memory>
</node>
"""


def domain_name(instance_id: str) -> str:
    return f"{NAME_PREFIX}{instance_id}"


def _version(number: int) -> str:
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


class LibvirtDriver:
    """One libvirt connection, reopened if it drops."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._conn: libvirt.virConnect | None = None
        self._lock = threading.Lock()
        self.connection()

    def connection(self) -> libvirt.virConnect:
        with self._lock:
            if self._conn is not None and self._alive(self._conn):
                return self._conn
            try:
                self._conn = libvirt.open(self.uri)
            except libvirt.libvirtError as exc:
                self._conn = None
                raise Unavailable(f"libvirt at {self.uri} cannot be reached: {exc}") from None
            return self._conn

    @staticmethod
    def _alive(conn: libvirt.virConnect) -> bool:
        try:
            return bool(conn.isAlive())
        except libvirt.libvirtError:
            return False

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except libvirt.libvirtError:
                    log.debug("closing libvirt connection failed", exc_info=True)
                self._conn = None

    # -- host ---------------------------------------------------------------------------

    def host_info(self) -> HostInfo:
        conn = self.connection()
        with _errors("describe the host"):
            arch, memory_mib, cpus, *_ = conn.getInfo()
            return HostInfo(
                uri=conn.getURI(),
                hypervisor_type=conn.getType(),
                hypervisor_version=_version(conn.getVersion()),
                architecture=arch,
                vcpus=cpus,
                memory_mib=memory_mib,
            )

    def list_domains(self) -> list[DomainInfo]:
        """Every domain defined on the host, running or not, ordered by name."""
        conn = self.connection()
        with _errors("list domains"):
            found = [self._describe(dom) for dom in conn.listAllDomains()]
        return sorted((d for d in found if d is not None), key=lambda d: d.name)

    # -- one domain ---------------------------------------------------------------------

    def domain(self, instance_id: str) -> DomainInfo | None:
        """The domain running ``instance_id``, or None."""
        dom = self._lookup(instance_id)
        return None if dom is None else self._describe(dom)

    def state(self, instance_id: str) -> int | None:
        """The virDomainState of the instance's domain, or None if there is none."""
        found = self.domain(instance_id)
        return None if found is None else found.state

    def stopped_by_guest(self, instance_id: str) -> bool:
        """Whether the instance's domain is off because the guest powered itself off
        (not because the host restarted, it crashed or it was destroyed)."""
        dom = self._lookup(instance_id)
        if dom is None:
            return False
        with _errors("read the domain state"):
            state, reason = dom.state()
        return state == SHUTOFF and reason == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN

    def define_and_start(self, xml: str) -> None:
        """Define a persistent domain and start it; nothing stays defined if starting fails."""
        conn = self.connection()
        with _errors("define the domain"):
            dom = conn.defineXML(xml)
        try:
            with _errors("start the domain"):
                dom.create()
        except HypervisorError:
            self._destroy_and_undefine(dom)
            raise

    def define(self, xml: str) -> None:
        """Define a persistent domain without starting it."""
        with _errors("define the domain"):
            self.connection().defineXML(xml)

    def destroy(self, instance_id: str) -> bool:
        """Power off and undefine the instance's domain; False if there was none."""
        dom = self._lookup(instance_id)
        if dom is None:
            return False
        self._destroy_and_undefine(dom)
        return True

    def shutdown(self, instance_id: str, timeout: float) -> None:
        """ACPI shutdown, then a forced power off if the guest is still up after ``timeout``."""
        if self.acpi_shutdown(instance_id, timeout):
            return
        dom = self._require(instance_id)
        log.warning("%s did not stop within %.0fs; powering off", dom.name(), timeout)
        with _errors("power the domain off"):
            _ignoring(libvirt.VIR_ERR_OPERATION_INVALID, dom.destroy)

    def acpi_shutdown(self, instance_id: str, timeout: float) -> bool:
        """Press the guest's ACPI power button and wait up to ``timeout`` for it to power
        off; whether it did (a guest that is not running has)."""
        dom = self._require(instance_id)
        if not dom.isActive():
            return True
        with _errors("shut the domain down"):
            dom.shutdown()
        return _wait(lambda: not dom.isActive(), timeout)

    def start(self, instance_id: str) -> None:
        """Start a defined domain; a running one is left as it is."""
        dom = self._require(instance_id)
        if dom.isActive():
            return
        with _errors("start the domain"):
            dom.create()

    # -- helpers ------------------------------------------------------------------------

    def _lookup(self, instance_id: str) -> libvirt.virDomain | None:
        conn = self.connection()
        try:
            return conn.lookupByUUIDString(instance_id)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise _translate(exc, "look the domain up") from None

    def _require(self, instance_id: str) -> libvirt.virDomain:
        dom = self._lookup(instance_id)
        if dom is None:
            raise HypervisorError(f"no domain for instance {instance_id} on this host")
        return dom

    def _destroy_and_undefine(self, dom: libvirt.virDomain) -> None:
        with _errors("destroy the domain"):
            if _ignoring(libvirt.VIR_ERR_NO_DOMAIN, dom.isActive):
                _ignoring(libvirt.VIR_ERR_OPERATION_INVALID, dom.destroy)
            _ignoring(libvirt.VIR_ERR_NO_DOMAIN, dom.undefine)

    def _describe(self, dom: libvirt.virDomain) -> DomainInfo | None:
        try:
            state, max_kib, _mem, vcpus, _cpu_time = dom.info()
            instance_id, host = _metadata(dom)
            disks, interfaces = _devices(dom.XMLDesc(0))
            return DomainInfo(
                name=dom.name(),
                uuid=dom.UUIDString(),
                instance_id=instance_id,
                host=host,
                state=state,
                vcpus=vcpus,
                memory_mib=max_kib // 1024,
                disks=disks,
                interfaces=interfaces,
            )
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None  # undefined while we looked
            raise _translate(exc, "describe a domain") from None


def _devices(xml: str) -> tuple[tuple, tuple]:
    """The disks and interfaces of a domain's XML, as ``virsh domblklist/domiflist``."""
    devices = ET.fromstring(xml).find("devices")
    if devices is None:
        return (), ()
    disks = tuple(
        (
            disk.find("target").get("dev", "") if disk.find("target") is not None else "",
            disk.find("source").get("file", "") if disk.find("source") is not None else "",
            disk.find("driver").get("type", "") if disk.find("driver") is not None else "",
        )
        for disk in devices.findall("disk")
    )
    interfaces = tuple(
        (
            nic.find("mac").get("address", "") if nic.find("mac") is not None else "",
            nic.get("type", ""),
        )
        for nic in devices.findall("interface")
    )
    return disks, interfaces


def _metadata(dom: libvirt.virDomain) -> tuple[str, str]:
    """(instance id, host) from the Stratus metadata element, or ("", "")."""
    try:
        text = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, METADATA_NS)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return "", ""
        raise
    element = ET.fromstring(text)
    return (element.findtext("id") or "").strip(), (element.findtext("host") or "").strip()


def _ignoring(code: int, fn, *args):
    try:
        return fn(*args)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != code:
            raise
        return None


def _wait(done, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if done():
                return True
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return True
            raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def _translate(exc: libvirt.libvirtError, doing: str) -> Exception:
    if exc.get_error_code() in _CONNECTION_ERRORS:
        return Unavailable(f"libvirt cannot be reached: {exc}")
    return HypervisorError(f"libvirt could not {doing}: {exc}")


@contextlib.contextmanager
def _errors(doing: str) -> Iterator[None]:
    """Turns a libvirtError raised in the block into HypervisorError or Unavailable."""
    try:
        yield
    except libvirt.libvirtError as exc:
        raise _translate(exc, doing) from None
