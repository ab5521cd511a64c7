"""Real guests on two compute machines: one tenant network across them, DHCP from the
network machine, tenant isolation, and a volume that follows its data across hosts.

``make run-all MACHINES=2 HYPERVISOR=qemu`` as a subprocess (tests/e2e/machines.py):
a rack of network namespaces where each compute machine runs its own libvirtd,
the network machine runs the network service and one dnsmasq per network in
``qdhcp-<network id>``, and the controller's volume service exports volumes
over NBD with TLS. Guests are pinned by an admin (``nova:compute-1``); what
each one does is on its kernel command line (guest_init.sh: ``stratus.ping``,
``stratus.mark``) and what it saw is on its serial console.

Skipped, saying why, where there are no namespaces, no QEMU (installed when
missing, as for the single-host QEMU test), no PostgreSQL or no
qemu-storage-daemon.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import grpc
import pytest

from components.supervisor import guest_image
from components.volume import nbd
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from tests.e2e import machines
from tests.e2e.boot import Driver
from tests.e2e.test_qemu_guest import why_qemu_cannot_run

pytestmark = [pytest.mark.e2e, pytest.mark.qemu]
# Tag 13 (10.251.13.0/24, namespaces stratus13-*); every port + 1000 stays below 32768.
PORT_OFFSET = int(os.environ.get("STRATUS_E2E_GUESTS_MACHINES_PORT_OFFSET", "13000"))
PREFIX = guest_image.CONSOLE_PREFIX
CIDR = "10.40.0.0/24"
# A, B on network "blue"; C on network "red", same CIDR, an address neither A nor B has.
ADDRESS = {"a": "10.40.0.10", "b": "10.40.0.11", "c": "10.40.0.12", "d": "10.40.0.13"}
MARKER = f"STRATUS-MARK-{uuid.uuid4().hex[:8]}"
BOOT_SECONDS = 240.0
PING_SECONDS = 150.0


def why_not() -> str:
    reason = machines.why_not() or why_qemu_cannot_run() or nbd.available()
    return reason or ""


class RackCloud:
    """What tests/e2e/boot.Driver needs from a cloud, for a run across machines."""

    def __init__(self, run: machines.Run) -> None:
        self.run = run
        self.ids = run.ids
        self.addresses = {n: a for n, a in run.addresses.items() if n.startswith("compute-")}

    def md(self, user: str = "demo") -> tuple:
        return self.run.md(user)

    def token_reply(self, user: str = "demo"):
        return self.run.token_reply(user)

    def channel(self, name: str) -> grpc.Channel:
        if name.startswith("compute-"):
            return self.run.operator_channel(name)
        return self.run.public(name)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    reason = why_not()
    if reason:
        pytest.skip(reason)
    data_dir = tmp_path_factory.mktemp("gm")
    with machines.start_run(
        data_dir, PORT_OFFSET, 2, env=machines.FAST_FAULTS, hypervisor="qemu", ready_within=900
    ) as r:
        yield r


@pytest.fixture(scope="module")
def admin(run):
    return Driver(RackCloud(run), "admin")


# ------------------------------------------------------------------ helpers


def network_with_subnet(admin: Driver, name: str) -> network_pb2.VirtualNetwork:
    network = admin.network.CreateNetwork(
        network_pb2.CreateNetworkRequest(name=f"{name}-{uuid.uuid4().hex[:4]}"), metadata=admin.md
    )
    admin.network.CreateSubnet(
        network_pb2.CreateSubnetRequest(network_id=network.id, cidr=CIDR, ip_version=4),
        metadata=admin.md,
    )
    return network


def port(admin: Driver, network_id: str, address: str) -> network_pb2.Port:
    return admin.network.CreatePort(
        network_pb2.CreatePortRequest(
            network_id=network_id, fixed_ips=[network_pb2.Port.FixedIp(ip_address=address)]
        ),
        metadata=admin.md,
    )


def dhcp_port(admin: Driver, network_id: str) -> network_pb2.Port:
    ports = admin.network.ListPorts(
        network_pb2.ListPortsRequest(network_id=network_id, page_size=100), metadata=admin.md
    ).ports
    (found,) = [p for p in ports if p.device_owner == "network:dhcp"]
    return found


def image_with_command_line(run: machines.Run, admin: Driver, extra: str) -> str:
    """A disk image booting the demo guest's kernel and ramdisk with ``extra`` appended to
    its kernel command line (Glance's os_command_line)."""
    stub = image_grpc.ImagesStub(run.public("image"))
    guest = stub.GetImage(image_pb2.GetImageRequest(image_id=run.ids["image"]), metadata=admin.md)
    properties = dict(guest.properties)
    properties["os_command_line"] = f"{properties['os_command_line']} {extra}"
    created = stub.CreateImage(
        image_pb2.CreateImageRequest(
            name=f"guest-{uuid.uuid4().hex[:6]}",
            disk_format=guest.disk_format,
            container_format=guest.container_format,
            properties=properties,
        ),
        metadata=admin.md,
    )
    data = b"".join(
        reply.chunk
        for reply in stub.DownloadImage(
            image_pb2.DownloadImageRequest(image_id=guest.id), metadata=admin.md
        )
    )
    header = image_pb2.UploadImageHeader(image_id=created.id)
    requests = [image_pb2.UploadImageRequest(header=header)]
    requests += [
        image_pb2.UploadImageRequest(chunk=data[i : i + (1 << 20)])
        for i in range(0, len(data), 1 << 20)
    ]
    stub.UploadImage(iter(requests), metadata=admin.md, timeout=120)
    return created.id


def console(admin: Driver, server_id: str) -> str:
    try:
        return admin.servers.GetConsoleOutput(
            api_pb2.GetConsoleOutputRequest(server_id=server_id), metadata=admin.md
        ).output
    except grpc.RpcError as exc:
        if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
            return ""
        raise


def wait_console(admin: Driver, server_id: str, pattern: str, timeout: float) -> str:
    """The console once ``pattern`` (a regular expression) is on it."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = console(admin, server_id)
        if re.search(pattern, text):
            return text
        time.sleep(0.5)
    raise AssertionError(f"the console of {server_id} never showed {pattern!r}:\n{text}")


def boot(admin: Driver, host: str, image_id: str, port_id: str, **fields) -> api_pb2.Server:
    server = admin.create(
        image_id=image_id,
        network_ids=[],
        port_ids=[port_id],
        availability_zone=f"nova:{host}",
        **fields,
    )
    settled = admin.wait(server.id, timeout=BOOT_SECONDS)
    assert settled.status == api_pb2.Server.STATUS_ACTIVE, settled.fault
    assert admin.get(server.id, admin=True).host == host
    return settled


def in_namespace(namespace: str, *argv: str) -> str:
    return machines.in_namespace(namespace, list(argv))


def data_plane(run: machines.Run) -> dict[str, list[str]]:
    """Per machine namespace: every tenant bridge, VXLAN interface, tap and veth end,
    FDB entry with a remote destination, dnsmasq and qemu-storage-daemon; and every
    qdhcp namespace of the run's networks."""
    found: dict[str, list[str]] = {}
    for name, machine in run.machines.items():
        namespace = machine["namespace"]
        links = [
            line.split()[0].split("@")[0]
            for line in in_namespace(namespace, "ip", "-br", "link").splitlines()
        ]
        items = [n for n in links if n.startswith(("brq", "vxlan-", "tap", "ns-"))]
        items += [
            f"fdb {line}"
            for line in in_namespace(namespace, "bridge", "fdb", "show").splitlines()
            if " dst " in line
        ]
        for pid in machines.namespace_pids(namespace):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
            except OSError:
                continue
            if command.endswith(("dnsmasq", "qemu-storage-daemon")):
                items.append(f"process {pid} {command}")
        found[name] = items
    namespaces = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, timeout=10
    ).stdout
    found["qdhcp"] = [n for n in namespaces.split() if n.startswith("qdhcp-")]
    return found


# ------------------------------------------------------------------ the test


def test_guests_on_two_machines_share_a_network_and_a_volume_and_leave_nothing(run, admin):
    before = data_plane(run)
    blue = network_with_subnet(admin, "blue")
    red = network_with_subnet(admin, "red")
    assert blue.mtu == red.mtu == 1450  # the rack underlay's 1500 bytes less VXLAN's 50
    ports = {
        "a": port(admin, blue.id, ADDRESS["a"]),
        "b": port(admin, blue.id, ADDRESS["b"]),
        "c": port(admin, red.id, ADDRESS["c"]),
    }
    volume = admin.new_volume()

    image_a = image_with_command_line(
        run, admin, f"stratus.ping={ADDRESS['b']} stratus.mark=vdb:{MARKER}"
    )
    image_b = image_with_command_line(run, admin, f"stratus.ping={ADDRESS['a']}")
    image_c = image_with_command_line(
        run, admin, f"stratus.ping={ADDRESS['a']},{ADDRESS['b']} stratus.ping_seconds=20"
    )
    a = boot(admin, "compute-1", image_a, ports["a"].id, volume_ids=[volume.id])
    b = boot(admin, "compute-2", image_b, ports["b"].id)
    c = boot(admin, "compute-2", image_c, ports["c"].id)

    # Each guest got its IPAM address from the network machine's dnsmasq of its network.
    for key, server, network in (("a", a, blue), ("b", b, blue), ("c", c, red)):
        server_address = dhcp_port(admin, network.id).fixed_ips[0].ip_address
        wait_console(
            admin,
            server.id,
            rf"{PREFIX} nic eth0 address {re.escape(ADDRESS[key])}/24 server "
            # The NIC's MTU is the network's: what its VXLAN segment carries.
            rf"{re.escape(server_address)} mtu {network.mtu}\b",
            BOOT_SECONDS,
        )
    plane = data_plane(run)
    assert f"qdhcp-{blue.id}" in plane["qdhcp"] and f"qdhcp-{red.id}" in plane["qdhcp"]
    # Compute machines run no dnsmasq; compute-1 floods blue's segment to exactly the
    # other hosts with ports on it (compute-2 and the network machine), not red's.
    for machine in ("compute-1", "compute-2"):
        assert not [i for i in plane[machine] if "dnsmasq" in i], plane[machine]
    peers = {
        line.split(" dst ")[1].split()[0]
        for line in plane["compute-1"]
        if line.startswith("fdb ") and f"dev vxlan-{blue.segmentation_id} " in line
    }
    underlay = {name: m["addresses"][0] for name, m in run.machines.items()}
    assert peers == {underlay["compute-2"], underlay["network"]}, plane["compute-1"]
    assert f"brq{red.id[:11]}" not in plane["compute-1"]

    # A (compute-1) and B (compute-2) reach each other over VXLAN; C, on another
    # network with the same CIDR, reaches neither.
    wait_console(admin, a.id, rf"{PREFIX} ping {re.escape(ADDRESS['b'])} ok", PING_SECONDS)
    wait_console(admin, b.id, rf"{PREFIX} ping {re.escape(ADDRESS['a'])} ok", PING_SECONDS)
    # Full-size packets cross too: the guests send frames the VXLAN interface carries.
    for guest, other in ((a, "b"), (b, "a")):
        wait_console(
            admin,
            guest.id,
            rf"{PREFIX} ping {re.escape(ADDRESS[other])} 1500 bytes ok",
            PING_SECONDS,
        )
    text = wait_console(
        admin, c.id, rf"{PREFIX} ping {re.escape(ADDRESS['b'])} (ok|failed)", PING_SECONDS
    )
    assert f"{PREFIX} ping {ADDRESS['a']} failed" in text, text
    assert f"{PREFIX} ping {ADDRESS['b']} failed" in text, text

    # A wrote the marker on its volume (through NBD from the controller) ...
    wait_console(admin, a.id, rf"{PREFIX} marked vdb", BOOT_SECONDS)
    admin.delete(a.id, timeout=120)
    assert admin.volume(volume.id).status == volume_pb2.Volume.STATUS_AVAILABLE
    # ... and D on compute-2 reads it back.
    ports["d"] = port(admin, blue.id, ADDRESS["d"])
    d = boot(admin, "compute-2", run.ids["image"], ports["d"].id, volume_ids=[volume.id])
    wait_console(admin, d.id, rf"{PREFIX} disk vdb {MARKER}", BOOT_SECONDS)

    for server in (b, c, d):
        admin.delete(server.id, timeout=120)
    for key in ("a", "b", "c", "d"):
        try:
            admin.network.DeletePort(
                network_pb2.DeletePortRequest(port_id=ports[key].id), metadata=admin.md
            )
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.NOT_FOUND
    for network in (blue, red):
        admin.network.DeleteNetwork(
            network_pb2.DeleteNetworkRequest(network_id=network.id), metadata=admin.md
        )
    admin.volumes.DeleteVolume(
        volume_pb2.DeleteVolumeRequest(volume_id=volume.id), metadata=admin.md
    )

    # Nothing of either network is left on any machine.
    machines.wait_until(lambda: data_plane(run) == before, timeout=30)
    left = data_plane(run)
    assert left == before, f"left behind: {left} (before: {before})"
