"""The cloud across machines against the cloud on one: what TLS, replicas and the network cost.

Run: ``.venv/bin/python -m tests.benchmarks.bench_machines [--quick] [--runs N] [--no-chaos]``.

Starts three clouds, one after the other, each as bench_boot starts one
(``python -m components.supervisor``, three compute hosts on the libvirt test
driver offering 64 GiB each) and measures each with bench_boot's functions:

* ``loopback``: today's run-all on one machine, plaintext, SQLite (port offset 25000);
* ``mtls_2_replicas``: ``--machines 3``, a rack of network namespaces (tag 9), mutual
  TLS everywhere, PostgreSQL on the controller, api, scheduler and conductor twice
  (port offset 9000); the api's two replicas are one round-robin target;
* ``mtls_1_replica``: the same with ``--replicas 1`` (tag 10, port offset 10000).

Figures: CreateServer to WatchServer ACTIVE p50 of boots one at a time, and
create+delete cycles per second by 50 concurrent users (10 with ``--quick``),
printed side by side with their ratios. Then, on the two-replica cloud and not
with ``--quick``: 100 boots by 25 users while one api and one scheduler replica
are SIGKILLed (the supervisor restarts them); each boot carries a request_id and
the client retries UNAVAILABLE with it; counted: ACTIVE, ERROR, lost (no
server settled before the deadline) and duplicated (one boot, several servers).

Each cloud is stopped by SIGINT to the supervisor and waited for; afterwards no
namespace of its rack is left. A run in which a call fails (other than the
chaos run's retried UNAVAILABLE) is left out of the figures, its error and the
cloud's log lines of its request id printed, and the exit code is 1. Skips
(exit 0, the reason printed) when not root, without ``ip netns`` or without
PostgreSQL. Asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

from components.supervisor import postgres
from components.supervisor.rack import Rack, tag_for_port_offset
from stratus.api.v1 import api_service_pb2 as api_pb2
from tests.benchmarks.bench_boot import (
    ACTIVE,
    ERROR,
    Cloud,
    boot_round,
    cycles_per_second,
    percentile,
    running_cloud,
    warm,
)
from tests.benchmarks.results import record

LOOPBACK_OFFSET = 25000  # plaintext on loopback: public ports only, all below 32768
MACHINES_OFFSET = 9000  # rack tag 9; ports inside the namespaces clash with nothing
ONE_REPLICA_OFFSET = 10000  # rack tag 10
CHAOS_BOOTS, CHAOS_USERS, CHAOS_SECONDS = 100, 25, 240
RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


@dataclasses.dataclass(frozen=True)
class Setup:
    label: str
    port_offset: int
    extra: tuple[str, ...]

    @property
    def rack_prefix(self) -> str | None:
        return f"stratus{tag_for_port_offset(self.port_offset)}" if self.extra else None


LOOPBACK = Setup("loopback", LOOPBACK_OFFSET, ())
TWO = Setup("mtls_2_replicas", MACHINES_OFFSET, ("--machines", "3", "--replicas", "2"))
ONE = Setup("mtls_1_replica", ONE_REPLICA_OFFSET, ("--machines", "3", "--replicas", "1"))


@dataclasses.dataclass(frozen=True)
class Sizes:
    runs: int  # runs of each figure
    sequential: int  # boots one at a time per run
    users: int  # concurrent users of the create+delete figure
    per_user: int  # cycles per user


def why_not() -> str | None:
    """Why the rack cannot be built here, or None."""
    if os.geteuid() != 0:
        return "not root: the machines are network namespaces"
    if shutil.which("ip") is None:
        return "ip (iproute2) is not installed"
    probe = f"stbench{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "network namespaces cannot be created here (ip netns add failed)"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    if postgres.bin_dir() is None:
        return "PostgreSQL is not installed (no initdb)"
    return None


def namespaces(prefix: str) -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10)
    return [n.split()[0] for n in listing.stdout.splitlines() if n.startswith(f"{prefix}-")]


# ------------------------------------------------------------------ one cloud


def explain(cloud: Cloud, exc: grpc.RpcError) -> str:
    """Print a call's failure and the lines the cloud's logs have of its request id."""
    what = f"{exc.code().name}: {exc.details()}"
    print(f"  a run failed: {what}", flush=True)
    request_id = re.search(r"req-[0-9a-f-]{36}", exc.details() or "")
    if request_id is None:
        return what
    for path in sorted((cloud.data_dir / "logs").glob("*.log")):
        lines = path.read_text(errors="replace").splitlines()
        for index in [i for i, line in enumerate(lines) if request_id.group() in line][:3]:
            print("\n".join(f"  {path.name}: {line}" for line in lines[index : index + 15]))
    return what


def measure(cloud: Cloud, setup: Setup, sizes: Sizes, failures: list[str]) -> dict[str, float]:
    """One-boot p50 and create+delete per second of ``cloud``, recorded; their medians.
    A run a call fails in is left out, and the failure added to ``failures``."""
    image = cloud.ids["image"]
    p50s, rates = [], []
    for _ in range(sizes.runs):
        try:
            boots = [b for _ in range(sizes.sequential) for b in boot_round(cloud, image, 1)]
            rate = cycles_per_second(cloud, [image], sizes.users, sizes.per_user)
        except grpc.RpcError as exc:
            failures.append(f"{setup.label}: {explain(cloud, exc)}")
            continue
        good = [b.ms for b in boots if b.ok]
        if len(good) < len(boots):
            print(f"  {len(boots) - len(good)} of {len(boots)} boots ended in ERROR")
        if good:
            p50s.append(percentile(good, 0.5))
        rates.append(rate)
    note = f"{setup.label}; load average {os.getloadavg()[0]:.2f}"
    figures = {}
    if p50s:
        name = f"machines.{setup.label}.create_to_active.c1.p50"
        figures["p50"] = record(
            name, p50s, "ms", f"{sizes.sequential} boots one at a time per run; {note}"
        )["median"]
    if rates:
        figures["rate"] = record(
            f"machines.{setup.label}.create_delete_per_second.c{sizes.users}",
            rates,
            "cycles/s",
            f"{sizes.users} users each doing {sizes.per_user} create, ACTIVE, delete, DELETED; "
            + note,
        )["median"]
    return figures


def with_cloud(setup: Setup, sizes: Sizes, chaos: bool, failures: list[str]) -> dict[str, float]:
    """Start the cloud of ``setup``, measure it (and the chaos run), stop it by SIGINT."""
    print(f"--- {setup.label}: supervisor {' '.join(setup.extra) or '(one machine)'}", flush=True)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(dir=os.environ.get("STRATUS_BENCH_TMP")) as tmp,
        running_cloud(Path(tmp) / "cloud", setup.port_offset, setup.extra, signal.SIGINT) as cloud,
    ):
        print(f"the cloud is up after {time.monotonic() - started:.1f}s", flush=True)
        time.sleep(2)  # let start-up work settle, as bench_boot does
        cloud.unlimited_quota()
        warm(cloud)
        figures = measure(cloud, setup, sizes, failures)
        if chaos:
            kill_replicas_while_booting(cloud)
    if setup.rack_prefix and (left := namespaces(setup.rack_prefix)):
        print(f"warning: the rack outlived its run: {' '.join(left)}; removing it")
        Rack.clean_leftovers(setup.rack_prefix, Path(tmp))
    return figures


# ------------------------------------------------------------------ chaos


def boot_through_failures(cloud: Cloud, name: str, deadline: float, retried: list[str]) -> str:
    """One boot retried with its request_id through UNAVAILABLE: "active", "error: ..."
    or "lost: ..." (no settled server before ``deadline``). Each retry is noted in
    ``retried``."""
    request = api_pb2.CreateServerRequest(
        name=name,
        flavor_id=cloud.ids["flavor"],
        image_id=cloud.ids["image"],
        network_ids=[cloud.ids["network"]],
        request_id=str(uuid.uuid4()),
    )
    server = None
    while server is None:
        try:
            server = cloud.servers.CreateServer(request, metadata=cloud.md, timeout=30)
        except grpc.RpcError as exc:
            if exc.code() not in RETRIED or time.monotonic() > deadline:
                return f"lost: CreateServer {exc.code().name}"
            retried.append(f"CreateServer {exc.code().name}")
            time.sleep(0.2)
    watch = api_pb2.WatchServerRequest(server_id=server.id)
    while time.monotonic() < deadline:
        last = server
        try:
            left = max(1.0, deadline - time.monotonic())
            for event in cloud.servers.WatchServer(watch, metadata=cloud.md, timeout=left):
                last = event.server
        except grpc.RpcError as exc:
            if exc.code() not in RETRIED:
                return f"lost: WatchServer {exc.code().name}"
            retried.append(f"WatchServer {exc.code().name}")
            time.sleep(0.2)
            continue
        if last.status == ACTIVE:
            return "active"
        if last.status == ERROR:
            return f"error: {last.fault.message[:80]}"
    return "lost: not settled before the deadline"


def kill(cloud: Cloud, name: str, started: float) -> None:
    """SIGKILL the process of ``name`` the run started (checked to be a component)."""
    pid = cloud.info["pids"][name]
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    if "components." not in cmdline:
        print(f"  not killing {name}: pid {pid} is {cmdline[:80]!r}")
        return
    os.kill(pid, signal.SIGKILL)
    print(f"  SIGKILL {name} (pid {pid}) at {time.monotonic() - started:.1f}s")


def servers_named(cloud: Cloud, text: str) -> list[api_pb2.Server]:
    found, token = [], ""
    for _ in range(100):  # pages of 1000: far more than one run makes
        request = api_pb2.ListServersRequest(page_size=1000, page_token=token, name_contains=text)
        page = cloud.servers.ListServers(request, metadata=cloud.md, timeout=30)
        found += page.servers
        token = page.next_page_token
        if not token:
            break
    return found


def kill_replicas_while_booting(cloud: Cloud) -> None:
    """CHAOS_BOOTS boots; one api and one scheduler replica SIGKILLed early in them."""
    marker = f"chaos-{uuid.uuid4().hex[:8]}"
    per_user = CHAOS_BOOTS // CHAOS_USERS
    outcomes: list[str] = []
    retried: list[str] = []

    def user(index: int) -> None:
        for k in range(per_user):
            name = f"{marker}-{index * per_user + k}"
            outcomes.append(boot_through_failures(cloud, name, deadline, retried))

    print(f"chaos: {CHAOS_BOOTS} boots by {CHAOS_USERS} users; SIGKILL api and scheduler")
    started = time.monotonic()
    deadline = started + CHAOS_SECONDS
    with ThreadPoolExecutor(CHAOS_USERS) as pool:
        futures = [pool.submit(user, i) for i in range(CHAOS_USERS)]
        time.sleep(0.5)  # every user has a CreateServer in flight
        kill(cloud, "api", started)
        time.sleep(0.3)
        kill(cloud, "scheduler", started)
        for future in futures:
            future.result()
    elapsed = time.monotonic() - started
    names = collections.Counter(s.name for s in servers_named(cloud, marker))
    counts = {
        "active": sum(o == "active" for o in outcomes),
        "error": sum(o.startswith("error") for o in outcomes),
        "lost": sum(o.startswith("lost") for o in outcomes),
        "duplicated": sum(n - 1 for n in names.values() if n > 1),
    }
    print(
        f"chaos: {counts['active']} ACTIVE, {counts['error']} ERROR, {counts['lost']} lost, "
        f"{counts['duplicated']} duplicated of {CHAOS_BOOTS} boots in {elapsed:.1f}s "
        f"({len(names)} names, {sum(names.values())} servers listed)"
    )
    for outcome, count in collections.Counter(o for o in outcomes if o != "active").items():
        print(f"  {count}: {outcome}")
    for call, count in collections.Counter(retried).items():
        print(f"  {count} retries of {call}")
    note = f"{CHAOS_BOOTS} boots by {CHAOS_USERS} users; api and scheduler replica SIGKILLed"
    for key, value in counts.items():
        record(f"machines.chaos.{key}", [value], "boots", note)


# ------------------------------------------------------------------ report


def ratios(results: dict[str, dict[str, float]], users: int) -> dict[str, float]:
    """machines/loopback and 2 replicas/1 replica, recorded; those both sides have."""
    loop, two, one = (results.get(s.label, {}) for s in (LOOPBACK, TWO, ONE))
    across = "across machines (mTLS, PostgreSQL, 2 replicas) / loopback plaintext"
    wanted = {
        "p50": ("create_to_active.c1.p50", two, loop, f"one-boot p50 {across}"),
        "rate": (f"create_delete_per_second.c{users}", two, loop, f"create+delete/s {across}"),
        "replicas": (
            f"replicas_2_vs_1.create_delete_per_second.c{users}",
            two,
            one,
            "create+delete/s across machines, 2 replicas / 1 replica",
        ),
    }
    found = {}
    for key, (name, over, under, note) in wanted.items():
        figure = "rate" if key == "replicas" else key
        if figure in over and figure in under:
            ratio = over[figure] / under[figure]
            found[key] = record(f"machines.ratio.{name}", [ratio], "x", note)["median"]
    return found


def side_by_side(results: dict[str, dict[str, float]], users: int) -> None:
    loop, two, one = (results.get(s.label, {}) for s in (LOOPBACK, TWO, ONE))
    change = ratios(results, users)
    rows = [
        ("CreateServer→ACTIVE p50 (ms), one at a time", "p50"),
        (f"create+delete/s, {users} users", "rate"),
    ]
    print(f"\n{'':<46} {'loopback':>10} {'machines':>10} {'machines/loopback':>18}")
    for what, key in rows:
        if key in change:
            print(f"{what:<46} {loop[key]:>10.1f} {two[key]:>10.1f} {change[key]:>17.2f}x")
    if "replicas" in change:
        print(f"{'':<46} {'2 replicas':>10} {'1 replica':>10} {'2/1':>18}")
        what = f"create+delete/s, {users} users"
        print(f"{what:<46} {two['rate']:>10.1f} {one['rate']:>10.1f} {change['replicas']:>17.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_machines")
    parser.add_argument("--quick", action="store_true", help="small sizes, no chaos run")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3; quick 1)")
    parser.add_argument("--no-chaos", action="store_true", help="skip the SIGKILL run")
    options = parser.parse_args()
    reason = why_not()
    if reason:
        print(f"skipped: {reason}")
        return 0
    if options.quick:
        sizes = Sizes(options.runs or 1, 10, 10, 1)
    else:
        sizes = Sizes(options.runs or 3, 20, 50, 3)
    chaos = not (options.quick or options.no_chaos)
    print(f"load average before start-up {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[str, dict[str, float]] = {}
    failures: list[str] = []
    for setup in (LOOPBACK, TWO, ONE):
        phase = time.monotonic()
        results[setup.label] = with_cloud(setup, sizes, chaos and setup is TWO, failures)
        print(f"({setup.label}: {time.monotonic() - phase:.1f}s)", flush=True)
    side_by_side(results, sizes.users)
    for failure in failures:
        print(f"failed run (left out of the figures): {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
