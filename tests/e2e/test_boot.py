"""The boot flow across real processes, as `make run-all` starts them (DESIGN.md steps 1-19)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import grpc
import pytest

from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from tests.e2e.boot import Driver, claims_of, compute_db, host_usage

pytestmark = pytest.mark.e2e
GRPCURL = shutil.which("grpcurl") or str(Path(".venv/bin/grpcurl").resolve())


@pytest.fixture
def driver(cloud):
    return Driver(cloud)


def grpcurl(address: str, method: str, body: dict, token: str | None = None) -> dict:
    headers = ["-H", f"x-auth-token: {token}"] if token else []
    result = subprocess.run(
        [GRPCURL, "-plaintext", *headers, "-d", json.dumps(body), address, method],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "{}")


def assert_nothing_left(driver: Driver, server_id: str, host: str, overlay: Path | None):
    assert driver.domain_of(server_id) is None
    assert driver.ports_of(server_id) == []
    assert claims_of(driver.cloud, server_id) == 0
    if overlay is not None:
        assert not overlay.exists()


def test_boot_with_grpcurl_builds_a_real_domain_and_delete_releases_everything(cloud, driver):
    identity, api = cloud.addresses["identity"], cloud.addresses["api"]
    token = grpcurl(
        identity,
        "stratus.identity.v1.Identity/IssueToken",
        {"username": "demo", "password": cloud.passwords["demo"], "project_name": "demo"},
    )["token"]
    volume = driver.new_volume()
    server = grpcurl(
        api,
        "stratus.api.v1.Servers/CreateServer",
        {
            "name": "vm-grpcurl",
            "flavor_id": cloud.ids["flavor"],
            "image_id": cloud.ids["image"],
            "network_ids": [cloud.ids["network"]],
            "volume_ids": [volume.id],
        },
        token,
    )
    assert server["status"] == "STATUS_BUILD"
    settled = driver.wait(server["id"])
    assert settled.status == api_pb2.Server.STATUS_ACTIVE, settled.fault
    host = driver.get(server["id"], admin=True).host

    domain = driver.domain_of(server["id"])
    assert domain is not None and domain.state == domain.STATE_RUNNING
    root, attached = domain.disks
    overlay = Path(root.source)
    assert root.format == "qcow2" and overlay.exists()
    info = json.loads(
        subprocess.run(
            ["qemu-img", "info", "--output=json", "-U", str(overlay)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert info.get("backing-filename"), "the root disk is a copy-on-write overlay"
    (port,) = driver.ports_of(server["id"])
    assert [i.mac_address for i in domain.interfaces] == [port.mac_address]
    assert port.status == network_pb2.Port.STATUS_ACTIVE and port.binding_host_id == host
    assert settled.addresses[0].ip_address == port.fixed_ips[0].ip_address
    in_use = driver.volume(volume.id)
    assert in_use.status == volume_pb2.Volume.STATUS_IN_USE
    assert attached.target == "vdb" and in_use.attachments[0].instance_id == server["id"]
    assert claims_of(cloud, server["id"]) == 1

    grpcurl(api, "stratus.api.v1.Servers/DeleteServer", {"server_id": server["id"]}, token)
    driver.delete(server["id"])
    assert_nothing_left(driver, server["id"], host, overlay)
    assert driver.volume(volume.id).status == volume_pb2.Volume.STATUS_AVAILABLE


def test_watch_server_streams_until_active(driver):
    server = driver.create()
    events = list(
        driver.servers.WatchServer(
            api_pb2.WatchServerRequest(server_id=server.id), metadata=driver.md, timeout=60
        )
    )
    assert events[-1].server.status == api_pb2.Server.STATUS_ACTIVE
    driver.delete(server.id)


def test_flavor_too_big_is_error_no_valid_host_and_leaves_nothing(driver):
    huge = driver.flavors.CreateFlavor(
        api_pb2.CreateFlavorRequest(name="e2e.huge", vcpus=4, ram_mib=8 * 1024 * 1024, disk_gib=1),
        metadata=driver.admin,
    )
    driver.unlimited_quota()
    server = driver.create(flavor_id=huge.id)
    settled = driver.wait(server.id)
    assert settled.status == api_pb2.Server.STATUS_ERROR
    assert "No valid host" in settled.fault.message
    assert_nothing_left(driver, server.id, "", None)
    driver.delete(server.id)


def test_volume_in_use_is_refused_before_anything_is_made(driver):
    volume = driver.new_volume()
    first = driver.create(volume_ids=[volume.id])
    assert driver.wait(first.id).status == api_pb2.Server.STATUS_ACTIVE
    with pytest.raises(grpc.RpcError) as info:
        driver.create(volume_ids=[volume.id])
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    driver.delete(first.id)


def test_exhausted_network_puts_the_server_in_error_and_releases_the_rest(driver):
    net = driver.network.CreateNetwork(
        network_pb2.CreateNetworkRequest(name="tiny"), metadata=driver.md
    )
    driver.network.CreateSubnet(
        network_pb2.CreateSubnetRequest(network_id=net.id, cidr="10.9.0.0/30", ip_version=4),
        metadata=driver.md,
    )
    filler = driver.network.CreatePort(
        network_pb2.CreatePortRequest(network_id=net.id), metadata=driver.md
    )
    volume = driver.new_volume()
    server = driver.create(network_ids=[net.id], volume_ids=[volume.id])
    settled = driver.wait(server.id)
    assert settled.status == api_pb2.Server.STATUS_ERROR
    assert_nothing_left(driver, server.id, "", None)
    assert driver.volume(volume.id).status == volume_pb2.Volume.STATUS_AVAILABLE
    driver.delete(server.id)
    driver.network.DeletePort(network_pb2.DeletePortRequest(port_id=filler.id), metadata=driver.md)


def test_image_deleted_right_after_create_ends_settled_with_nothing_leaked(cloud, driver):
    from stratus.image.v1 import image_service_pb2 as image_pb2
    from stratus.image.v1 import image_service_pb2_grpc as image_grpc

    images = image_grpc.ImagesStub(cloud.channel("image"))
    image = images.CreateImage(
        image_pb2.CreateImageRequest(
            name="short-lived",
            disk_format=image_pb2.Image.DISK_FORMAT_RAW,
            container_format=image_pb2.Image.CONTAINER_FORMAT_BARE,
        ),
        metadata=driver.md,
    )
    data = b"short-lived image\n" + bytes(4 * 1024 * 1024)
    chunks = [image_pb2.UploadImageRequest(header=image_pb2.UploadImageHeader(image_id=image.id))]
    chunks += [
        image_pb2.UploadImageRequest(chunk=data[i : i + 1024 * 1024])
        for i in range(0, len(data), 1024 * 1024)
    ]
    images.UploadImage(iter(chunks), metadata=driver.md)
    server = driver.create(image_id=image.id)
    images.DeleteImage(image_pb2.DeleteImageRequest(image_id=image.id), metadata=driver.md)
    settled = driver.wait(server.id)
    assert settled.status in (api_pb2.Server.STATUS_ACTIVE, api_pb2.Server.STATUS_ERROR)
    if settled.status == api_pb2.Server.STATUS_ERROR:
        assert_nothing_left(driver, server.id, "", None)
    driver.delete(server.id)
    assert_nothing_left(driver, server.id, "", None)


def test_a_host_whose_builds_fail_reschedules_to_another(cloud, driver):
    """Two of three hosts cannot create instance directories: every build ends on the third."""
    broken = ["compute-1", "compute-2"]
    dirs = [Path(cloud.data_dir) / "compute" / host / "instances" for host in broken]
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not a directory")
    try:
        driver.unlimited_quota()
        servers = [driver.create() for _ in range(4)]
        hosts = set()
        for server in servers:
            settled = driver.wait(server.id)
            assert settled.status == api_pb2.Server.STATUS_ACTIVE, settled.fault
            hosts.add(driver.get(server.id, admin=True).host)
        assert hosts == {"compute-3"}
        ids = [s.id for s in servers]
        with compute_db(cloud) as db:
            marks = ",".join("?" * len(ids))
            retried = db.execute(
                f"SELECT COUNT(*) FROM instance WHERE attempt > 1 AND id IN ({marks})", ids
            ).fetchone()[0]
        assert retried >= 1, "at least one build was first placed on a broken host"
        for server in servers:
            driver.delete(server.id)
    finally:
        for path in dirs:
            path.unlink()
            path.mkdir(mode=0o700)  # as the host made it (components run with umask 077)


def test_a_compute_host_killed_mid_build_never_leaves_a_server_building(cloud, driver):
    """run-all restarts the host; its reconcile settles what it was building."""
    driver.unlimited_quota()
    servers = [driver.create() for _ in range(6)]
    victim = None
    for server in servers:
        host = driver.get(server.id, admin=True).host
        if host:
            victim = host
            break
    assert victim is not None
    _kill(cloud, victim)
    for server in servers:
        settled = driver.wait(server.id, timeout=120)
        assert settled.status in (
            api_pb2.Server.STATUS_ACTIVE,
            api_pb2.Server.STATUS_ERROR,
            api_pb2.Server.STATUS_SHUTOFF,
        )
    for server in servers:
        driver.delete(server.id, timeout=120)
        assert claims_of(cloud, server.id) == 0


def _kill(cloud, host: str) -> None:
    """SIGKILL this cloud's process for ``host`` (not another cloud's on the machine)."""
    result = subprocess.run(["pgrep", "-f", "components.compute"], capture_output=True, text=True)
    for pid in result.stdout.split():
        environ = Path(f"/proc/{pid}/environ")
        try:
            entries = environ.read_bytes().split(b"\0")
            if (
                f"STRATUS_COMPUTE_HOST_NAME={host}".encode() in entries
                and f"STRATUS_DATA_DIR={cloud.data_dir}".encode() in entries
            ):
                os.kill(int(pid), signal.SIGKILL)
                return
        except OSError:
            continue
    raise AssertionError(f"no process for {host}")


def test_one_hundred_concurrent_boots_never_overcommit_a_host(cloud, driver):
    driver.unlimited_quota()
    ids: list[str] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def boot(i: int) -> None:
        try:
            server = Driver(cloud).create(name=f"crowd-{i}")
            with lock:
                ids.append(server.id)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=boot, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    statuses = [driver.wait(server_id, timeout=180).status for server_id in ids]
    assert set(statuses) <= {api_pb2.Server.STATUS_ACTIVE, api_pb2.Server.STATUS_ERROR}
    active = statuses.count(api_pb2.Server.STATUS_ACTIVE)
    usage = host_usage(cloud)
    for host, (_vcpus, ram, _disk, capacity) in usage.items():
        assert ram <= capacity * 1.5, host
    assert sum(ram for _v, ram, _d, _c in usage.values()) == active * 512
    for server_id in ids:
        driver.servers.DeleteServer(
            api_pb2.DeleteServerRequest(server_id=server_id), metadata=driver.md
        )
    for server_id in ids:
        driver.delete(server_id, timeout=120)
    assert all(ram == 0 for _v, ram, _d, _c in host_usage(cloud).values())
