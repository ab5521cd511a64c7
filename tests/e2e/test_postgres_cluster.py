"""run-all's own PostgreSQL (components/supervisor/postgres.py): made, started, reached,
killed and started again, stopped; as root through a user namespace, and through a
network namespace as the supervisor runs it. Ports 31000-31099 only."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.framework.database import open_database
from components.supervisor import ports
from components.supervisor.postgres import Cluster, bin_dir
from components.supervisor.processes import Supervisor

pytestmark = pytest.mark.skipif(
    bin_dir() is None, reason="PostgreSQL is not installed (no initdb, pg_ctl, postgres)"
)
PORTS = range(31000, 31100)
NAMESPACE_PREFIX = "stpg"


def free_port() -> int:
    for port in PORTS:
        if ports.is_free(port):
            return port
    pytest.skip("no free port in 31000-31099")


@pytest.fixture
def cluster(tmp_path: Path):
    made = Cluster(tmp_path, "127.0.0.1", free_port())
    yield made
    made.stop()


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def query(cluster: Cluster, database: str, *statements: str) -> list[tuple]:
    """Run ``statements`` through peewee, as a component would; the last one's rows."""
    db = open_database(cluster.url(database))
    db.connect()
    try:
        rows = []
        for statement in statements:
            cursor = db.execute_sql(statement)
            rows = cursor.fetchall() if cursor.description else []
        return rows
    finally:
        db.close()


def test_cluster_is_made_started_and_reached_by_peewee(cluster: Cluster) -> None:
    started = time.monotonic()
    cluster.ensure()
    made = time.monotonic()
    cluster.start()
    ready = time.monotonic()
    print(f"initdb {made - started:.2f} s, start {ready - made:.2f} s")

    assert cluster.create_databases(["identity", "compute"]) == ["identity", "compute"]
    assert cluster.create_databases(["compute", "network"]) == ["network"]
    rows = query(
        cluster,
        "compute",
        "CREATE TABLE server (id text PRIMARY KEY, name text)",
        "INSERT INTO server VALUES ('1', 'web')",
        "SELECT name, current_user FROM server",
    )
    assert rows == [("web", "stratus")]
    # Everything stays in the data directory, owned by whoever runs run-all.
    assert (cluster.pgdata / "PG_VERSION").stat().st_uid == os.geteuid()
    assert cluster.socket.is_socket()

    assert cluster.running_pid() is not None
    cluster.stop()
    assert cluster.running_pid() is None
    assert cluster.server_pids() == []
    assert not (cluster.pgdata / "postmaster.pid").exists()


def test_start_after_sigkill_of_every_server_process_keeps_committed_rows(
    cluster: Cluster,
) -> None:
    cluster.start()
    cluster.create_databases(["volume"])
    query(cluster, "volume", "CREATE TABLE volume (id text)", "INSERT INTO volume VALUES ('v1')")

    for pid in cluster.server_pids():
        os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not cluster.server_pids())
    # What a server killed with SIGKILL leaves behind.
    assert (cluster.pgdata / "postmaster.pid").exists()

    started = time.monotonic()
    cluster.start()
    print(f"start after SIGKILL (crash recovery) {time.monotonic() - started:.2f} s")
    assert query(cluster, "volume", "SELECT id FROM volume") == [("v1",)]


def test_stale_postmaster_pid_naming_a_live_process_is_no_obstacle(cluster: Cluster) -> None:
    """The pid in a stale postmaster.pid may since be another root process's."""
    cluster.ensure()
    with subprocess.Popen(["sleep", "30"]) as stranger:
        try:
            (cluster.pgdata / "postmaster.pid").write_text(f"{stranger.pid}\n{cluster.pgdata}\n")
            cluster.start()
            assert cluster.running_pid() not in (None, stranger.pid)
            assert stranger.poll() is None
        finally:
            stranger.kill()


def test_stop_kills_a_server_pg_ctl_cannot_stop(cluster: Cluster) -> None:
    cluster.start()
    postmaster = cluster.running_pid()
    os.kill(postmaster, signal.SIGSTOP)  # it takes no more signals but SIGKILL
    cluster.stop(timeout=1)
    assert cluster.server_pids() == []


RUN_ALL = """
import sys, time
from pathlib import Path
from components.supervisor.postgres import Cluster
from components.supervisor.processes import Supervisor
cluster = Cluster(Path(sys.argv[1]), "127.0.0.1", int(sys.argv[2]))
cluster.ensure()
Supervisor(cluster.data_dir / "logs", echo=False).start(cluster.spec())
cluster.wait_ready()
print("ready", flush=True)
time.sleep(60)
"""


def test_supervised_server_ends_when_run_all_is_killed(cluster: Cluster) -> None:
    """The kernel's SIGTERM (lifeline) reaches the postmaster through unshare."""
    run_all = [sys.executable, "-c", RUN_ALL, str(cluster.data_dir), str(cluster.port)]
    with subprocess.Popen(run_all, stdout=subprocess.PIPE, text=True) as supervisor:
        try:
            assert supervisor.stdout.readline().strip() == "ready"
            assert cluster.running_pid() is not None
        finally:
            supervisor.kill()
    assert wait_until(lambda: not cluster.server_pids())
    assert not (cluster.pgdata / "postmaster.pid").exists()  # a clean (smart) shutdown


def test_server_supervised_in_a_network_namespace(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2")
    remove_leftover_namespaces()
    namespace = f"{NAMESPACE_PREFIX}{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    supervisor = Supervisor(tmp_path / "logs", echo=False)
    try:
        subprocess.run(["ip", "-n", namespace, "link", "set", "lo", "up"], check=True)
        port = free_port()  # free here, so nothing outside answers for the server
        cluster = Cluster(tmp_path, "127.0.0.1", port, ["ip", "netns", "exec", namespace])
        cluster.ensure()
        child = supervisor.start(cluster.spec())
        cluster.wait_ready()
        # Every program on the way execs the next: the child is the postmaster.
        assert cluster.running_pid() == child.process.pid
        # Reached through its socket file from here, through TCP only in the namespace.
        assert cluster.create_databases(["compute"]) == ["compute"]
        isready = [str(bin_dir() / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-t", "1"]
        assert subprocess.run(isready, capture_output=True).returncode == 2  # no response

        supervisor.stop()
        assert child.process.returncode == 0
        assert cluster.server_pids() == []
    finally:
        supervisor.stop()
        delete_namespace(namespace)


def remove_leftover_namespaces() -> None:
    """Namespaces of earlier runs of this test whose pytest is gone."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for name in re.findall(rf"^({NAMESPACE_PREFIX}(\d+))\b", listing, re.MULTILINE):
        if not Path(f"/proc/{name[1]}").exists():
            delete_namespace(name[0])


def delete_namespace(name: str) -> None:
    """Kill what runs in it (only this test's postgres), then delete it."""
    pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout
    for pid in pids.split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    wait_until(
        lambda: not subprocess.run(["ip", "netns", "pids", name], capture_output=True).stdout
    )
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
