"""``python -m components.supervisor`` (``make run-all``): the whole cloud.

On one machine everything listens on loopback (plaintext, or TLS with
``--tls``). ``--machines N`` (``make run-all MACHINES=3``) builds a rack of
network namespaces (rack.py): the control plane on machine ``controller`` on
PostgreSQL (postgres.py) with api, scheduler and conductor twice, each compute
host on a machine of its own, mutual TLS everywhere with the run's CA (pki.py).

``--hypervisor qemu`` (``make run-all HYPERVISOR=qemu``) runs real guests:
it installs what is missing, starts virtlogd and libvirtd in a network
namespace of their own (qemu_host.py), points the compute hosts at that
libvirtd, and uploads the demo guest (guest_image.py). Ctrl-C stops them too.
Guest networks are bridges with VXLAN, served by the network service's DHCP
agent (wiring.py says who is told what). With ``--machines`` each compute
machine runs its own virtlogd and libvirtd, the network service runs on a
machine ``network`` of its own, and volumes reach guests over NBD with TLS.
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

from components.framework import PRIVATE_UMASK, lifeline, private_dir, tls
from components.supervisor import guest_image, instructions, ports, qemu_host, seed, wiring
from components.supervisor.plan import CONTROLLER, DASHBOARD, DATABASES, HostSize, Plan, Tls
from components.supervisor.processes import Supervisor
from components.supervisor.rack import RackError
from components.supervisor.restarts import RestartPolicy

log = logging.getLogger("stratus.supervisor")
# How long the compute hosts get to register before run-all gives up.
HOSTS_TIMEOUT_SECONDS = 120.0
# The control plane's PostgreSQL on the controller machine (a port of its own there).
POSTGRES_PORT = 5432


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
        help="the network namespace of libvirtd and guest networks (--hypervisor qemu on "
        "one machine; with --machines each compute machine is its own)",
    )
    parser.add_argument(
        "--machines",
        type=int,
        default=int(os.environ.get("MACHINES") or 0),
        help="compute machines of a rack of network namespaces (0: everything on loopback)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        default=os.environ.get("TLS", "") not in ("", "0"),
        help="TLS on every connection, mutual between components (always with --machines)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=int(os.environ.get("REPLICAS") or 0),
        help="processes of each of api, scheduler and conductor (default 2 with --machines)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="with --machines: the PostgreSQL of the control plane, reachable from the "
        "controller machine (default: a cluster of the run's own in <data_dir>/postgres)",
    )
    parser.add_argument("--ready-file", help="write addresses and ids here once ready (tests)")
    parser.add_argument("--quiet", action="store_true", help="only the log files get output")
    return parser.parse_args(argv)


def bootstrap(plan: Plan) -> None:
    identity = next(spec for spec in plan.components() if spec.name == "identity")
    env = {**identity.env, lifeline.PARENT_ENV: str(os.getpid())}
    result = subprocess.run(
        [sys.executable, "-m", "components.identity", "bootstrap", "--demo"],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"identity bootstrap failed:\n{result.stdout}{result.stderr}")


def connect(addresses: dict[str, str], name: str, security: tls.Tls | None) -> grpc.Channel:
    """A channel to a component as the operator reaches it (TLS when the run has it)."""
    return tls.channel(addresses[name], security, server_name=name)


def seed_cloud(
    plan: Plan,
    addresses: dict[str, str],
    guest: guest_image.Guest | None,
    security: tls.Tls | None = None,
) -> tuple[dict, dict]:
    passwords = {u: seed.password(plan.data_dir, u) for u in ("admin", "demo")}
    with connect(addresses, "identity", security) as identity:
        admin = seed.token(identity, "admin", passwords["admin"], "admin")
        demo = seed.token(identity, "demo", passwords["demo"], "demo")
    with connect(addresses, "api", security) as api:
        seed.flavors(api, admin)
    with connect(addresses, "image", security) as image:
        image_id = seed.image(image, admin)
        guest_ids = seed.guest_images(image, admin, guest) if guest else {}
    with connect(addresses, "network", security) as network:
        network_id = seed.network(network, demo)
    with connect(addresses, "api", security) as api:
        from stratus.api.v1 import api_service_pb2 as api_pb2
        from stratus.api.v1 import api_service_pb2_grpc as api_grpc

        flavors = (
            api_grpc.FlavorsStub(api)
            .ListFlavors(api_pb2.ListFlavorsRequest(), metadata=(("x-auth-token", demo),))
            .flavors
        )
    flavor_id = next(f.id for f in flavors if f.name == "m1.tiny")
    with connect(addresses, "scheduler", security) as scheduler:
        hosts = [spec.name for spec in plan.computes()]
        seed.wait_for_hosts(scheduler, admin, hosts, timeout=HOSTS_TIMEOUT_SECONDS)
    ids = {"image": guest_ids.get("guest", image_id), "network": network_id, "flavor": flavor_id}
    ids.update(guest_ids)
    return passwords, ids


def check_ports(plan: Plan) -> None:
    """Every port the cloud needs on this machine is free, or PortBusy says which is not
    and what to do (a machine of the rack has ports of its own)."""
    specs = [s for s in plan.processes() if not s.exec_prefix]
    taken = [p for s in specs for p in (s.port, s.internal_port) if p]
    for spec in specs:
        for port in (spec.port, spec.internal_port):
            if port and not ports.is_free(port):
                raise ports.PortBusy(ports.busy_message(spec.name, port, taken, plan.port_offset))


def make_plan(
    options, qemus: list[qemu_host.QemuHost] | None = None, machines=None, databases=None
) -> Plan:
    """What runs where. ``qemus``: the hosts of real guests (one on one machine, shared by
    every compute host; one per compute machine of a rack)."""
    data_dir = Path(options.data_dir).resolve()
    extra = {"machines": machines} if machines is not None else {}
    extra.update(guest_wiring(options, qemus or [], machines))
    return Plan(
        data_dir,
        options.port_offset,
        options.machines or options.compute_hosts,
        options.libvirt_uri if not qemus else "",
        host_size=HostSize(
            options.compute_vcpus, options.compute_ram_mib, options.compute_disk_gib
        ),
        replicas=options.replicas or (2 if options.machines else 1),
        tls=Tls(data_dir / "pki") if options.tls or options.machines else None,
        database_urls=databases or {},
        **extra,
    )


def guest_wiring(options, qemus: list[qemu_host.QemuHost], rack) -> dict:
    """Plan fields for real guests (see wiring.py): nothing for the test hypervisor."""
    if not qemus:
        return {}
    if rack is None:  # one machine: an all-in-one host, the bridges in the guests' namespace
        (qemu,) = qemus
        network = wiring.network_env(
            wiring.LOOPBACK_TUNNEL_IP, wiring.LOOPBACK_DEVICE, qemu.namespace
        )
        return {"compute_env": qemu.compute_env(), "component_env": {"network": network}}
    from components.supervisor.rack import MACHINE_LINK

    network = wiring.network_env(rack.address(wiring.NETWORK_MACHINE), MACHINE_LINK, "")
    volume = wiring.volume_env(rack.address(CONTROLLER), options.port_offset)
    return {
        "placement": {"network": wiring.NETWORK_MACHINE},
        "component_env": {"network": network, "volume": volume},
        "host_env": {qemu.name: qemu.compute_env() for qemu in qemus},
    }


def issue_certificates(plan: Plan) -> tls.Tls | None:
    """A key and certificate for every process (its service type, name and address) and
    one for the operator; the operator's credentials (health checks, seeding), or None."""
    if plan.tls is None:
        return None
    from components.supervisor.pki import Authority

    authority = Authority.load_or_create(plan.tls.pki_dir)
    for spec in plan.processes():
        # The dashboard calls only public ports, which ask for no client certificate:
        # its certificate serves browsers and nothing else.
        client = spec.service != DASHBOARD
        authority.issue(spec.name, spec.service, [spec.host], client=client)
    operator = authority.issue("operator", "operator", ["127.0.0.1"])
    return tls.Tls.from_files(
        str(authority.ca_file), str(operator.cert_file), str(operator.key_file)
    )


def write_test_nodes(plan: Plan) -> None:
    """The node definition of each test host (an empty host of the planned size)."""
    for path, text in plan.test_node_files().items():
        private_dir(path.parent)
        path.write_text(text)


def prepare_qemu(options) -> guest_image.Guest:
    """Packages and the demo guest's files for real guests."""
    qemu_host.ensure_installed()
    return guest_image.build(Path(options.data_dir).resolve())


def qemu_hosts(options, data_dir: Path, rack) -> list[qemu_host.QemuHost]:
    """The libvirt of each host of real guests, prepared: on one machine one, in a
    namespace of its own; in a rack one per compute machine, in the machine."""
    if rack is None:
        # What a previous run killed before it could clean up left outside its namespace.
        wiring.clean_leftovers(data_dir)
        hosts = [qemu_host.QemuHost(data_dir, options.netns)]
    else:
        from components.supervisor.rack import MACHINE_LINK

        hosts = [
            qemu_host.QemuHost(
                data_dir,
                rack.namespace(name),
                name=name,
                owns_namespace=False,
                tunnel_ip=rack.address(name),
                underlay_device=MACHINE_LINK,
                nbd_tls=True,
            )
            for name in rack.machines()
            if name.startswith("compute-")
        ]
    for host in hosts:
        host.prepare()
    return hosts


def install_nbd_credentials(plan: Plan, qemus: list[qemu_host.QemuHost]) -> None:
    """Each libvirtd of NBD disks gets its compute host's certificate as QEMU's client."""
    if plan.tls is None:
        return
    for qemu in qemus:
        if qemu.nbd_tls:
            cert, key = plan.tls.files(qemu.name)
            qemu.install_nbd_credentials(plan.tls.ca_file, cert, key)


def announce(
    options,
    plan: Plan,
    addresses: dict[str, str],
    guest,
    security: tls.Tls | None = None,
    details: dict | None = None,
) -> None:
    """Seed the cloud, write the credentials, print the banner (and the ready file)."""
    passwords, ids = seed_cloud(plan, addresses, guest, security)
    cacert = plan.tls.ca_file if plan.tls is not None else None
    operator = plan.tls.files("operator") if plan.tls is not None else None
    clouds = instructions.write_credentials(
        plan.data_dir, addresses["identity"], passwords, cacert=cacert
    )
    dashboard = plan.dashboard_url()
    if options.ready_file:
        ready = {
            "addresses": addresses,
            "ids": ids,
            "passwords": passwords,
            "clouds": str(clouds),
            "dashboard": dashboard,
        }
        Path(options.ready_file).write_text(json.dumps({**ready, **(details or {})}))
    image_name = seed.GUEST_IMAGE if guest else seed.DEMO_IMAGE
    text = instructions.banner(
        addresses,
        ids,
        passwords,
        clouds,
        image_name,
        cacert=cacert,
        operator=operator,
        reach=reach_note(details or {}),
        machines=bool((details or {}).get("machines")),
        dashboard=dashboard,
    )
    print(text, flush=True)


def reach_note(details: dict) -> str:
    """How the operator's shell reaches a rack's machines (nothing on one machine)."""
    machines = details.get("machines")
    if not machines:
        return ""
    where = ", ".join(f"{name} {', '.join(m['addresses'])}" for name, m in machines.items())
    prefix = machines[CONTROLLER]["namespace"].removesuffix(f"-{CONTROLLER}")
    runs = "".join(
        f"    {name}: {', '.join(m['runs'])}\n" for name, m in machines.items() if m.get("runs")
    )
    return (
        f"\n  Machines (network namespaces {prefix}-*): {where}.\n"
        + (f"  What runs where:\n{runs}" if runs else "")
        + f"  This shell reaches them over {prefix}-op ({details['operator_address']}), "
        "the rack's\n"
        f"  switch; a machine's own view: sudo ip netns exec {prefix}-controller ss -ltn\n"
    )


def run_details(plan: Plan, supervisor: Supervisor, rack, security: tls.Tls | None) -> dict:
    """What a test of the run needs beyond the banner: pids, internal addresses, machines,
    the operator's certificate."""
    specs = [*plan.components(), *plan.computes()]
    details: dict = {
        "pids": {c.spec.name: c.process.pid for c in supervisor.children},
        "internal": {s.name: s.internal_address for s in specs},
        "replicas": plan.replicas,
    }
    if plan.tls is not None and security is not None:
        operator = plan.tls.files("operator")
        details["tls"] = {
            "ca": str(plan.tls.ca_file),
            "cert": str(operator[0]),
            "key": str(operator[1]),
        }
    if rack is not None:
        details["machines"] = {
            name: {
                "namespace": rack.namespace(name),
                "addresses": list(rack.addresses(name)),
                "runs": [c.spec.name for c in supervisor.children if c.spec.machine == name],
            }
            for name in rack.machines()
        }
        details["operator_address"] = rack.operator_address
    return details


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


def build_rack(options, data_dir: Path, replicas: int):
    """The machines of a --machines run: a controller (one address per replica), the
    compute machines and, with real guests, the network machine (at .5), after removing
    what a previous run that was killed left behind."""
    from components.supervisor.rack import Rack, tag_for_port_offset

    tag = tag_for_port_offset(options.port_offset)
    rack = Rack(f"stratus{tag}", data_dir, tag).create()
    try:
        rack.add(CONTROLLER, addresses=replicas)
        for index in range(1, options.machines + 1):
            rack.add(f"compute-{index}")
        if options.hypervisor == "qemu":
            rack.add(wiring.NETWORK_MACHINE, host=wiring.NETWORK_MACHINE_HOST)
    except BaseException:
        rack.destroy()
        raise
    return rack


def control_plane_database(options, rack, data_dir: Path):
    """With machines: the PostgreSQL cluster to start (None when DATABASE_URL names one)
    and the URL of each database."""
    names = sorted(set(DATABASES.values()))
    if options.database_url:
        return None, {name: options.database_url for name in names}
    from components.supervisor.postgres import Cluster

    cluster = Cluster(
        data_dir, rack.address(CONTROLLER), POSTGRES_PORT, rack.exec_prefix(CONTROLLER)
    )
    cluster.ensure()
    return cluster, {name: cluster.url(name) for name in names}


def run(options) -> int:
    stop, starting = threading.Event(), threading.Event()
    starting.set()
    handle_stop_signals(stop, starting)
    real_guests = options.hypervisor == "qemu"
    if real_guests and options.machines:
        try:
            wiring.nbd_ports(options.port_offset)
        except ValueError as error:  # an offset putting the NBD exports too high
            raise qemu_host.HostSetupError(str(error)) from None
    guest = prepare_qemu(options) if real_guests else None
    data_dir = Path(options.data_dir).resolve()
    rack = cluster = None
    qemus: list[qemu_host.QemuHost] = []
    reapers = []
    supervisor = None
    try:
        databases = {}
        if options.machines:
            private_dir(data_dir)  # the rack's state file goes there
            rack = build_rack(options, data_dir, options.replicas or 2)
            # Deletes the machines if run-all dies without doing it (SIGKILL).
            reapers.append(rack.start_reaper())
            cluster, databases = control_plane_database(options, rack, data_dir)
        if real_guests:
            qemus = qemu_hosts(options, data_dir, rack)
        plan = make_plan(options, qemus, rack, databases)
        check_ports(plan)  # before anything is written: a busy port changes nothing
        private_dir(plan.data_dir)
        write_test_nodes(plan)
        security = issue_certificates(plan)
        install_nbd_credentials(plan, qemus)
        supervisor = Supervisor(
            plan.data_dir / "logs",
            echo=not options.quiet,
            policy=RestartPolicy.from_env(os.environ),
            security=security,
        )
        for qemu in qemus:  # deletes the guests' namespace if run-all dies without doing it
            if qemu.owns_namespace:
                reapers.append(qemu_host.start_reaper(qemu.namespace, data_dir=data_dir))
        if cluster is not None:
            supervisor.start(cluster.spec())
            cluster.wait_ready()
            cluster.create_databases(sorted(databases))
        bootstrap(plan)
        # The daemons first: they stop last, after the compute hosts using them; the
        # dashboard last (plan.processes).
        for spec in [*(d for qemu in qemus for d in qemu.daemons()), *plan.processes()]:
            supervisor.start(spec)
        # The gRPC services (the dashboard's URL is announced on its own).
        addresses = {s.name: s.address for s in [*plan.components(), *plan.computes()]}
        details = run_details(plan, supervisor, rack, security)
        announce(options, plan, addresses, guest, security, details)
        starting.clear()
        return watch(supervisor, stop)
    except Stopped:
        return 0
    finally:
        starting.clear()
        if supervisor is not None:
            supervisor.stop()
        if real_guests:  # DHCP namespaces and dnsmasq, NBD exports
            wiring.clean_leftovers(data_dir)
        for qemu in qemus:
            qemu.teardown()
        if rack is not None:
            rack.destroy()
        for reaper in reapers:
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
    except RackError as exc:
        log.error("the machines cannot be built here: %s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
