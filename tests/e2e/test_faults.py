"""Fault injection: the conductor and a compute host are killed (SIGKILL) during 20 boots.

The cloud is started as run-all starts it, with its supervisor restarting what
dies, and with the conductor's stale-build bounds shortened so that the test
stays short (the defaults keep the same promise within 2 minutes). Every
server must end ACTIVE, or ERROR with a fault, within 2 minutes; no claim may
be held for an ERROR or deleted server; after every server is deleted no port
is left and every volume is available again.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.type.v1 import instance_state_pb2
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from tests.e2e.boot import SETTLED, Driver, claims_of
from tests.e2e.conftest import PORT_OFFSET, run_cloud

pytestmark = pytest.mark.e2e
log = logging.getLogger(__name__)

BOOTS = 20
WITH_VOLUME = 4
SETTLE_WITHIN = 120.0
# Ports of this cloud sit beside (never on) those of the session's cloud.
FAULT_PORT_OFFSET = PORT_OFFSET + 300
SHORT_BOUNDS = {
    "STRATUS_CONDUCTOR_REPORT_INTERVAL_SECONDS": "2",
    "STRATUS_CONDUCTOR_SWEEP_INTERVAL_SECONDS": "2",
    "STRATUS_CONDUCTOR_BUILD_START_TIMEOUT_SECONDS": "20",
    "STRATUS_CONDUCTOR_HOST_DOWN_SECONDS": "8",
    "STRATUS_COMPUTE_RECONCILE_INTERVAL_SECONDS": "10",
    "STRATUS_COMPUTE_FAILURE_RESEND_SECONDS": "5",
}


@pytest.fixture(scope="module")
def faulty_cloud(tmp_path_factory):
    with run_cloud(tmp_path_factory.mktemp("faults"), FAULT_PORT_OFFSET, 3, SHORT_BOUNDS) as cloud:
        yield cloud


def child_pid(supervisor_pid: int, module: str, host_name: str = "") -> int:
    """The pid of the supervisor's child running ``python -m <module>`` (and, for a compute
    host, named ``host_name``): only a process this test's run-all started."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0") if host_name else []
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent != supervisor_pid or module.encode() not in cmdline:
            continue
        if host_name and f"STRATUS_COMPUTE_HOST_NAME={host_name}".encode() not in environ:
            continue
        return int(entry.name)
    raise AssertionError(f"no running {module} {host_name} under run-all {supervisor_pid}")


def kill(cloud, module: str, host_name: str = "") -> None:
    pid = child_pid(cloud.supervisor_pid, module, host_name)
    os.kill(pid, signal.SIGKILL)
    log.info("killed %s %s (pid %d)", module, host_name, pid)


def settle_all(driver: Driver, ids: list[str], timeout: float) -> dict[str, api_pb2.Server]:
    """Every server once settled; fails naming those that did not settle in time."""
    deadline = time.monotonic() + timeout
    settled: dict[str, api_pb2.Server] = {}
    while len(settled) < len(ids) and time.monotonic() < deadline:
        for server_id in ids:
            if server_id in settled:
                continue
            server = driver.get(server_id, admin=True)
            if server.status in SETTLED and not server.task_state:
                settled[server_id] = server
        time.sleep(0.5)
    stuck = {i: api_pb2.Server.Status.Name(driver.get(i).status) for i in ids if i not in settled}
    assert not stuck, f"not settled within {timeout:.0f}s: {stuck}"
    return settled


def test_killing_the_conductor_and_a_host_during_boots_leaves_no_stuck_server_or_leak(
    faulty_cloud,
):
    driver = Driver(faulty_cloud)
    driver.unlimited_quota()
    volumes = [driver.new_volume() for _ in range(WITH_VOLUME)]
    started = time.monotonic()
    with futures.ThreadPoolExecutor(4) as pool:
        creating = [
            pool.submit(driver.create, volume_ids=[volumes[i].id] if i < WITH_VOLUME else [])
            for i in range(BOOTS)
        ]
        time.sleep(0.3)
        kill(faulty_cloud, "components.conductor")
        time.sleep(0.7)
        kill(faulty_cloud, "components.compute", "compute-2")
        ids = [f.result(timeout=60).id for f in creating]

    settled = settle_all(driver, ids, SETTLE_WITHIN - (time.monotonic() - started))
    elapsed = time.monotonic() - started
    errors = [f"{s.host or '-'}: {s.fault.message}" for s in settled.values() if s.fault.message]
    log.info("all %d servers settled %.1fs after the first boot", BOOTS, elapsed)
    print(f"\nall {BOOTS} settled in {elapsed:.1f}s; {len(errors)} ERROR:", *errors, sep="\n  ")

    for server in settled.values():
        assert server.status in (api_pb2.Server.STATUS_ACTIVE, api_pb2.Server.STATUS_ERROR)
        if server.status == api_pb2.Server.STATUS_ERROR:
            assert server.fault.message, server
            assert claims_of(faulty_cloud, server.id) == 0, server
        elif server.host != "compute-2":
            # A conductor that restarts no longer costs a build on a live host.
            assert server.status == api_pb2.Server.STATUS_ACTIVE

    for server_id in ids:
        driver.delete(server_id, timeout=60)
    for server_id in ids:
        assert driver.ports_of(server_id) == [], server_id
        assert claims_of(faulty_cloud, server_id) == 0, server_id
    for volume in volumes:
        assert _available_within(driver, volume.id, 30), driver.volume(volume.id)


def _available_within(driver: Driver, volume_id: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if driver.volume(volume_id).status == volume_pb2.Volume.STATUS_AVAILABLE:
                return True
        except grpc.RpcError:
            pass
        time.sleep(0.2)
    return False


def _domain_state(driver: Driver, host: str, server_id: str) -> int | None:
    """The state of the server's domain on ``host``; None while the host is down or has none."""
    try:
        domains = driver.domains(host)
    except grpc.RpcError:
        return None
    return next((d.state for d in domains if d.instance_id == server_id), None)


def _wait_domain(driver: Driver, host: str, server_id: str, state: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _domain_state(driver, host, server_id) != state:
        assert time.monotonic() < deadline, f"{server_id} on {host} never became {state}"
        time.sleep(0.2)


def test_a_restarted_host_brings_back_the_guests_its_servers_say_it_runs(faulty_cloud):
    driver = Driver(faulty_cloud)
    running = driver.wait(driver.create().id)
    stopped = driver.wait(driver.create().id)
    assert running.status == stopped.status == api_pb2.Server.STATUS_ACTIVE
    driver.servers.StopServer(api_pb2.StopServerRequest(server_id=stopped.id), metadata=driver.md)
    assert driver.wait(stopped.id).status == api_pb2.Server.STATUS_SHUTOFF
    hosts = {s.id: driver.get(s.id, admin=True).host for s in (running, stopped)}

    for host in set(hosts.values()):  # the guests vanish with their host (test driver)
        kill(faulty_cloud, "components.compute", host)
    domain = compute_pb2.Domain
    _wait_domain(driver, hosts[running.id], running.id, domain.STATE_RUNNING, 60)
    _wait_domain(driver, hosts[stopped.id], stopped.id, domain.STATE_SHUTOFF, 60)

    after = driver.get(running.id)
    assert (after.status, after.power_state) == (
        api_pb2.Server.STATUS_ACTIVE,
        instance_state_pb2.POWER_STATE_RUNNING,
    )
    assert driver.get(stopped.id).status == api_pb2.Server.STATUS_SHUTOFF
    driver.servers.StartServer(api_pb2.StartServerRequest(server_id=stopped.id), metadata=driver.md)
    started = driver.wait(stopped.id)
    assert started.status == api_pb2.Server.STATUS_ACTIVE, started.fault
    for server in (running, stopped):
        driver.delete(server.id, timeout=60)
        assert driver.ports_of(server.id) == []
