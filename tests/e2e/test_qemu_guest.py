"""Real guests: the demo guest under QEMU, booted through the whole boot flow.

The cloud is started as ``make run-all HYPERVISOR=qemu`` starts it (its own
data directory, ports and network namespace, with virtlogd and libvirtd in
it), once for this module. What is missing (QEMU, libvirtd, dnsmasq) is
installed first; the tests are skipped, saying why, only where QEMU cannot
run at all (not root, no network namespaces, no QEMU to install).

The guest's /init prints what it was given on its serial console
(guest_init.sh), which GetConsoleOutput returns: the tests read the disks'
first bytes, the DHCP address and the DHCP server there. Guest NICs are taps
on bridges in the guests' namespace; DHCP comes from the network service's
dnsmasq in a namespace qdhcp-<network id> plugged into that bridge.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import grpc
import libvirt
import pytest

from components.compute import accelerator
from components.compute.instance_drive import sanitize_hostname
from components.supervisor import guest_image, qemu_host, seed
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from tests import host_guard
from tests.e2e.boot import Driver
from tests.e2e.conftest import Cloud
from tests.e2e.test_cli import Stratus

pytestmark = [pytest.mark.e2e, pytest.mark.qemu]
PORT_OFFSET = int(os.environ.get("STRATUS_QEMU_E2E_PORT_OFFSET", "21000"))
NAMESPACE = f"stratus-e2e-{os.getpid()}"
PREFIX = guest_image.CONSOLE_PREFIX
VOLUME_MARKER = b"STRATUS E2E VOLUME"
BOOT_SECONDS = 120
RUNNING, SHUTOFF = libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_SHUTOFF


def why_qemu_cannot_run() -> str:
    """Why real guests cannot run here, or "" — after installing what is missing."""
    if not sys.platform.startswith("linux"):
        return "real guests need Linux"
    if os.geteuid() != 0:
        return "real guests need root (libvirtd, network namespaces)"
    try:
        with host_guard.installing_packages():
            qemu_host.ensure_installed()
    except qemu_host.HostSetupError as exc:
        return f"QEMU, libvirtd and dnsmasq could not be installed: {exc}"
    probe = f"stratus-probe-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "network namespaces cannot be created here (ip netns add failed)"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    if not accelerator.reaches_long_mode("tcg", timeout=30):
        return "QEMU cannot start a guest here (its TCG probe did not run)"
    return ""


class QemuCloud(Cloud):
    @property
    def libvirt_uri(self) -> str:
        return f"qemu:///system?socket={self.data_dir / 'libvirt' / 'run' / 'libvirt-sock'}"


@pytest.fixture(scope="module")
def qemu_cloud(tmp_path_factory):
    reason = why_qemu_cannot_run()
    if reason:
        pytest.skip(reason)
    data_dir = tmp_path_factory.mktemp("qemu-cloud")
    ready = data_dir / "ready.json"
    command = [
        sys.executable, "-m", "components.supervisor", "--hypervisor", "qemu",
        "--netns", NAMESPACE, "--data-dir", str(data_dir), "--port-offset", str(PORT_OFFSET),
        "--ready-file", str(ready), "--quiet",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_ready(process, ready, data_dir)
        cloud = QemuCloud(json.loads(ready.read_text()), data_dir)
        yield cloud
        cloud.close()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if qemu_host.namespace_exists(NAMESPACE):
            qemu_host.delete_namespace(NAMESPACE)
            pytest.fail(f"run-all left network namespace {NAMESPACE} behind")
        dhcp = f"qdhcp-{json.loads(ready.read_text())['ids']['network']}" if ready.exists() else ""
        if dhcp and qemu_host.namespace_exists(dhcp):
            qemu_host.delete_namespace(dhcp)
            pytest.fail(f"run-all left the DHCP namespace {dhcp} behind")


def _wait_ready(process: subprocess.Popen, ready: Path, data_dir: Path) -> None:
    deadline = time.monotonic() + 600
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            logs = "".join(
                f"\n--- {p.name}\n{p.read_text()[-3000:]}"
                for p in sorted((data_dir / "logs").glob("*.log"))
            )
            pytest.fail(f"run-all HYPERVISOR=qemu did not come up:\n{output[-5000:]}{logs}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def driver(qemu_cloud):
    return Driver(qemu_cloud)


@pytest.fixture(scope="module")
def hypervisor(qemu_cloud):
    conn = libvirt.open(qemu_cloud.libvirt_uri)
    yield conn
    conn.close()


# -- helpers ----------------------------------------------------------------------------


def console(driver: Driver, server_id: str) -> str:
    """The guest's serial console; empty while the host has not made it yet."""
    try:
        return driver.servers.GetConsoleOutput(
            api_pb2.GetConsoleOutputRequest(server_id=server_id), metadata=driver.md
        ).output
    except grpc.RpcError as exc:
        if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
            return ""
        raise


def wait_console(driver: Driver, server_id: str, predicate, timeout: float = BOOT_SECONDS) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = console(driver, server_id)
        if predicate(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"the console of {server_id} never showed it:\n{text}")


def boots(text: str) -> int:
    return text.count(f"{PREFIX} booted")


def guest_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.startswith(PREFIX)]


def volume_with_known_bytes(qemu_cloud: Cloud, driver: Driver) -> volume_pb2.Volume:
    """A volume created from a small raw image whose first line is VOLUME_MARKER."""
    data = VOLUME_MARKER + b"\n" + bytes(1024 * 1024 - len(VOLUME_MARKER) - 1)
    with grpc.insecure_channel(qemu_cloud.addresses["image"]) as channel:
        image_id = seed.upload_image(channel, qemu_cloud.token("admin"), "e2e-volume-bytes", data)
    volume = driver.volumes.CreateVolume(
        volume_pb2.CreateVolumeRequest(
            name=f"vol-{uuid.uuid4().hex[:6]}", size_gib=1, image_id=image_id
        ),
        metadata=driver.md,
    )
    deadline = time.monotonic() + 60
    while volume.status != volume_pb2.Volume.STATUS_AVAILABLE:
        assert time.monotonic() < deadline, volume
        time.sleep(0.1)
        volume = driver.volume(volume.id)
    return volume


def boot(driver: Driver, **fields) -> tuple[api_pb2.Server, str, dict[str, float]]:
    """Create a guest and wait until it is ACTIVE and its /init is done; the server, its
    console and the seconds from CreateServer to ACTIVE, first console line and ready."""
    start = time.monotonic()
    server = driver.create(**fields)
    times: dict[str, float] = {}
    deadline = start + BOOT_SECONDS
    while "ready" not in times and time.monotonic() < deadline:
        if "active" not in times and driver.get(server.id).status == api_pb2.Server.STATUS_ACTIVE:
            times["active"] = time.monotonic() - start
        text = console(driver, server.id)
        if text.strip() and "first_line" not in times:
            times["first_line"] = time.monotonic() - start
        if f"{PREFIX} ready" in text:
            times["ready"] = time.monotonic() - start
        time.sleep(0.05)
    settled = driver.wait(server.id)
    assert settled.status == api_pb2.Server.STATUS_ACTIVE, settled.fault
    assert "ready" in times, f"the guest did not finish booting:\n{console(driver, server.id)}"
    print(
        f"\nguest {server.id}: CreateServer -> ACTIVE {times['active']:.2f}s, "
        f"-> first console line {times['first_line']:.2f}s, -> /init done {times['ready']:.2f}s"
    )
    return settled, console(driver, server.id), times


def dhcp_server(driver: Driver, network_id: str) -> str:
    """The address of the network's DHCP port (the dnsmasq serving it)."""
    ports = driver.network.ListPorts(
        network_pb2.ListPortsRequest(network_id=network_id, page_size=100), metadata=driver.admin
    ).ports
    (dhcp,) = [p for p in ports if p.device_owner == "network:dhcp"]
    return dhcp.fixed_ips[0].ip_address


def address_line(fixed_ip: str, server: str = "", mtu: int | None = None) -> str:
    """The console line of eth0's DHCP lease, or its start (the server and MTU follow)."""
    line = f"{PREFIX} nic eth0 address {fixed_ip}/24 server {server}"
    return line if mtu is None else f"{line} mtu {mtu}"


def namespace_links() -> str:
    result = subprocess.run(
        ["ip", "-n", NAMESPACE, "-br", "link"], capture_output=True, text=True, check=True
    )
    return result.stdout


def domain_state(hypervisor: libvirt.virConnect, server_id: str) -> int:
    return hypervisor.lookupByUUIDString(server_id).state()[0]


# -- tests ------------------------------------------------------------------------------


def test_guest_boots_reads_its_disk_and_volume_and_gets_the_ipam_address(
    qemu_cloud, driver, hypervisor
):
    volume = volume_with_known_bytes(qemu_cloud, driver)
    server, text, _ = boot(driver, volume_ids=[volume.id])
    (port,) = driver.ports_of(server.id)
    fixed_ip = port.fixed_ips[0].ip_address
    lines = guest_lines(text)
    assert lines[0].startswith(f"{PREFIX} booted, kernel ")
    assert f"{PREFIX} disk vda {guest_image.DISK_MARKER.decode()}" in lines
    assert f"{PREFIX} disk vdb {VOLUME_MARKER.decode()}" in lines
    assert f"{PREFIX} nic eth0 {port.mac_address}" in lines
    # The NIC's MTU is the network's (what its VXLAN segment carries).
    mtu = driver.network.GetNetwork(
        network_pb2.GetNetworkRequest(network_id=port.network_id), metadata=driver.admin
    ).mtu
    assert mtu == 1450
    assert address_line(fixed_ip, dhcp_server(driver, port.network_id), mtu) in lines
    assert server.addresses[0].ip_address == fixed_ip

    domain = hypervisor.lookupByUUIDString(server.id)
    assert domain.state()[0] == RUNNING
    xml = domain.XMLDesc(0)
    assert "<kernel>" in xml and "<acpi/>" in xml
    tap = f"tap{port.id[:11]}"
    assert tap in namespace_links()
    instance_dir = Path(qemu_cloud.data_dir, "compute", "compute-1", "instances", server.id)
    assert (instance_dir / "disk").exists()

    driver.delete(server.id, timeout=60)
    assert server.id not in [d.UUIDString() for d in hypervisor.listAllDomains()]
    assert not instance_dir.exists(), "the overlay and instance directory are gone"
    assert tap not in namespace_links()
    assert driver.ports_of(server.id) == []
    assert driver.volume(volume.id).status == volume_pb2.Volume.STATUS_AVAILABLE


def test_next_guest_gets_a_released_address_by_dhcp(driver, hypervisor):
    first, _, _ = boot(driver)
    address = first.addresses[0].ip_address
    driver.delete(first.id, timeout=60)
    second, text, _ = boot(driver)
    # IPAM hands out the lowest free address: the one the first guest gave back,
    # which dnsmasq gives the new MAC only because the old lease was released.
    assert second.addresses[0].ip_address == address
    assert any(line.startswith(address_line(address)) for line in guest_lines(text))
    driver.delete(second.id, timeout=60)


def test_stop_start_and_reboot_change_the_guests_real_power_state(driver, hypervisor):
    server, text, _ = boot(driver)
    assert boots(text) == 1

    driver.servers.StopServer(api_pb2.StopServerRequest(server_id=server.id), metadata=driver.md)
    assert driver.wait(server.id).status == api_pb2.Server.STATUS_SHUTOFF
    assert domain_state(hypervisor, server.id) == SHUTOFF
    assert f"{PREFIX} power button pressed" in console(driver, server.id)

    driver.servers.StartServer(api_pb2.StartServerRequest(server_id=server.id), metadata=driver.md)
    assert driver.wait(server.id).status == api_pb2.Server.STATUS_ACTIVE
    assert domain_state(hypervisor, server.id) == RUNNING
    wait_console(driver, server.id, lambda t: t.count(f"{PREFIX} ready") == 2)

    for kind, presses in (
        (api_pb2.RebootServerRequest.REBOOT_TYPE_SOFT, 2),
        (api_pb2.RebootServerRequest.REBOOT_TYPE_HARD, 2),
    ):
        before = boots(console(driver, server.id))
        driver.servers.RebootServer(
            api_pb2.RebootServerRequest(server_id=server.id, reboot_type=kind), metadata=driver.md
        )
        assert driver.wait(server.id).status == api_pb2.Server.STATUS_ACTIVE
        text = wait_console(driver, server.id, lambda t, n=before: boots(t) == n + 1)
        assert text.count(f"{PREFIX} power button pressed") == presses
        assert domain_state(hypervisor, server.id) == RUNNING
        wait_console(driver, server.id, lambda t, n=before: t.count(f"{PREFIX} ready") == n + 1)
    driver.delete(server.id, timeout=60)


def test_stratus_server_ssh_reaches_the_guest_with_its_key_and_runs_its_user_data(
    qemu_cloud, driver, tmp_path
):
    """The operator's path: key pair, boot with user data, ``stratus server ssh``.

    The CLI runs here, where run-all keeps the network's DHCP namespace: it
    reaches the guest through qdhcp-<network id>, as Neutron operators do.
    """
    keypairs = api_grpc.KeypairsStub(qemu_cloud.channel("api"))
    key_name = f"e2e-ssh-{uuid.uuid4().hex[:6]}"
    created = keypairs.CreateKeypair(
        api_pb2.CreateKeypairRequest(name=key_name), metadata=driver.md, timeout=30
    )
    key = tmp_path / "id_guest"
    key.write_text(created.private_key)
    key.chmod(0o600)
    name = f"E2E_Ssh.{uuid.uuid4().hex[:6]}"
    start = time.monotonic()
    server = driver.create(
        name,
        key_name=key_name,
        user_data=b"#!/bin/sh\necho stratus-marker > /marker\n",
    )
    try:
        text = wait_console(
            driver,
            server.id,
            lambda t: (
                f"{PREFIX} ssh ready" in t
                or f"{PREFIX} ssh failed" in t
                or f"{PREFIX} no config drive" in t
            ),
        )
        assert f"{PREFIX} ssh ready" in text, text
        print(f"\nguest {server.id}: CreateServer -> ssh ready {time.monotonic() - start:.2f}s")
        assert driver.wait(server.id).status == api_pb2.Server.STATUS_ACTIVE

        stratus = Stratus(qemu_cloud, tmp_path)
        command = [
            "server",
            "ssh",
            "--identity",
            str(key),
            server.id,
            "--",
            "hostname; cat /marker",
        ]
        result = stratus.run(*command, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [sanitize_hostname(name, server.id), "stratus-marker"]
        assert (tmp_path / "cache" / "stratus" / "known_hosts").read_text().strip()

        wrong = tmp_path / "id_wrong"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True
        )
        result = stratus.run(
            "server", "ssh", "--identity", str(wrong), name, "--", "cat /marker", timeout=60
        )
        assert result.returncode != 0
        assert "Permission denied" in result.stderr, result.stderr
        assert "stratus-marker" not in result.stdout
    finally:
        driver.delete(server.id, timeout=60)
        keypairs.DeleteKeypair(
            api_pb2.DeleteKeypairRequest(name=key_name), metadata=driver.md, timeout=30
        )
