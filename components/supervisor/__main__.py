"""``python -m components.supervisor`` (``make run-all``): the whole cloud on loopback.

``--hypervisor qemu`` (``make run-all HYPERVISOR=qemu``) runs real guests:
it installs what is missing, starts virtlogd and libvirtd in a network
namespace of their own (qemu_host.py), points the compute hosts at that
libvirtd, and uploads the demo guest (guest_image.py). Ctrl-C stops them too.
"""

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

from components.framework.component import PRIVATE_UMASK, private_dir
from components.supervisor import guest_image, instructions, qemu_host, seed
from components.supervisor.plan import Plan
from components.supervisor.processes import Supervisor
from components.supervisor.restarts import RestartPolicy

log = logging.getLogger("stratus.supervisor")
# How long the compute hosts get to register before run-all gives up.
HOSTS_TIMEOUT_SECONDS = 120.0


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
    parser.add_argument(
        "--hypervisor",
        choices=("test", "qemu"),
        default="test",
        help="test: libvirt's test driver (no guests run); qemu: real guests under QEMU, "
        "with libvirtd in a network namespace of its own",
    )
    parser.add_argument(
        "--netns",
        default=os.environ.get("STRATUS_NETNS", "stratus"),
        help="the network namespace of guest networks (--hypervisor qemu)",
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


def seed_cloud(
    plan: Plan, addresses: dict[str, str], guest: guest_image.Guest | None
) -> tuple[dict, dict]:
    passwords = {u: seed.password(plan.data_dir, u) for u in ("admin", "demo")}
    admin = seed.token(addresses["identity"], "admin", passwords["admin"], "admin")
    demo = seed.token(addresses["identity"], "demo", passwords["demo"], "demo")
    with grpc.insecure_channel(addresses["api"]) as api:
        seed.flavors(api, admin)
    with grpc.insecure_channel(addresses["image"]) as image:
        image_id = seed.image(image, admin)
        guest_ids = seed.guest_images(image, admin, guest) if guest else {}
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
    with grpc.insecure_channel(addresses["scheduler"]) as scheduler:
        hosts = [spec.name for spec in plan.computes()]
        seed.wait_for_hosts(scheduler, admin, hosts, timeout=HOSTS_TIMEOUT_SECONDS)
    ids = {"image": guest_ids.get("guest", image_id), "network": network_id, "flavor": flavor_id}
    ids.update(guest_ids)
    return passwords, ids


def make_plan(options, qemu: qemu_host.QemuHost | None) -> Plan:
    return Plan(
        Path(options.data_dir).resolve(),
        options.port_offset,
        options.compute_hosts,
        qemu.uri if qemu else options.libvirt_uri,
        compute_env=qemu.compute_env() if qemu else {},
    )


def prepare_qemu(options) -> tuple[qemu_host.QemuHost, guest_image.Guest]:
    """Packages, the demo guest's files and the network namespace for real guests."""
    qemu_host.ensure_installed()
    data_dir = Path(options.data_dir).resolve()
    guest = guest_image.build(data_dir)
    qemu = qemu_host.QemuHost(data_dir, options.netns)
    qemu.prepare()
    return qemu, guest


def announce(options, plan: Plan, addresses: dict[str, str], guest) -> None:
    passwords, ids = seed_cloud(plan, addresses, guest)
    clouds = instructions.write_credentials(plan.data_dir, addresses["identity"], passwords)
    if options.ready_file:
        Path(options.ready_file).write_text(
            json.dumps(
                {"addresses": addresses, "ids": ids, "passwords": passwords, "clouds": str(clouds)}
            )
        )
    image_name = seed.GUEST_IMAGE if guest else seed.DEMO_IMAGE
    print(instructions.banner(addresses, ids, passwords, clouds, image_name), flush=True)
    print(f"export OS_CLIENT_CONFIG_FILE={clouds}", flush=True)


def watch(supervisor: Supervisor, stop: threading.Event) -> int:
    """Restart what dies until told to stop: 0, or 1 if a component had to be given up on."""
    while not stop.wait(0.5):
        supervisor.tend()
    return 1 if supervisor.failed else 0


def run(options) -> int:
    qemu, guest = prepare_qemu(options) if options.hypervisor == "qemu" else (None, None)
    plan = make_plan(options, qemu)
    private_dir(plan.data_dir)
    supervisor = Supervisor(
        plan.data_dir / "logs", echo=not options.quiet, policy=RestartPolicy.from_env(os.environ)
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        bootstrap(plan)
        # The daemons first: they stop last, after the compute hosts using them.
        for spec in [*(qemu.daemons() if qemu else []), *plan.components(), *plan.computes()]:
            supervisor.start(spec)
        addresses = {s.name: s.address for s in [*plan.components(), *plan.computes()]}
        announce(options, plan, addresses, guest)
        return watch(supervisor, stop)
    finally:
        supervisor.stop()
        if qemu:
            qemu.teardown()


def main(argv=None) -> int:
    # The run's data directory, logs and everything the components (which
    # inherit this) write are for this user alone: files 0600, directories 0700.
    os.umask(PRIVATE_UMASK)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s supervisor: %(message)s")
    try:
        return run(parse(argv))
    except (qemu_host.HostSetupError, guest_image.GuestBuildError) as exc:
        log.error("real guests cannot run here: %s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
