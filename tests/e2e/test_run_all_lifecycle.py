"""Nothing run-all starts outlives it, a busy port is one line, and a test host is as big
as it is told and starts empty.

Each test starts a cloud of its own (one compute host) at the e2e offset plus 400, 500,
600 or 800, where no port meets the session's shared cloud, the restart test's (+3) or
the fault tests' (+300). Only the processes these tests started are signalled.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from components.framework.auth import TOKEN_HEADER
from components.supervisor import ports, qemu_host
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as scheduler_grpc

pytestmark = pytest.mark.e2e
BASE_OFFSET = int(os.environ.get("STRATUS_E2E_PORT_OFFSET", "20000"))
# How long every child gets to be gone (they stop in order within their grace).
GONE_WITHIN_SECONDS = 60.0
SIZE = {"COMPUTE_VCPUS": "12", "COMPUTE_RAM_MIB": "65536", "COMPUTE_DISK_GIB": "40"}


def start_run_all(data_dir: Path, env: dict[str, str], argv: list[str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "components.supervisor", "--compute-hosts", "1"]
    command += ["--quiet", "--ready-file", str(data_dir / "ready.json"), *argv]
    return subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_ready(process: subprocess.Popen, data_dir: Path) -> dict:
    deadline = time.monotonic() + 180
    while not (data_dir / "ready.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"run-all did not come up: {process.stderr.read().decode()[-3000:]}")
        time.sleep(0.2)
    return json.loads((data_dir / "ready.json").read_text())


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def gone(pid: int) -> bool:
    """No such process, or only its zombie is left for its new parent to reap."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_until(check, timeout: float = GONE_WITHIN_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def stop(process: subprocess.Popen, pids: list[int]) -> None:
    """Whatever a failed test left of what it started."""
    for pid in [process.pid, *pids]:
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)
    process.wait(10)


def admin_token(info: dict) -> str:
    with grpc.insecure_channel(info["addresses"]["identity"]) as channel:
        return (
            identity_grpc.IdentityStub(channel)
            .IssueToken(
                identity_pb2.IssueTokenRequest(
                    username="admin", password=info["passwords"]["admin"], project_name="admin"
                ),
                timeout=30,
            )
            .token
        )


def test_sighup_stops_every_child_and_frees_every_port_and_env_settings_are_honoured(tmp_path):
    """STRATUS_PORT_OFFSET, STRATUS_DATA_DIR and COMPUTE_* from the environment size and
    place the cloud; closing the terminal (SIGHUP) stops all of it."""
    offset = BASE_OFFSET + 400
    data_dir = tmp_path / "cloud"
    env = {"STRATUS_PORT_OFFSET": str(offset), "STRATUS_DATA_DIR": str(data_dir), **SIZE}
    data_dir.mkdir()
    process = start_run_all(data_dir, env, [])
    info = wait_ready(process, data_dir)
    pids = children_of(process.pid)
    try:
        assert info["addresses"]["identity"] == f"127.0.0.1:{5000 + offset}"
        assert (data_dir / "clouds.yaml").exists() and (data_dir / "logs").is_dir()
        # seven components, one compute host and the dashboard
        assert len(pids) == 9, pids
        md = ((TOKEN_HEADER, admin_token(info)),)
        with grpc.insecure_channel(info["addresses"]["scheduler"]) as channel:
            (host,) = (
                scheduler_grpc.SchedulerStub(channel)
                .ListHosts(scheduler_pb2.ListHostsRequest(), metadata=md, timeout=30)
                .hosts
            )
        assert (host.vcpus, host.ram_mib, host.disk_gib) == (12, 65536, 40)
        with grpc.insecure_channel(info["addresses"]["compute-1"]) as channel:
            domains = compute_grpc.ComputeStub(channel).ListDomains(
                compute_pb2.ListDomainsRequest(), metadata=md, timeout=30
            )
        assert list(domains.domains) == []  # no built-in 8 GiB "test" domain

        process.send_signal(signal.SIGHUP)
        assert process.wait(GONE_WITHIN_SECONDS) == 0
        assert wait_until(lambda: all(gone(pid) for pid in pids)), [
            pid for pid in pids if not gone(pid)
        ]
        taken = [int(a.rsplit(":", 1)[1]) for a in info["addresses"].values()]
        assert wait_until(lambda: all(ports.is_free(port) for port in taken)), taken
    finally:
        stop(process, pids)


def test_sigkill_of_run_all_leaves_no_child_behind(tmp_path):
    """Killed without a chance to stop anything, run-all still takes every child with it:
    the kernel tells each (PR_SET_PDEATHSIG) and each stops in order."""
    data_dir = tmp_path / "cloud"
    data_dir.mkdir()
    argv = ["--port-offset", str(BASE_OFFSET + 500), "--data-dir", str(data_dir)]
    process = start_run_all(data_dir, {}, argv)
    info = wait_ready(process, data_dir)
    pids = children_of(process.pid)
    try:
        assert len(pids) == 9, pids
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert wait_until(lambda: all(gone(pid) for pid in pids)), [
            pid for pid in pids if not gone(pid)
        ]
        taken = [int(a.rsplit(":", 1)[1]) for a in info["addresses"].values()]
        assert wait_until(lambda: all(ports.is_free(port) for port in taken)), taken
    finally:
        stop(process, pids)


def test_a_busy_port_is_one_line_naming_the_port_its_holder_and_a_free_offset(tmp_path):
    offset = BASE_OFFSET + 600
    busy = 8774 + offset  # the API's
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", busy))
        holder.listen()
        env = {"STRATUS_PORT_OFFSET": str(offset)}
        process = start_run_all(tmp_path, env, ["--data-dir", str(tmp_path / "cloud")])
        _, err = process.communicate(timeout=120)
    message = err.decode()
    assert process.returncode == 1
    assert "Traceback" not in message
    (line,) = message.strip().splitlines()
    assert f"port {busy} (api) is in use by pid {os.getpid()}" in line, line
    assert "STRATUS_PORT_OFFSET=" in line, line
    suggested = int(line.split("STRATUS_PORT_OFFSET=")[1].split()[0])
    assert suggested != offset
    assert not (tmp_path / "cloud").exists()  # nothing was started or written


@pytest.mark.qemu
def test_sigkill_of_run_all_with_real_guests_leaves_no_daemon_guest_or_namespace(tmp_path):
    """HYPERVISOR=qemu: libvirtd and virtlogd get SIGTERM from the kernel, and the reaper
    ends the guest's QEMU and deletes the network namespace."""
    from tests.e2e.boot import Driver
    from tests.e2e.conftest import Cloud
    from tests.e2e.test_qemu_guest import why_qemu_cannot_run

    reason = why_qemu_cannot_run()
    if reason:
        pytest.skip(reason)
    namespace = f"stratus-life-{os.getpid()}"
    data_dir = tmp_path / "cloud"
    data_dir.mkdir()
    argv = ["--hypervisor", "qemu", "--netns", namespace, "--data-dir", str(data_dir)]
    # Not +700: its dashboard (8080 + offset) would be the e2e cloud's scheduler (8780).
    argv += ["--port-offset", str(BASE_OFFSET + 800)]
    process = start_run_all(data_dir, {}, argv)
    pids: list[int] = []
    try:
        info = wait_ready(process, data_dir)
        cloud = Cloud(info, data_dir)
        driver = Driver(cloud)
        server = driver.create(name="outlive")
        assert driver.wait(server.id, timeout=120).status == api_pb2.Server.STATUS_ACTIVE
        cloud.close()
        pids = children_of(process.pid) + qemu_host.namespace_pids(namespace)
        # 2 daemons, 8 components, the dashboard, the reaper
        assert len(children_of(process.pid)) == 12

        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert wait_until(lambda: all(gone(pid) for pid in pids)), [
            (pid, Path(f"/proc/{pid}/cmdline").read_bytes()[:200]) for pid in pids if not gone(pid)
        ]
        assert wait_until(lambda: not qemu_host.namespace_exists(namespace))
    finally:
        stop(process, pids)
        if qemu_host.namespace_exists(namespace):
            qemu_host.delete_namespace(namespace)
