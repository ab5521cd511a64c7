"""CreatePort throughput of the network service on SQLite: one caller, then eight at once.

Run: ``.venv/bin/python -m tests.benchmarks.bench_network [--ports N] [--runs N]``.
Each run creates a network with a /16 subnet and allocates ``--ports`` ports
on it through the real server (auth interceptor, IPAM, MAC allocation and
all). Prints numbers and records them with tests.benchmarks.results; asserts
nothing.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.benchmarks.results import record
from tests.contract.network_api import Api, serving

SUBNET = "10.{}.0.0/16"


def create_ports(api: Api, count: int, callers: int, run: int) -> float:
    """Ports created per second by ``callers`` concurrent callers on a fresh /16."""
    network, _ = api.network(cidr=SUBNET.format(run))
    started = time.perf_counter()
    if callers == 1:
        for _ in range(count):
            api.port(network.id)
    else:
        with ThreadPoolExecutor(callers) as pool:
            list(pool.map(lambda _: api.port(network.id), range(count)))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_network")
    parser.add_argument("--ports", type=int, default=500, help="ports per run")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    logging.disable(logging.INFO)  # one log line per RPC would measure the terminal
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'network.sqlite'}"
        with serving(url) as api:
            api.port(api.network(cidr="192.168.0.0/24")[0].id)  # warm up
            run = 0
            for callers in (1, 8):
                samples = []
                for _ in range(options.runs):
                    run += 1
                    samples.append(create_ports(api, options.ports, callers, run))
                note = (
                    f"{options.ports} ports per run on a /16, SQLite (WAL), over gRPC; "
                    "callers and server share one process (and its GIL)"
                )
                label = "sequential" if callers == 1 else f"{callers} concurrent callers"
                record(f"network.create_port.{label.replace(' ', '_')}", samples, "ports/s", note)


if __name__ == "__main__":
    main()
