"""The dashboard's Instances page with many servers: what a page costs on top of the API.

Run: ``.venv/bin/python -m tests.benchmarks.bench_dashboard [--quick] [--servers N]
[--requests N]`` (default 200 servers and 30 requests; quick 50 and 10).

Starts the cloud as ``make run-all`` does (bench_boot's ``running_cloud``: three
test-hypervisor hosts, port offset ``STRATUS_BENCH_PORT_OFFSET``, default 9000),
with hosts big enough for the servers (64 GiB of RAM and 256 GiB of disk each;
the test host's 16 vCPUs hold 256 m1.tiny at the 16x CPU ratio) and its dashboard.
As admin it lifts the demo project's quota, then
as demo creates the servers (20 threads, each following its server to ACTIVE,
bounded at ten minutes for all of them).

Signed in as demo with httpx, after 3 warm-up requests it GETs the page
sequentially and times each request from send to the last byte; then it times the
same number of direct ListServers calls (every page, as the dashboard asks for
them) for comparison. Figures: p50 (with min and max over the requests) and p95
of both, the page's size in bytes, the API answer's size, and the dashboard
process's peak resident memory (VmHWM) after the requests. The cloud is stopped
at the end with its servers (its data directory is temporary), as bench_boot does.
Prints numbers and records them with tests.benchmarks.results; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from components.dashboard.cloud import PAGE_SIZE
from stratus.api.v1 import api_service_pb2 as api_pb2
from tests.benchmarks.bench_boot import Cloud, percentile, running_cloud
from tests.benchmarks.memory import component_processes, memory_mb
from tests.benchmarks.results import record
from tests.e2e.dashboard_client import signed_in

PORT_OFFSET = int(os.environ.get("STRATUS_BENCH_PORT_OFFSET", "9000"))
HOST_SIZE = ("--compute-ram-mib", "65536", "--compute-disk-gib", "256")
PAGE = "/project/instances"
WARM_UP = 3
CREATORS = 20
ACTIVE_WITHIN_SECONDS = 600.0


def dashboard_of(cloud: Cloud) -> tuple[str, int]:
    """(URL, pid) of the dashboard run-all started."""
    url = cloud.info.get("dashboard")
    if not url:
        raise RuntimeError("run-all announced no dashboard")
    pid = cloud.info.get("pids", {}).get("dashboard") or component_processes(cloud.process.pid).get(
        "dashboard", 0
    )
    return url.rstrip("/"), pid


def create_servers(cloud: Cloud, count: int) -> None:
    """``count`` m1.tiny servers of the demo image, each followed to ACTIVE (or ERROR)."""
    started = time.monotonic()
    with ThreadPoolExecutor(CREATORS) as pool:
        futures = [pool.submit(cloud.boot, cloud.ids["image"]) for _ in range(count)]
        boots = [
            f.result(timeout=max(1.0, started + ACTIVE_WITHIN_SECONDS - time.monotonic()))
            for f in futures
        ]
    failed = [b for b in boots if not b.ok]
    print(
        f"{count - len(failed)} of {count} servers ACTIVE after {time.monotonic() - started:.1f}s",
        flush=True,
    )
    if failed:
        print(f"  {len(failed)} did not become ACTIVE: {failed[0].fault}", flush=True)


def timed(call: Callable[[], int], runs: int) -> tuple[list[float], int]:
    """Milliseconds of each of ``runs`` calls, and the size the last one answered."""
    samples, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, size


def list_servers(cloud: Cloud) -> int:
    """Every page of the demo project's servers, as the dashboard asks; bytes answered."""
    request = api_pb2.ListServersRequest(page_size=PAGE_SIZE)
    size = 0
    while True:
        reply = cloud.servers.ListServers(request, metadata=cloud.md, timeout=30)
        size += reply.ByteSize()
        if not reply.next_page_token:
            return size
        request.page_token = reply.next_page_token


def report(prefix: str, samples: list[float], size: int, note: str) -> None:
    p50, p95 = statistics.median(samples), percentile(samples, 0.95)
    print(
        f"{prefix}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(samples):.1f} ms, {size} bytes",
        flush=True,
    )
    record(f"{prefix}.p50_ms", samples, "ms", f"median of {len(samples)} requests; {note}")
    record(f"{prefix}.p95_ms", [p95], "ms", f"95th percentile of {len(samples)} requests; {note}")
    record(f"{prefix}.bytes", [size], "bytes", note)


def measure(cloud: Cloud, url: str, pid: int, servers: int, requests: int, page: str) -> None:
    client = signed_in(url, "demo", cloud.info["passwords"]["demo"])

    rows: list[int] = []

    def get_page() -> int:
        reply = client.get(page)
        if reply.status_code != 200:
            raise RuntimeError(f"GET {page}: {reply.status_code} {reply.text[:500]}")
        rows.append(reply.text.count('<tr id="row-'))
        return len(reply.content)

    try:
        for _ in range(WARM_UP):
            get_page()
        samples, size = timed(get_page, requests)
    finally:
        client.close()
    print(f"GET {page}: {rows[-1]} table rows (id=row-...) in the last page", flush=True)
    label = "instances_page" if page == PAGE else page.strip("/").replace("/", "_")
    note = f"GET {page} signed in as demo, {servers} servers, sequential, after {WARM_UP} warm-up"
    report(f"dashboard.{label}.{servers}_servers", samples, size, note)
    for _ in range(WARM_UP):
        list_servers(cloud)
    samples, size = timed(lambda: list_servers(cloud), requests)
    note = f"ListServers (page_size {PAGE_SIZE}, every page) as demo, {servers} servers"
    report(f"dashboard.api_list_servers.{servers}_servers", samples, size, note)
    if pid:
        rss, peak = memory_mb(pid)
        print(f"dashboard process {pid}: VmRSS {rss:.1f} MB, VmHWM {peak:.1f} MB", flush=True)
        record(
            f"dashboard.{label}.{servers}_servers.peak_rss_mb",
            [peak],
            "MB",
            f"the dashboard's VmHWM after the requests (VmRSS then {rss:.1f} MB)",
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_dashboard")
    parser.add_argument("--quick", action="store_true", help="50 servers, 10 requests")
    parser.add_argument("--servers", type=int, help="servers to create (default 200; quick 50)")
    parser.add_argument("--requests", type=int, help="timed requests (default 30; quick 10)")
    parser.add_argument("--page", default=PAGE, help=f"the page to time (default {PAGE})")
    options = parser.parse_args()
    servers = options.servers or (50 if options.quick else 200)
    requests = options.requests or (10 if options.quick else 30)
    print(f"load average before start-up {os.getloadavg()[0]:.2f}", flush=True)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(dir=os.environ.get("STRATUS_BENCH_TMP")) as tmp,
        running_cloud(Path(tmp) / "cloud", PORT_OFFSET, HOST_SIZE) as cloud,
    ):
        url, pid = dashboard_of(cloud)
        print(f"the cloud is up after {time.monotonic() - started:.1f}s; dashboard {url}")
        cloud.unlimited_quota()
        create_servers(cloud, servers)
        measure(cloud, url, pid, servers, requests, options.page)


if __name__ == "__main__":
    main()
