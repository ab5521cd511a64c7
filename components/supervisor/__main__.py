"""``python -m components.supervisor`` (``make run-all``): the whole cloud on loopback."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import grpc

from components.supervisor import instructions, seed
from components.supervisor.plan import Plan
from components.supervisor.processes import Supervisor

log = logging.getLogger("stratus.supervisor")
# A component that dies is started again, this many times, before run-all gives up.
MAX_RESTARTS = 5


def parse(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m components.supervisor")
    parser.add_argument("--data-dir", default=os.environ.get("STRATUS_DATA_DIR", "./var"))
    parser.add_argument(
        "--compute-hosts", type=int, default=int(os.environ.get("COMPUTE_HOSTS", "1"))
    )
    parser.add_argument(
        "--port-offset", type=int, default=int(os.environ.get("STRATUS_PORT_OFFSET", "0"))
    )
    parser.add_argument(
        "--libvirt-uri", default=os.environ.get("STRATUS_COMPUTE_LIBVIRT_URI", "test:///default")
    )
    parser.add_argument("--ready-file", help="write addresses and ids here once ready (tests)")
    parser.add_argument("--quiet", action="store_true", help="only the log files get output")
    return parser.parse_args(argv)


def bootstrap(plan: Plan) -> None:
    env = plan.base_env()
    result = subprocess.run(
        [sys.executable, "-m", "components.identity", "bootstrap", "--demo"],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"identity bootstrap failed:\n{result.stdout}{result.stderr}")


def seed_cloud(plan: Plan, addresses: dict[str, str]) -> tuple[dict, dict]:
    passwords = {u: seed.password(plan.data_dir, u) for u in ("admin", "demo")}
    admin = seed.token(addresses["identity"], "admin", passwords["admin"], "admin")
    demo = seed.token(addresses["identity"], "demo", passwords["demo"], "demo")
    with grpc.insecure_channel(addresses["api"]) as api:
        seed.flavors(api, admin)
    with grpc.insecure_channel(addresses["image"]) as image:
        image_id = seed.image(image, admin)
    with grpc.insecure_channel(addresses["network"]) as network:
        network_id = seed.network(network, demo)
    with grpc.insecure_channel(addresses["api"]) as api:
        from stratus.api.v1 import api_service_pb2 as api_pb2
        from stratus.api.v1 import api_service_pb2_grpc as api_grpc

        flavors = (
            api_grpc.FlavorsStub(api)
            .ListFlavors(api_pb2.ListFlavorsRequest(), metadata=(("x-auth-token", demo),))
            .flavors
        )
    flavor_id = next(f.id for f in flavors if f.name == "m1.tiny")
    return passwords, {"image": image_id, "network": network_id, "flavor": flavor_id}


def run(options) -> int:
    plan = Plan(
        Path(options.data_dir).resolve(),
        options.port_offset,
        options.compute_hosts,
        options.libvirt_uri,
    )
    plan.data_dir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(plan.data_dir / "logs", echo=not options.quiet)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        bootstrap(plan)
        for spec in [*plan.components(), *plan.computes()]:
            supervisor.start(spec)
        addresses = {s.name: s.address for s in [*plan.components(), *plan.computes()]}
        passwords, ids = seed_cloud(plan, addresses)
        clouds = instructions.write_credentials(plan.data_dir, addresses["identity"], passwords)
        if options.ready_file:
            Path(options.ready_file).write_text(
                json.dumps(
                    {
                        "addresses": addresses,
                        "ids": ids,
                        "passwords": passwords,
                        "clouds": str(clouds),
                    }
                )
            )
        print(instructions.banner(addresses, ids, passwords, clouds), flush=True)
        print(f"export OS_CLIENT_CONFIG_FILE={clouds}", flush=True)
        while not stop.wait(0.5):
            exited = supervisor.first_exited()
            if exited is None:
                continue
            if exited.restarts >= MAX_RESTARTS:
                log.error(
                    "%s keeps exiting (%s); stopping everything; see %s",
                    exited.spec.name,
                    exited.process.returncode,
                    exited.log_path,
                )
                return 1
            log.warning(
                "%s exited (%s); restarting it; see %s",
                exited.spec.name,
                exited.process.returncode,
                exited.log_path,
            )
            supervisor.restart(exited)
        return 0
    finally:
        supervisor.stop()


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s supervisor: %(message)s")
    return run(parse(argv))


if __name__ == "__main__":
    sys.exit(main())
