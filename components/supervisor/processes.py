"""Child processes: output prefixed on the terminal and kept in <data_dir>/logs/."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from components.supervisor.plan import ProcessSpec

log = logging.getLogger(__name__)
COLOURS = (31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96)


class Child:
    def __init__(self, spec: ProcessSpec, log_dir: Path, colour: int, echo: bool) -> None:
        self.spec = spec
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{spec.name}.log"
        self.restarts = 0
        self.process = subprocess.Popen(
            spec.argv(),
            env=spec.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        prefix = (
            f"\033[{colour}m{spec.name:>10}\033[0m | "
            if sys.stdout.isatty()
            else (f"{spec.name:>10} | ")
        )
        self._pump = threading.Thread(target=self._copy, args=(prefix, echo), daemon=True)
        self._pump.start()

    def _copy(self, prefix: str, echo: bool) -> None:
        with open(self.log_path, "ab") as log_file:
            for line in self.process.stdout:
                log_file.write(line)
                log_file.flush()
                if echo:
                    sys.stdout.write(prefix + line.decode(errors="replace"))
                    sys.stdout.flush()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)


def ensure_free(spec: ProcessSpec) -> None:
    """Refuse to start on a port something else holds (its health check would fool us)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", spec.port))
        except OSError:
            raise RuntimeError(
                f"port {spec.port} for {spec.name} is in use: is another Stratus running? "
                "(stop it, or use --port-offset)"
            ) from None


def wait_serving(spec: ProcessSpec, child: Child, timeout: float = 60.0) -> None:
    """Until the component's health service says SERVING (or it exits)."""
    if spec.unix_socket:
        wait_listening(spec, child, timeout)
        return
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(spec.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if not child.alive():
                raise RuntimeError(
                    f"{spec.name} exited with {child.process.returncode}; see {child.log_path}"
                )
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise TimeoutError(f"{spec.name} did not become SERVING within {timeout:.0f}s")


def wait_listening(spec: ProcessSpec, child: Child, timeout: float) -> None:
    """Until the daemon accepts connections on its unix socket (or it exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(
                f"{spec.name} exited with {child.process.returncode}; see {child.log_path}"
            )
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(spec.unix_socket)
                return
            except OSError:
                pass
        time.sleep(0.1)
    raise TimeoutError(f"{spec.name} did not listen on {spec.unix_socket} within {timeout:.0f}s")


class Supervisor:
    def __init__(self, log_dir: Path, echo: bool = True) -> None:
        self.log_dir = log_dir
        self.echo = echo
        self.children: list[Child] = []

    def start(self, spec: ProcessSpec) -> Child:
        ensure_free(spec)
        child = Child(spec, self.log_dir, COLOURS[len(self.children) % len(COLOURS)], self.echo)
        self.children.append(child)
        wait_serving(spec, child)
        return child

    def first_exited(self) -> Child | None:
        return next((c for c in self.children if not c.alive()), None)

    def restart(self, child: Child) -> Child:
        """Start a child that died again (as a service manager would), in its place."""
        index = self.children.index(child)
        fresh = Child(child.spec, self.log_dir, COLOURS[index % len(COLOURS)], self.echo)
        fresh.restarts = child.restarts + 1
        self.children[index] = fresh
        wait_serving(child.spec, fresh)
        return fresh

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM everything (newest first), then SIGKILL what is left after ``grace``."""
        for child in reversed(self.children):
            child.stop()
        deadline = time.monotonic() + grace
        for child in reversed(self.children):
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop; killing it", child.spec.name)
                child.process.kill()
                child.process.wait()
