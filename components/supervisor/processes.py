"""Child processes: output prefixed on the terminal and kept in <data_dir>/logs/."""

from __future__ import annotations

import http.client
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from components.framework import lifeline, tls
from components.supervisor import ports
from components.supervisor.plan import ProcessSpec
from components.supervisor.restarts import RestartBudget, RestartPolicy

log = logging.getLogger(__name__)
COLOURS = (31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96)


class Child:
    """One process run-all started. It dies with run-all (lifeline.py): a component asks
    for that itself at start; any other program is started through the lifeline wrapper.
    Start children from the main thread only: the kernel's parent-death signal follows
    the thread that started the child."""

    def __init__(self, spec: ProcessSpec, log_dir: Path, colour: int, echo: bool) -> None:
        self.spec = spec
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{spec.name}.log"
        self.restarts = 0
        argv = spec.argv()
        if spec.command:
            argv = lifeline.wrap(argv, os.getpid())
        self.process = subprocess.Popen(
            argv,
            env={**spec.env, lifeline.PARENT_ENV: str(os.getpid())},
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
                    echo = _echo(prefix + line.decode(errors="replace"))

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)


def _echo(text: str) -> bool:
    """Copy a line to the terminal; False once the terminal is gone (closed: EIO), so the
    log file alone goes on getting the child's output and the child is never blocked."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
        return True
    except (OSError, ValueError):
        return False


def ensure_free(spec: ProcessSpec) -> None:
    """Refuse to start on a port something else holds (its health check would fool us).

    Only on this machine: a process on a machine of the rack has that machine's ports."""
    if spec.exec_prefix:
        return
    for port in (spec.port, spec.internal_port):
        if port and not ports.is_free(port):
            raise ports.PortBusy(ports.busy_message(spec.name, port))


def wait_serving(
    spec: ProcessSpec, child: Child, timeout: float = 60.0, security: tls.Tls | None = None
) -> None:
    """Until the component's health service says SERVING (or it exits); over TLS with
    ``security`` (the operator's certificate, which service-only ports demand)."""
    if spec.unix_socket:
        wait_listening(spec, child, timeout)
        return
    if spec.http_health:
        wait_http(spec, child, timeout, security)
        return
    deadline = time.monotonic() + timeout
    name = spec.service or spec.name
    with tls.channel(spec.address, security, server_name=name) as channel:
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


def wait_http(
    spec: ProcessSpec, child: Child, timeout: float, security: tls.Tls | None = None
) -> None:
    """Until GET ``spec.http_health`` answers 200 (or the process exits): over HTTPS
    verified with the run's CA when ``security`` is given, else plain HTTP; never
    through a proxy the environment names."""
    scheme = "http" if security is None else "https"
    url = f"{scheme}://{spec.address}{spec.http_health}"
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if security is not None:
        context = ssl.create_default_context(cadata=security.ca.decode())
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(
                f"{spec.name} exited with {child.process.returncode}; see {child.log_path}"
            )
        try:
            with opener.open(url, timeout=1) as reply:
                if reply.status == 200:
                    return
                last = f"HTTP {reply.status}"
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
        except (OSError, ValueError, http.client.HTTPException) as error:
            last = str(getattr(error, "reason", error))
        time.sleep(0.1)
    raise TimeoutError(
        f"{spec.name} did not answer 200 on {url} within {timeout:.0f}s (last: {last}); "
        f"see {child.log_path}"
    )


class Supervisor:
    """Starts the children, restarts those that exit, and gives up on those that keep exiting.

    A child that exits is started again after the restart policy's backoff; one
    that exits too often within its window is marked failed and left stopped,
    while every other child keeps running (and being restarted).
    """

    def __init__(
        self,
        log_dir: Path,
        echo: bool = True,
        policy: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        security: tls.Tls | None = None,
    ) -> None:
        self.log_dir = log_dir
        self.echo = echo
        # How health checks reach a component over TLS (None: plaintext).
        self.security = security
        self.policy = policy or RestartPolicy()
        self.children: list[Child] = []
        # Names of the children given up on, with the exits that made it so.
        self.failed: dict[str, int] = {}
        self._clock = clock
        self._budgets: dict[str, RestartBudget] = {}
        # Name -> clock time at which a child that exited is started again.
        self._due: dict[str, float] = {}

    def start(self, spec: ProcessSpec) -> Child:
        ensure_free(spec)
        child = Child(spec, self.log_dir, COLOURS[len(self.children) % len(COLOURS)], self.echo)
        self.children.append(child)
        wait_serving(spec, child, security=self.security)
        return child

    def tend(self) -> None:
        """One look at every child: note exits, start again those whose backoff is over."""
        now = self._clock()
        for index, child in enumerate(self.children):
            name = child.spec.name
            if name in self.failed or child.alive():
                continue
            if name not in self._due:
                self._exited(child, now)
            elif now >= self._due[name]:
                del self._due[name]
                self._respawn(index, child)

    def _exited(self, child: Child, now: float) -> None:
        name = child.spec.name
        budget = self._budgets.setdefault(name, RestartBudget(self.policy, self._clock))
        delay = budget.exited()
        if delay is None:
            self.failed[name] = budget.failures
            log.error(
                "%s failed %d times in %g s; leaving it stopped, the rest keep running; see %s",
                name,
                budget.failures,
                self.policy.window_seconds,
                child.log_path,
            )
            return
        self._due[name] = now + delay
        log.warning(
            "%s exited (%s); restarting it in %.1f s; see %s",
            name,
            child.process.returncode,
            delay,
            child.log_path,
        )

    def _respawn(self, index: int, child: Child) -> None:
        """Start a child that died again (as a service manager would), in its place."""
        fresh = Child(child.spec, self.log_dir, COLOURS[index % len(COLOURS)], self.echo)
        fresh.restarts = child.restarts + 1
        self.children[index] = fresh
        log.info("%s started again (pid %d)", child.spec.name, fresh.process.pid)

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
