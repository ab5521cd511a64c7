"""SelectDestinations latency with 10 to 10,000 registered hosts, on SQLite, over gRPC.

Run: ``.venv/bin/python -m tests.benchmarks.bench_scheduler [--runs N]``.
Each call goes through the real server (auth interceptor, one query for every
host, filters, weighers, the claim's compare-and-swap, the instance record)
and casts BuildAndRunInstance to a fake Compute receiver. Also times the two
in-process halves of the decision (reading the hosts; filtering and weighing).
Prints numbers and records them with tests.benchmarks.results; asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import random
import tempfile
import time
import uuid
from pathlib import Path

from components.compute_db.models import ComputeNode
from components.framework.clock import utcnow
from components.framework.database import database, new_id
from components.scheduler import host_state
from components.scheduler.__main__ import COMPONENT
from components.scheduler.config import SchedulerConfig
from components.scheduler.request_spec import RequestSpec
from components.scheduler.selection import default_filters, default_weighers, order_hosts
from stratus.scheduler.v1 import scheduler_service_pb2 as pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as pb2_grpc
from tests.benchmarks.results import record
from tests.contract.scheduler_fakes import add_instance, fake_compute
from tests.harness import StaticValidator, caller, metadata, serving_component

HOST_COUNTS = (10, 100, 1_000, 10_000)
PROJECT, USER = str(uuid.uuid4()), str(uuid.uuid4())
API = "api-token"
VALIDATOR = StaticValidator({API: caller(["service"], project_id="service", token=API)})
SPEC = pb2.RequestSpec(project_id=PROJECT, user_id=USER, vcpus=2, ram_mib=2048, disk_gib=20)


def register_hosts(first: int, last: int, address: str, rng: random.Random) -> None:
    """Hosts ``first`` to ``last - 1``, of varied sizes, all heartbeating, in few statements."""
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "create_time": now,
            "update_time": now,
            "host": f"compute-{i:05d}",
            "address": address,
            "availability_zone": "nova",
            "hypervisor_type": "QEMU",
            "vcpus": rng.choice((32, 64, 128)),
            "ram_mib": rng.choice((131072, 262144, 524288)),
            "disk_gib": 4000,
            "ram_mib_used": rng.randrange(0, 65536, 1024),
            "last_heartbeat": now,
        }
        for i in range(first, last)
    ]
    with database.atomic():
        for start in range(0, len(rows), 500):
            ComputeNode.insert_many(rows[start : start + 500]).execute()


def select_latencies(stub, runs: int) -> list[float]:
    """Milliseconds per SelectDestinations, each for a new instance."""
    samples = []
    for _ in range(runs):
        server = add_instance(PROJECT, USER, vcpus=2, ram_mib=2048, disk_gib=20)
        request = pb2.SelectDestinationsRequest(instance_id=server.id, spec=SPEC, auth_token="u")
        started = time.perf_counter()
        stub.SelectDestinations(request, metadata=metadata(API))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def decision_latencies(config: SchedulerConfig, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds to read every host, and to filter and weigh them, in this process."""
    spec = RequestSpec(PROJECT, USER, 2, 2048, 20)
    filters, weighers = default_filters(), default_weighers(config)
    loads, decisions = [], []
    for _ in range(runs):
        started = time.perf_counter()
        hosts = host_state.load(config.ratios, config.service_down_time_seconds)
        loaded = time.perf_counter()
        order_hosts(hosts, spec, filters, weighers)
        loads.append((loaded - started) * 1000)
        decisions.append((time.perf_counter() - loaded) * 1000)
    return loads, decisions


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_scheduler")
    parser.add_argument("--runs", type=int, default=25, help="calls per host count")
    options = parser.parse_args()
    logging.disable(logging.WARNING)  # one log line per RPC would measure the terminal
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'compute.sqlite'}"
        config = SchedulerConfig(data_dir=tmp)
        with (
            fake_compute() as (compute, address),
            serving_component(COMPONENT, VALIDATOR, url, config=config) as (_, channel),
        ):
            stub = pb2_grpc.SchedulerStub(channel)
            registered = 0
            for count in HOST_COUNTS:
                register_hosts(registered, count, address, rng)
                registered = count
                select_latencies(stub, 3)  # warm up: the cast stream, caches
                note = f"{count} hosts, SQLite (WAL), over gRPC, cast to a fake compute host"
                record(
                    f"scheduler.select_destinations.{count}_hosts",
                    select_latencies(stub, options.runs),
                    "ms",
                    note,
                )
                loads, decisions = decision_latencies(config, options.runs)
                record(f"scheduler.read_hosts.{count}_hosts", loads, "ms", "one query")
                record(f"scheduler.filter_and_weigh.{count}_hosts", decisions, "ms", "in process")
            compute.wait_for(len(HOST_COUNTS) * (options.runs + 3))


if __name__ == "__main__":
    main()
