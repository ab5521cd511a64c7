"""One network's DHCP server: a dnsmasq in the network's ``qdhcp-<id>`` namespace.

As Neutron's DHCP agent does, each network gets one dnsmasq, run in the
foreground as a child of the caller, serving only the addresses IPAM gave the
network's ports (``static`` ranges: no dynamic pool, an unknown MAC gets no
offer). The command line:

    ip netns exec qdhcp-NET dnsmasq -k --conf-file=/dev/null \\
      --no-hosts --no-resolv --port=0 --dhcp-leasefile=DIR/leases \\
      --bind-interfaces --interface=TAP --pid-file=DIR/dnsmasq.pid --user=nobody \\
      --dhcp-hostsfile=DIR/host --dhcp-optsfile=DIR/opts \\
      --dhcp-range=set:subnet-SUBNET,10.0.0.0,static,255.255.255.0,86400s \\
      --dhcp-range=set:subnet-SUBNET6,fd00::,static|ra-stateless|slaac,64,86400s \\
      --enable-ra --ra-param=TAP,mtu:MTU,0,0  (only with an IPv6 subnet)

``--port=0``: no DNS service, so guests are told only the subnet's name
servers. The lease file lets the agent see what dnsmasq holds:
:meth:`DhcpServer.release_unused` releases the leases of host entries gone
(dhcp_leases.py), which dnsmasq would otherwise keep, refusing their
addresses to the next port's MAC.

IPv6 follows the subnet's address mode: DHCPv6-stateful hands out the port's
address (RA with the M bit), DHCPv6-stateless only options (RA with O and A),
SLAAC the RA (A bit) and no DHCPv6 address; the RA never names this server a
default router (lifetime 0), the subnet's gateway is the router. v6 ports are
in the hosts file only for stateful subnets, as in Neutron.

dnsmasq re-reads the hosts and opts files on SIGHUP (``dnsmasq(8)``), so
:meth:`DhcpServer.reload` after :meth:`DhcpServer.write` changes what it serves
without a restart; a new subnet needs a restart (its range is an argument).
After a crash of the caller the dnsmasq outlives it; :meth:`DhcpServer.start`
stops the one named by the pid file first (a pid reused by another program is
left alone). Every file is in ``data_dir`` (0700, files 0600), owned by the
user dnsmasq drops root for (``nobody``), so that it can re-read them after
the drop: the parents of ``data_dir`` must be searchable by that user.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from components.framework import daemons, iproute
from components.network import dhcp_leases

log = logging.getLogger(__name__)

DNSMASQ = "/usr/sbin/dnsmasq"
LEASE = "86400s"
# dnsmasq drops root after binding; the user it runs as owns data_dir to re-read it on SIGHUP.
USER = "nobody"
START_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 5.0
# The subnet's ipv6_address_mode (Neutron's values) -> dnsmasq's range mode.
V6_MODES = {"dhcpv6-stateful": "static", "dhcpv6-stateless": "ra-stateless", "slaac": "slaac"}


class DhcpError(iproute.CommandFailed):
    """dnsmasq could not be started; the message says why (for a failed ip command,
    which also carries the command and its stderr)."""


@dataclasses.dataclass(frozen=True)
class DhcpSubnet:
    """What dnsmasq needs of a subnet; ``dhcp_ip`` is the DHCP port's address in it."""

    id: str
    cidr: str
    dhcp_ip: str
    gateway_ip: str = ""
    dns_nameservers: tuple[str, ...] = ()
    ipv6_address_mode: str = "dhcpv6-stateful"
    # The network's MTU, told to guests (DHCPv4 option 26, the RA's MTU option); 0: not told.
    mtu: int = 0

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr)


@dataclasses.dataclass(frozen=True)
class DhcpPort:
    """A port's MAC and fixed IPs as ``(subnet_id, ip)`` pairs (Port.fixed_ips' shape)."""

    mac_address: str
    fixed_ips: tuple[tuple[str, str], ...]


def range_args(subnets: Sequence[DhcpSubnet], interface: str) -> list[str]:
    """The ``--dhcp-range`` arguments (and RA ones for IPv6), one range per subnet."""
    args, v6 = [], False
    for subnet in subnets:
        net = subnet.network
        tag = f"set:subnet-{subnet.id}"
        if net.version == 4:
            args.append(f"--dhcp-range={tag},{net.network_address},static,{net.netmask},{LEASE}")
            continue
        mode = V6_MODES.get(subnet.ipv6_address_mode)
        if mode is None:
            raise ValueError(f"unknown ipv6_address_mode {subnet.ipv6_address_mode!r}")
        args.append(f"--dhcp-range={tag},{net.network_address},{mode},{net.prefixlen},{LEASE}")
        v6 = True
    if v6:
        mtu = max((s.mtu for s in subnets), default=0)
        args += ["--enable-ra", f"--ra-param={interface},{f'mtu:{mtu},' if mtu else ''}0,0"]
    return args


def host_entries(subnets: Sequence[DhcpSubnet], ports: Sequence[DhcpPort]) -> list[tuple[str, str]]:
    """``(MAC, IP)`` per fixed IP dnsmasq should hand out (v6: stateful subnets only)."""
    by_id = {s.id: s for s in subnets}
    entries = []
    for port in ports:
        for subnet_id, ip in port.fixed_ips:
            subnet = by_id.get(subnet_id)
            if subnet is None:
                continue
            if subnet.network.version == 4 or subnet.ipv6_address_mode == "dhcpv6-stateful":
                entries.append((port.mac_address, ip))
    return entries


def hosts_lines(subnets: Sequence[DhcpSubnet], ports: Sequence[DhcpPort]) -> list[str]:
    """The hosts file: ``MAC,IP`` (``MAC,[IPv6]``) per fixed IP dnsmasq should hand out."""
    return [
        f"{mac},{ip}" if ipaddress.ip_address(ip).version == 4 else f"{mac},[{ip}]"
        for mac, ip in host_entries(subnets, ports)
    ]


def opts_lines(subnets: Sequence[DhcpSubnet]) -> list[str]:
    """The opts file: each subnet's router and MTU (v4) and name servers, by subnet tag."""
    lines = []
    for subnet in subnets:
        tag = f"tag:subnet-{subnet.id}"
        if subnet.network.version == 4:
            # An empty router option keeps dnsmasq from offering itself.
            lines.append(f"{tag},option:router,{subnet.gateway_ip}".rstrip(","))
            if subnet.mtu:
                lines.append(f"{tag},option:mtu,{subnet.mtu}")
            if subnet.dns_nameservers:
                lines.append(f"{tag},option:dns-server,{','.join(subnet.dns_nameservers)}")
        elif subnet.dns_nameservers:
            servers = ",".join(f"[{a}]" for a in subnet.dns_nameservers)
            lines.append(f"{tag},option6:dns-server,{servers}")
    return lines


class DhcpServer:
    """One network's dnsmasq: :meth:`write`, :meth:`start`, :meth:`reload`, :meth:`stop`."""

    def __init__(
        self, network_id: str, data_dir: Path, namespace: str | None = None, interface: str = ""
    ):
        self.network_id = network_id
        self.namespace = namespace or f"qdhcp-{network_id}"
        self.interface = interface
        self.data_dir = Path(data_dir).resolve()
        self.pid_file = self.data_dir / "dnsmasq.pid"
        self.hosts_file = self.data_dir / "host"
        self.opts_file = self.data_dir / "opts"
        self.log_file = self.data_dir / "dnsmasq.log"
        self.lease_file = self.data_dir / "leases"
        self.subnets: tuple[DhcpSubnet, ...] = ()
        self.hosts: tuple[tuple[str, str], ...] = ()  # (MAC, IP) as written
        self.process: subprocess.Popen | None = None

    def write(self, subnets: Sequence[DhcpSubnet], ports: Sequence[DhcpPort]) -> None:
        """Write the hosts and opts files (atomically) for these subnets and ports."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self.subnets = tuple(subnets)
        self.hosts = tuple(host_entries(self.subnets, ports))
        _write_atomic(self.hosts_file, hosts_lines(self.subnets, ports))
        _write_atomic(self.opts_file, opts_lines(self.subnets))
        if os.geteuid() == 0:
            user = pwd.getpwnam(USER)
            for path in (self.data_dir, self.hosts_file, self.opts_file):
                os.chown(path, user.pw_uid, user.pw_gid)

    def command(self) -> list[str]:
        """dnsmasq's command line (without the namespace; see the module docstring)."""
        return [
            DNSMASQ,
            "-k",
            "--conf-file=/dev/null",
            "--no-hosts",
            "--no-resolv",
            "--port=0",
            f"--dhcp-leasefile={self.lease_file}",
            "--bind-interfaces",
            f"--interface={self.interface}",
            f"--pid-file={self.pid_file}",
            f"--user={USER}",
            f"--dhcp-hostsfile={self.hosts_file}",
            f"--dhcp-optsfile={self.opts_file}",
            *range_args(self.subnets, self.interface),
        ]

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Put each subnet's DHCP address on the interface and run dnsmasq until :meth:`stop`.

        A dnsmasq running already, ours or left by an earlier run (same pid
        file), is stopped first: a new subnet needs this restart.
        Raises :class:`DhcpError` if dnsmasq is missing, exits, or has not
        written its pid file within ``timeout`` seconds.
        """
        if not self.subnets:
            raise DhcpError("write() the subnets before start()")
        self.stop()  # ours, if running (a restart), else one left by a crashed run
        for subnet in self.subnets:
            address = f"{subnet.dhcp_ip}/{subnet.network.prefixlen}"
            nodad = ("nodad",) if subnet.network.version == 6 else ()
            self._ip("addr", "replace", address, "dev", self.interface, *nodad)
        self._ip("link", "set", self.interface, "up")
        command = ["ip", "netns", "exec", self.namespace, *self.command()]
        try:
            with open(_create_private(self.log_file), "wb") as stderr:
                self.process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
                )
        except OSError as exc:
            raise DhcpError(f"cannot run dnsmasq: {exc}") from exc
        try:
            self._wait_started(timeout)
        except BaseException:
            self.stop()
            raise
        log.info("dnsmasq %s serving network %s", self.process.pid, self.network_id)

    def reload(self) -> None:
        """Make dnsmasq re-read the hosts and opts files (SIGHUP)."""
        if self.process is None or self.process.poll() is not None:
            raise DhcpError(f"dnsmasq of network {self.network_id} is not running")
        self.process.send_signal(signal.SIGHUP)

    def release_unused(self) -> list[dhcp_leases.Lease]:
        """Release the leases dnsmasq holds for no host entry written (a port deleted, or
        its MAC or address changed): else it refuses their addresses to other MACs
        until they expire. Bounded; never raises for a failed release (dhcp_leases)."""
        return dhcp_leases.release(self.lease_file, self.namespace, self.interface, self.hosts)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """End dnsmasq (SIGTERM, then SIGKILL after ``timeout``); idempotent."""
        if self.process is not None:
            daemons.stop_child(self.process, timeout, f"dnsmasq of network {self.network_id}")
        stop_stale(self.pid_file)

    def _wait_started(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.log_file.read_text(errors="replace").strip()[-500:]
                raise DhcpError(f"dnsmasq exited ({self.process.returncode}): {error}")
            if daemons.read_pid(self.pid_file) == self.process.pid:
                return
            time.sleep(0.05)
        raise DhcpError(f"dnsmasq wrote no pid file in {timeout} s")

    def _ip(self, *args: str) -> None:
        iproute.run("ip", *args, netns=self.namespace, error=DhcpError)


def stop_stale(pid_file: Path, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
    """Stop the dnsmasq named by ``pid_file`` if it is still ours; remove the file."""
    return daemons.stop_stale(pid_file, "dnsmasq", f"--pid-file={pid_file}", timeout)


def _create_private(path: Path) -> Path:
    """``path`` emptied and 0600."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return path


def _write_atomic(path: Path, lines: Sequence[str]) -> None:
    """Replace ``path`` (0600) by ``lines`` in one rename."""
    tmp = _create_private(path.with_name(f".{path.name}.tmp"))
    with open(tmp, "w") as out:
        out.write("".join(f"{line}\n" for line in lines))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
