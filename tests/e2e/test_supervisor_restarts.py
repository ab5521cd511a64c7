"""run-all keeps the cloud up when one component crashes, again and again.

A cloud of its own (one compute host, short restart settings), on ports three
above the e2e offset so it never meets the session's shared cloud. Its compute
host is killed with SIGKILL: spaced out it is restarted every time; in quick
succession it is left stopped while identity and the API keep answering.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from components.framework.auth import TOKEN_HEADER
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc

pytestmark = pytest.mark.e2e
# Base ports + 3 meet no base port of the shared cloud at the plain offset.
PORT_OFFSET = int(os.environ.get("STRATUS_E2E_PORT_OFFSET", "20000")) + 3
HOST = "compute-1"
POLICY = {
    "STRATUS_SUPERVISOR_MAX_FAILURES": "3",
    "STRATUS_SUPERVISOR_WINDOW_SECONDS": "5",
    "STRATUS_SUPERVISOR_BACKOFF_BASE_SECONDS": "0.2",
    "STRATUS_SUPERVISOR_BACKOFF_MAX_SECONDS": "1",
}
WINDOW_SECONDS = 5.0
# Two exits at most in any 5 s window (even noticed 0.5 s late): never the third.
SPACING_SECONDS = 3.5


class Cloud:
    def __init__(self, data_dir: Path, output: Path, process: subprocess.Popen) -> None:
        self.data_dir = data_dir
        self.output = output
        self.process = process
        info = json.loads((data_dir / "ready.json").read_text())
        self.addresses: dict[str, str] = info["addresses"]
        self.passwords: dict[str, str] = info["passwords"]

    def log(self) -> str:
        return self.output.read_text(errors="replace")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("restarts")
    output = data_dir / "supervisor.out"
    argv = [sys.executable, "-m", "components.supervisor", "--data-dir", str(data_dir)]
    argv += ["--port-offset", str(PORT_OFFSET), "--compute-hosts", "1", "--quiet"]
    argv += ["--ready-file", str(data_dir / "ready.json")]
    with open(output, "wb") as sink:
        process = subprocess.Popen(
            argv,
            env={**os.environ, **POLICY},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180
    while not (data_dir / "ready.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"run-all did not come up:\n{output.read_text(errors='replace')}")
        time.sleep(0.2)
    yield Cloud(data_dir, output, process)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def pid_of(cloud: Cloud, host: str) -> int | None:
    """The pid of this cloud's process for ``host``, if one runs."""
    found = subprocess.run(["pgrep", "-f", "components.compute"], capture_output=True, text=True)
    for pid in found.stdout.split():
        try:
            entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            f"STRATUS_COMPUTE_HOST_NAME={host}".encode() in entries
            and f"STRATUS_DATA_DIR={cloud.data_dir}".encode() in entries
        ):
            return int(pid)
    return None


def serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def wait_for(outcome, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = outcome()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def restarted(cloud: Cloud, old: int, what: str, timeout: float) -> int:
    """The pid of the host's next process, once the supervisor has started it."""

    def new_pid() -> int | None:
        pid = pid_of(cloud, HOST)
        return pid if pid not in (None, old) else None

    return wait_for(new_pid, timeout, what)


def test_a_compute_host_killed_six_times_spaced_out_is_restarted_every_time(cloud):
    address = cloud.addresses[HOST]
    pid = wait_for(lambda: pid_of(cloud, HOST), 10, f"{HOST} runs")
    for kill in range(6):
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        pid = restarted(cloud, pid, f"{HOST} restarted after kill {kill + 1}", 20)
        wait_for(lambda: serving(address), 20, f"{HOST} serving after kill {kill + 1}")
        time.sleep(max(0.0, killed_at + SPACING_SECONDS - time.monotonic()))
    assert cloud.process.poll() is None
    assert "leaving it stopped" not in cloud.log()


def test_a_compute_host_killed_in_quick_succession_is_left_stopped_and_the_rest_serve(cloud):
    time.sleep(WINDOW_SECONDS + 0.5)  # the exits of the test before leave the window
    pid = wait_for(lambda: pid_of(cloud, HOST), 20, f"{HOST} runs")
    for kill in range(3):
        os.kill(pid, signal.SIGKILL)
        if kill < 2:
            pid = restarted(cloud, pid, f"{HOST} restarted after kill {kill + 1}", 10)
    given_up = f"{HOST} failed 3 times in 5 s; leaving it stopped, the rest keep running"
    wait_for(lambda: given_up in cloud.log(), 10, "the supervisor gives up on the host")
    time.sleep(1.5)  # longer than the largest backoff: it would have been started by now
    assert pid_of(cloud, HOST) is None
    assert cloud.process.poll() is None
    with grpc.insecure_channel(cloud.addresses["identity"]) as channel:
        token = (
            identity_grpc.IdentityStub(channel)
            .IssueToken(
                identity_pb2.IssueTokenRequest(
                    username="demo", password=cloud.passwords["demo"], project_name="demo"
                ),
                timeout=10,
            )
            .token
        )
    with grpc.insecure_channel(cloud.addresses["api"]) as channel:
        flavors = api_grpc.FlavorsStub(channel).ListFlavors(
            api_pb2.ListFlavorsRequest(), metadata=((TOKEN_HEADER, token),), timeout=10
        )
    assert flavors.flavors
