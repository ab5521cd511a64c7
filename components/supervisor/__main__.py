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

from components.framework import PRIVATE_UMASK, lifeline, private_dir
from components.supervisor import guest_image, instructions, ports, qemu_host, seed
from components.supervisor.plan import HostSize, Plan
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
        "--libvirt-uri",
        default=os.environ.get("STRATUS_COMPUTE_LIBVIRT_URI", ""),
        help="the libvirt of every compute host; default: each its own empty test host",
    )
    for setting, meaning in (
        ("vcpus", "vCPUs"),
        ("ram-mib", "MiB of memory"),
        ("disk-gib", "GiB of disk"),
    ):
        env = setting.upper().replace("-", "_")
        parser.add_argument(
            f"--compute-{setting}",
            type=int,
            default=int(
                os.environ.get(f"COMPUTE_{env}") or os.environ.get(f"STRATUS_COMPUTE_{env}") or 0
            ),
            help=f"{meaning} each compute host offers (COMPUTE_{env}); 0: the hypervisor's",
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
    env = {**plan.base_env(), lifeline.PARENT_ENV: str(os.getpid())}
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


def check_ports(plan: Plan) -> None:
    """Every port the cloud needs is free, or PortBusy says which is not and what to do."""
    specs = [*plan.components(), *plan.computes()]
    for spec in specs:
        if not ports.is_free(spec.port):
            taken = [s.port for s in specs]
            raise ports.PortBusy(ports.busy_message(spec.name, spec.port, taken, plan.port_offset))


def make_plan(options, qemu: qemu_host.QemuHost | None) -> Plan:
    return Plan(
        Path(options.data_dir).resolve(),
        options.port_offset,
        options.compute_hosts,
        qemu.uri if qemu else options.libvirt_uri,
        compute_env=qemu.compute_env() if qemu else {},
        host_size=HostSize(
            options.compute_vcpus, options.compute_ram_mib, options.compute_disk_gib
        ),
    )


def write_test_nodes(plan: Plan) -> None:
    """The node definition of each test host (an empty host of the planned size)."""
    for path, text in plan.test_node_files().items():
        private_dir(path.parent)
        path.write_text(text)


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


def watch(supervisor: Supervisor, stop: threading.Event) -> int:
    """Restart what dies until told to stop: 0, or 1 if a component had to be given up on."""
    while not stop.wait(0.5):
        supervisor.tend()
    return 1 if supervisor.failed else 0


class Stopped(Exception):
    """A stop signal arrived while the cloud was still starting."""


def handle_stop_signals(stop: threading.Event, starting: threading.Event) -> None:
    """SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed) all stop everything in
    order: while starting at once, afterwards at the watch loop's next look."""

    def on_signal(signum, _frame):
        log.info("%s: stopping every component", signal.Signals(signum).name)
        stop.set()
        if starting.is_set():
            starting.clear()
            raise Stopped

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)


def run(options) -> int:
    stop, starting = threading.Event(), threading.Event()
    starting.set()
    handle_stop_signals(stop, starting)
    qemu, guest = prepare_qemu(options) if options.hypervisor == "qemu" else (None, None)
    plan = make_plan(options, qemu)
    check_ports(plan)
    private_dir(plan.data_dir)
    write_test_nodes(plan)
    supervisor = Supervisor(
        plan.data_dir / "logs", echo=not options.quiet, policy=RestartPolicy.from_env(os.environ)
    )
    # Deletes the guests' namespace if run-all dies without doing it (SIGKILL).
    reaper = qemu_host.start_reaper(qemu.namespace) if qemu else None
    try:
        bootstrap(plan)
        # The daemons first: they stop last, after the compute hosts using them.
        for spec in [*(qemu.daemons() if qemu else []), *plan.components(), *plan.computes()]:
            supervisor.start(spec)
        addresses = {s.name: s.address for s in [*plan.components(), *plan.computes()]}
        announce(options, plan, addresses, guest)
        starting.clear()
        return watch(supervisor, stop)
    except Stopped:
        return 0
    finally:
        starting.clear()
        supervisor.stop()
        if qemu:
            qemu.teardown()
        if reaper:
            qemu_host.stop_reaper(reaper)


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
    except Stopped:  # before anything was started
        return 0
    except ports.PortBusy as exc:
        print(f"run-all: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
