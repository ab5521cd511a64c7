"""Real guests for run-all (``HYPERVISOR=qemu``): QEMU, libvirtd and a network namespace.

What this machine needs and what run-all starts for it:

* Debian packages (installed when missing, without systemd): the monolithic
  ``libvirtd`` with its QEMU driver, QEMU, ``dnsmasq`` (and ``dhcp_release``
  from dnsmasq-utils) for the network service's DHCP agent, ``iptables``, which
  libvirtd's network driver looks for; a ``libvirt-qemu`` user and group, which
  libvirtd insists on even when told to run QEMU as root.
* A network namespace of its own: ``virtlogd`` and ``libvirtd`` run inside it,
  so the guests' taps and the networks' bridges live there (wiring.py) and no
  guest packet leaves it. The namespace has nothing but loopback.
* A libvirt of its own: each daemon sees ``<data_dir>/libvirt/{run,lib,etc,log,
  cache}`` bind-mounted over ``/run/libvirt``, ``/var/lib/libvirt``,
  ``/etc/libvirt``, ... in a private mount namespace (``ip netns exec`` makes
  one), so two clouds on one machine (run-all and the tests) never share a
  domain, a network or a socket. The compute hosts, outside the namespace,
  reach libvirtd through its unix socket: ``qemu:///system?socket=...``.

Each start of run-all is, to libvirt, a boot of the host: ``run`` is emptied,
guests left from the previous run are defined but shut off, guest networks
come back (autostart). The daemons log to ``<data_dir>/libvirt/log/``, QEMU to
``<data_dir>/libvirt/log/qemu/<domain>.log`` (through virtlogd).

Stopping run-all stops the daemons (last, after the compute hosts), then
ends what is still running in the namespace (guests' QEMU, dnsmasq) and
deletes it. If run-all dies without doing so (SIGKILL), the daemons get
SIGTERM from the kernel (lifeline.py) and a reaper it started beside them
(``python -m components.supervisor.qemu_host reap NAMESPACE``, which waits
for its standard input to close) ends the rest and deletes the namespace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from components.supervisor import wiring
from components.supervisor.plan import ProcessSpec

log = logging.getLogger(__name__)

PACKAGES = (
    "libvirt-daemon",
    "libvirt-daemon-driver-qemu",
    "qemu-system-x86",
    "qemu-utils",
    "dnsmasq-base",
    "dnsmasq-utils",
    "iptables",
)
QEMU_USER = "libvirt-qemu"
# <data_dir>/libvirt/<name> is what the daemons see at <path>.
MOUNTS = (
    ("run", "/run/libvirt"),
    ("lib", "/var/lib/libvirt"),
    ("etc", "/etc/libvirt"),
    ("log", "/var/log/libvirt"),
    ("cache", "/var/cache/libvirt"),
)
# Run by `sh -c` as the daemon's wrapper: $0 is <data_dir>/libvirt, "$@" the daemon.
# libvirtd runs with umask 022 (not run-all's 077) and what it keeps in the
# mounted directories is world-readable: the dnsmasq it starts drops to an
# unprivileged user and must still read its configuration and DHCP host files.
# Other local users reach none of it: the mounts exist only in the daemons'
# mount namespace, and the data directory holding their sources is 0700.
MOUNT_AND_EXEC = (
    "set -e; umask 022; for pair in "
    + " ".join(f"{src}:{dst}" for src, dst in MOUNTS)
    + '; do src=${pair%%:*}; dst=${pair#*:}; mkdir -p "$0/$src" "$dst"; '
    + 'chmod -R go+rX "$0/$src"; mount --bind "$0/$src" "$dst"; done; exec "$@"'
)
CONFIG_FILES = {
    "libvirtd.conf": (
        'auth_unix_rw = "none"\nauth_unix_ro = "none"\nunix_sock_rw_perms = "0700"\n'
        'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n'
    ),
    "virtlogd.conf": 'log_outputs = "3:file:/var/log/libvirt/virtlogd.log"\n',
    # As root in a container: QEMU runs as root, libvirt leaves file owners and
    # security labels alone (the data directory is Stratus's, not libvirt's).
    "qemu.conf": (
        'user = "root"\ngroup = "root"\ndynamic_ownership = 0\nremember_owner = 0\n'
        'security_driver = "none"\n'
    ),
}


class HostSetupError(Exception):
    """This machine cannot run real guests (not root, no apt, no namespaces, ...)."""


def missing_packages() -> list[str]:
    return [p for p in PACKAGES if not _succeeds(["dpkg", "-s", p])]


def ensure_installed() -> None:
    """Install the Debian packages real guests need, and the QEMU user, if missing."""
    if os.geteuid() != 0:
        raise HostSetupError("real guests need root (libvirtd, network namespaces)")
    missing = missing_packages()
    if missing:
        log.info("installing %s", " ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        _run(["apt-get", "update", "-qq"], env=env)
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
        _run(install, env=env)
    if not _succeeds(["getent", "group", QEMU_USER]):
        _run(["groupadd", "-r", QEMU_USER])
    if not _succeeds(["getent", "passwd", QEMU_USER]):
        home, shell = "/var/lib/libvirt", "/usr/sbin/nologin"
        _run(["useradd", "-r", "-g", QEMU_USER, "-d", home, "-s", shell, QEMU_USER])


@dataclasses.dataclass(frozen=True)
class QemuHost:
    """The libvirt of one host of real guests: its directory and its network namespace.

    One machine: the cloud's only host, ``<data_dir>/libvirt``, in a namespace of its
    own that it makes and deletes. A rack's compute machine (``name`` "compute-1"):
    ``<data_dir>/libvirt-compute-1``, daemons ``virtlogd-compute-1`` and
    ``libvirtd-compute-1``, in the machine's namespace, which the rack makes and
    deletes (``owns_namespace`` False); its VXLAN endpoint is the machine's address
    on its underlay interface, and its guests' NBD disks use TLS with the
    certificate of its compute host (:meth:`install_nbd_credentials`).
    """

    data_dir: Path
    namespace: str
    name: str = ""
    owns_namespace: bool = True
    tunnel_ip: str = wiring.LOOPBACK_TUNNEL_IP
    underlay_device: str = wiring.LOOPBACK_DEVICE
    nbd_tls: bool = False

    @property
    def root(self) -> Path:
        return self.data_dir / (f"libvirt-{self.name}" if self.name else "libvirt")

    @property
    def socket(self) -> Path:
        return self.root / "run" / "libvirt-sock"

    @property
    def uri(self) -> str:
        return f"qemu:///system?socket={self.socket}"

    @property
    def nbd_tls_dir(self) -> Path:
        """QEMU's client credentials for NBD disks (ca-cert.pem, client-cert.pem,
        client-key.pem; outside the directories the daemons' wrapper opens to all)."""
        return self.root / "nbd-tls"

    def compute_env(self) -> dict[str, str]:
        """What its compute host is told: this libvirtd, guests' NICs on bridges (in the
        guests' namespace on one machine; in the machine's own on a rack), VXLAN from
        its tunnel address, and the domain type a start-up probe picks."""
        return wiring.compute_env(
            self.uri,
            self.tunnel_ip,
            self.underlay_device,
            self.namespace if self.owns_namespace else "",
        )

    def qemu_conf(self) -> str:
        """qemu.conf: QEMU as root, and with ``nbd_tls`` TLS on every NBD disk."""
        text = CONFIG_FILES["qemu.conf"]
        if self.nbd_tls:
            text += f'nbd_tls = 1\nnbd_tls_x509_cert_dir = "{self.nbd_tls_dir}"\n'
        return text

    def prepare(self) -> None:
        """Directories, configuration files and (if it owns one) a fresh network
        namespace: to libvirt, each start of run-all is a boot of the host (nothing of a
        previous run is running)."""
        if self.owns_namespace:
            if namespace_exists(self.namespace):
                delete_namespace(self.namespace)
        elif not namespace_exists(self.namespace):
            raise HostSetupError(f"network namespace {self.namespace} does not exist")
        # /run is emptied at boot: stale sockets would look like running daemons, and
        # its "autostarted" markers would keep libvirtd from starting guest networks.
        shutil.rmtree(self.root / "run", ignore_errors=True)
        for name, _ in MOUNTS:
            (self.root / name).mkdir(parents=True, exist_ok=True)
        for name, text in {**CONFIG_FILES, "qemu.conf": self.qemu_conf()}.items():
            (self.root / "etc" / name).write_text(text)
        if self.owns_namespace:
            _run(["ip", "netns", "add", self.namespace])
            _run(["ip", "-n", self.namespace, "link", "set", "lo", "up"])

    def install_nbd_credentials(self, ca_file: Path, cert_file: Path, key_file: Path) -> Path:
        """QEMU's TLS client credentials for NBD disks, from the compute host's own
        certificate (subject ``OU=service,CN=<host>``, which the volume service's
        exports may allow by name)."""
        from components.volume import nbd

        return nbd.make_tls_dir(self.nbd_tls_dir, ca_file, cert_file, key_file, "client")

    def daemons(self) -> list[ProcessSpec]:
        """virtlogd, then libvirtd, each inside the namespace with this host's libvirt."""
        return [
            self._daemon("virtlogd", self.root / "run" / "virtlogd-sock"),
            self._daemon("libvirtd", self.socket),
        ]

    def _daemon(self, daemon: str, socket: Path) -> ProcessSpec:
        command = (
            *("ip", "netns", "exec", self.namespace),
            *("sh", "-c", MOUNT_AND_EXEC, str(self.root)),
            *(daemon, "-f", f"/etc/libvirt/{daemon}.conf"),
            # Not the default /run/<daemon>.pid: /run is shared by every host's daemons.
            *("-p", f"/run/libvirt/{daemon}.pid"),
        )
        env = dict(os.environ)
        name = f"{daemon}-{self.name}" if self.name else daemon
        machine = "" if self.owns_namespace else self.name
        return ProcessSpec(
            name, "", 0, env, command=command, unix_socket=str(socket), machine=machine
        )

    def teardown(self) -> None:
        """End what is left in its namespace (guests, dnsmasq), then delete it (a rack's
        machine: the rack does)."""
        if self.owns_namespace and namespace_exists(self.namespace):
            delete_namespace(self.namespace)


def namespace_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def namespace_pids(name: str) -> list[int]:
    result = subprocess.run(
        ["ip", "netns", "pids", name], capture_output=True, text=True, timeout=30
    )
    return [int(pid) for pid in result.stdout.split()]


def delete_namespace(name: str, grace: float = 5.0) -> None:
    """Stop every process in the namespace (only Stratus's run there), then delete it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = namespace_pids(name)
        for pid in pids:
            _signal(pid, sig)
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            time.sleep(0.1)
            pids = namespace_pids(name)
        if not pids:
            break
    _run(["ip", "netns", "del", name])


def start_reaper(*namespaces: str, data_dir: Path | None = None) -> subprocess.Popen:
    """A process that deletes ``namespaces`` (in order) once its standard input closes, which
    happens when run-all exits, however it exits (the pipe's write end is run-all's alone).
    With ``data_dir`` it then also cleans what the services of real guests of that run
    left outside them (wiring.clean_leftovers: DHCP namespaces, NBD exports)."""
    cleanup = ["--data-dir", str(data_dir)] if data_dir is not None else []
    return subprocess.Popen(
        [sys.executable, "-m", "components.supervisor.qemu_host", "reap", *cleanup, *namespaces],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # the terminal's signals are not for it
    )


def stop_reaper(reaper: subprocess.Popen, timeout: float = 30.0) -> None:
    """Let the reaper go (its namespace is gone already) and wait for it."""
    if reaper.stdin:
        reaper.stdin.close()
    try:
        reaper.wait(timeout)
    except subprocess.TimeoutExpired:
        reaper.kill()
        reaper.wait()


def reap(*namespaces: str, data_dir: Path | None = None) -> int:
    """Wait for standard input to close, then clean what the services of the run of
    ``data_dir`` left outside ``namespaces``, end everything in each of ``namespaces`` and
    delete it (one that cannot be deleted does not keep the others), and clean again."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while sys.stdin.buffer.read(4096):
        pass
    # The services' leftovers first, while what they refer to (the bridges in the guests'
    # namespace) is still there; again after, for what they made in the meantime.
    if data_dir is not None:
        wiring.clean_leftovers(data_dir)
    failed = 0
    for namespace in namespaces:
        if namespace_exists(namespace):
            log.warning("run-all is gone: deleting network namespace %s", namespace)
            try:
                delete_namespace(namespace)
            except (HostSetupError, subprocess.TimeoutExpired) as error:
                log.error("%s", error)
                failed = 1
    if data_dir is not None:
        wiring.clean_leftovers(data_dir)
    return failed


def reaper_arguments(argv: list[str]) -> tuple[Path | None, list[str]]:
    """``[--data-dir DIR] NAMESPACE...``: the data directory (or None) and the namespaces."""
    if argv[:1] == ["--data-dir"] and len(argv) >= 2:
        return Path(argv[1]), argv[2:]
    return None, argv


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _succeeds(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    except FileNotFoundError:
        raise HostSetupError(f"{command[0]} is not installed") from None
    if result.returncode != 0:
        raise HostSetupError(f"{' '.join(command)} failed: {result.stderr.strip()}")


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "reap":
        sys.exit("usage: python -m components.supervisor.qemu_host reap [--data-dir DIR] NS...")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s reaper: %(message)s")
    reaped_dir, reaped = reaper_arguments(sys.argv[2:])
    sys.exit(reap(*reaped, data_dir=reaped_dir))
