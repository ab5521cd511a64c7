"""Driving run-all across machines (``--machines N``) from tests: start, reach, watch, stop.

A run is the supervisor as a subprocess building a rack of network namespaces
(components/supervisor/rack.py) with the prefix ``stratus<tag>``; every
address of it is inside those namespaces, reached from the root namespace
through the operator's veth ``<prefix>-op``. Every call goes over TLS with the
run's CA (and the operator's certificate where one is needed).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc

from components.framework import tls
from components.framework.auth import TOKEN_HEADER
from components.framework.targets import ROUND_ROBIN, grpc_target
from components.supervisor.rack import tag_for_port_offset
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc

# run-all reads these at start (the config classes of compute, conductor, scheduler):
# a host that stops reporting is DOWN after 4 s, and a build in its hands fails after 4 s.
FAST_FAULTS = {
    "STRATUS_COMPUTE_REPORT_INTERVAL_SECONDS": "1",
    "STRATUS_CONDUCTOR_REPORT_INTERVAL_SECONDS": "1",
    "STRATUS_SCHEDULER_SERVICE_DOWN_TIME_SECONDS": "4",
    # ... and deleting a server on it is a local delete after as long.
    "STRATUS_API_SERVICE_DOWN_TIME_SECONDS": "4",
    "STRATUS_CONDUCTOR_SWEEP_INTERVAL_SECONDS": "1",
    "STRATUS_CONDUCTOR_HOST_DOWN_SECONDS": "4",
    "STRATUS_CONDUCTOR_BUILD_START_TIMEOUT_SECONDS": "20",
    # A build a killed api replica held is taken by the other one after this.
    "STRATUS_API_BUILD_REQUEST_LEASE_SECONDS": "3",
}
READY_WITHIN = 150.0
STOP_WITHIN = 60.0
CLONE_NEWNET = 0x40000000
ETH_P_ALL = 3


def why_not() -> str | None:
    """Why a run across machines cannot happen here, or None."""
    if os.geteuid() != 0:
        return "a run across machines needs root (network namespaces)"
    if shutil.which("ip") is None or shutil.which("ss") is None:
        return "ip and ss (iproute2) are not installed"
    probe = f"strmprobe{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "network namespaces cannot be created here (ip netns add failed)"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    from components.supervisor import postgres

    if postgres.bin_dir() is None:
        return "PostgreSQL is not installed (initdb, postgres): the controller's database"
    return None


def prefix_for(port_offset: int) -> str:
    """The rack's name prefix run-all at ``port_offset`` uses."""
    return f"stratus{tag_for_port_offset(port_offset)}"


class Run:
    """One run-all across machines: its ready file, credentials and channels."""

    def __init__(self, info: dict, data_dir: Path, process: subprocess.Popen, output: Path):
        self.info = info
        self.data_dir = data_dir
        self.process = process
        self.output = output
        self.addresses: dict[str, str] = info["addresses"]
        self.internal: dict[str, str] = info["internal"]
        self.ids: dict[str, str] = info["ids"]
        self.passwords: dict[str, str] = info["passwords"]
        self.machines: dict[str, dict] = info["machines"]
        files = info["tls"]
        self.operator = tls.Tls.from_files(files["ca"], files["cert"], files["key"])
        self.ca_only = tls.Tls.from_files(files["ca"])
        self._channels: dict[tuple, grpc.Channel] = {}
        self._tokens: dict[str, identity_pb2.IssueTokenResponse] = {}

    @property
    def prefix(self) -> str:
        return self.machines["controller"]["namespace"].rsplit("-", 1)[0]

    def namespaces(self) -> list[str]:
        return [m["namespace"] for m in self.machines.values()] + [f"{self.prefix}-underlay"]

    def machine_of(self, address: str) -> str:
        """The machine whose underlay addresses hold ``address`` ("host:port")."""
        host = address.rpartition(":")[0].strip("[]")
        return next(n for n, m in self.machines.items() if host in m["addresses"])

    def channel(
        self, target: str, security: tls.Tls | None, service: str = "", round_robin: bool = False
    ) -> grpc.Channel:
        """One channel per target and credentials for the whole run (closed by close())."""
        key = (target, id(security), service)
        if key not in self._channels:
            options = (("grpc.service_config", ROUND_ROBIN),) if round_robin else ()
            self._channels[key] = tls.channel(target, security, options, server_name=service)
        return self._channels[key]

    def public(self, name: str) -> grpc.Channel:
        """A user's channel to one process (verifying it by its service type)."""
        return self.channel(self.addresses[name], self.ca_only, service_of(name))

    def operator_channel(self, name: str) -> grpc.Channel:
        """The operator's channel (with its certificate) to a process's internal address."""
        return self.channel(self.internal[name], self.operator, service_of(name))

    def replicas_channel(self, service: str) -> grpc.Channel:
        """A user's channel to every replica of ``service`` at once, round-robin."""
        names = [n for n in self.addresses if service_of(n) == service]
        target = grpc_target([self.addresses[n] for n in names])
        return self.channel(target, self.ca_only, service, round_robin=True)

    def token_reply(self, user: str = "demo") -> identity_pb2.IssueTokenResponse:
        if user not in self._tokens:
            stub = identity_grpc.IdentityStub(self.public("identity"))
            self._tokens[user] = stub.IssueToken(
                identity_pb2.IssueTokenRequest(
                    username=user, password=self.passwords[user], project_name=user
                ),
                timeout=10,
            )
        return self._tokens[user]

    def forget_tokens(self) -> None:
        """Issue every user's token anew on its next use."""
        self._tokens.clear()

    def md(self, user: str = "demo") -> tuple:
        return ((TOKEN_HEADER, self.token_reply(user).token),)

    def service_token(self, user: str) -> str:
        """A fresh token of service user ``user`` (its password from the run's secrets)."""
        password = (self.data_dir / "secrets" / f"{user}.password").read_text().strip()
        stub = identity_grpc.IdentityStub(self.public("identity"))
        request = identity_pb2.IssueTokenRequest(
            username=user, password=password, project_name="service"
        )
        return stub.IssueToken(request, timeout=10).token

    def supervisor_log(self) -> str:
        return self.output.read_text(errors="replace")

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def stop(self, signum: int = signal.SIGINT, timeout: float = STOP_WITHIN) -> int:
        """Signal run-all (by its pid) and wait for it; its exit status."""
        self.close()
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"run-all did not stop within {timeout:.0f}s") from None


def service_of(name: str) -> str:
    """``api-2`` -> ``api``, ``compute-3`` -> ``compute``."""
    return name.split("-")[0]


@contextlib.contextmanager
def start_run(
    data_dir: Path,
    port_offset: int,
    machines: int,
    replicas: int = 0,
    env: dict[str, str] | None = None,
    hypervisor: str = "test",
    ready_within: float = READY_WITHIN,
) -> Iterator[Run]:
    """run-all with ``--machines`` as a subprocess, until it is ready; stopped (SIGINT,
    then SIGKILL) on the way out if the test has not stopped it."""
    ready, output = data_dir / "ready.json", data_dir / "run-all.out"
    argv = [sys.executable, "-m", "components.supervisor", "--machines", str(machines)]
    argv += ["--data-dir", str(data_dir), "--port-offset", str(port_offset)]
    argv += ["--ready-file", str(ready), "--quiet"]
    if replicas:
        argv += ["--replicas", str(replicas)]
    if hypervisor != "test":
        argv += ["--hypervisor", hypervisor]
    output.touch(mode=0o600)
    with output.open("wb") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
            cwd=Path(__file__).resolve().parents[2],
        )
    run = None
    try:
        deadline = time.monotonic() + ready_within
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"run-all did not come up:\n{tails(output, data_dir)}")
            time.sleep(0.2)
        run = Run(json.loads(ready.read_text()), data_dir, process, output)
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_WITHIN)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if run is not None:
            run.close()


def tails(output: Path, data_dir: Path) -> str:
    """The end of run-all's output and of every process's log."""
    logs = sorted((data_dir / "logs").glob("*.log")) if (data_dir / "logs").exists() else []
    return "".join(
        f"\n--- {f.name}\n{f.read_text(errors='replace')[-3000:]}"
        for f in [output, *logs]
        if f.exists()
    )


def leftovers(prefix: str) -> list[str]:
    """Namespaces and root-namespace links whose names start ``<prefix>-``."""
    namespaces = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, timeout=10
    ).stdout.split()
    links = subprocess.run(
        ["ip", "-o", "link"], capture_output=True, text=True, timeout=10
    ).stdout.splitlines()
    names = [n for n in namespaces if n.startswith(f"{prefix}-")]
    return names + [line.split(":")[1].strip() for line in links if f" {prefix}-" in line]


def wait_until(condition, timeout: float, interval: float = 0.2):
    """The first truthy value of ``condition()`` within ``timeout``, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


def in_namespace(namespace: str, argv: list[str]) -> str:
    """The standard output of ``argv`` run inside ``namespace``."""
    result = subprocess.run(
        ["ip", "netns", "exec", namespace, *argv],
        capture_output=True,
        text=True,
        timeout=15,
        check=True,
    )
    return result.stdout


def listening(namespace: str) -> list[tuple[str, int]]:
    """(address, port) of every TCP listener in ``namespace`` (IPv4-mapped shown as IPv4)."""
    found = []
    for line in in_namespace(namespace, ["ss", "-ltnH"]).splitlines():
        local = line.split()[3]
        host, _, port = local.rpartition(":")
        host = host.strip("[]").removeprefix("::ffff:")
        found.append((host, int(port)))
    return found


def namespace_pids(namespace: str) -> set[int]:
    out = subprocess.run(
        ["ip", "netns", "pids", namespace], capture_output=True, text=True, timeout=10
    ).stdout
    return {int(p) for p in out.split()}


class Capture:
    """Every frame crossing a namespace's interfaces (or one of them), read by a thread
    for at most ``limit`` seconds or until stop(); bounded in bytes too."""

    def __init__(
        self, interface: str = "", namespace: str = "", limit: float = 30.0, max_bytes=64 << 20
    ) -> None:
        self.sock = _packet_socket(interface, namespace)
        self.limit = limit
        self.max_bytes = max_bytes
        self.frames: list[bytes] = []
        self._size = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def __enter__(self) -> Capture:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _read(self) -> None:
        deadline = time.monotonic() + self.limit
        self.sock.settimeout(0.1)
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                frame = self.sock.recv(65535)
            except TimeoutError:
                continue
            if self._size + len(frame) > self.max_bytes:
                break
            self.frames.append(frame)
            self._size += len(frame)

    def stop(self) -> bytes:
        """Stop reading; everything captured, frames joined by a separator."""
        self._stop.set()
        self._thread.join(self.limit + 1)
        self.sock.close()
        return self.data

    @property
    def data(self) -> bytes:
        return b"\n--frame--\n".join(self.frames)


def _packet_socket(interface: str, namespace: str) -> socket.socket:
    """An AF_PACKET socket for every protocol, made inside ``namespace`` (by a thread that
    enters it and ends: the socket stays in that namespace, the test's threads do not
    move) and bound to ``interface`` if given."""
    made: list = []

    def make() -> None:
        try:
            if namespace:
                libc = ctypes.CDLL(None, use_errno=True)
                fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns into {namespace}")
                finally:
                    os.close(fd)
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
            if interface:
                sock.bind((interface, 0))
            made.append(sock)
        except OSError as exc:
            made.append(exc)

    thread = threading.Thread(target=make)
    thread.start()
    thread.join(10)
    if not made or isinstance(made[0], OSError):
        raise AssertionError(f"no packet socket in {namespace or 'root'}: {made}")
    return made[0]
