"""What run-all puts in a new cloud: flavors, a demo image, a private network
(and, for real guests, the demo guest's kernel, ramdisk and disk images).

Everything here goes through the public contracts with real tokens, exactly as
a user would, and is idempotent (a second ``make run-all`` finds it all there).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import grpc

from components.framework import secret_path
from components.supervisor.guest_image import COMMAND_LINE, Guest
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as scheduler_grpc

log = logging.getLogger(__name__)

FLAVORS = (("m1.tiny", 1, 512, 1), ("m1.small", 1, 2048, 20), ("m1.medium", 2, 4096, 40))
DEMO_IMAGE = "demo"
# The demo guest real hypervisors boot (make guest-image, HYPERVISOR=qemu).
GUEST_IMAGE = "guest"
DEMO_NETWORK = "private"
DEMO_CIDR = "10.0.0.0/24"
CHUNK = 1024 * 1024


def demo_image_bytes() -> bytes:
    """A 1 MiB raw disk whose first sector says what it is."""
    marker = b"STRATUS DEMO DISK\n"
    return marker + bytes(CHUNK - len(marker))


def password(data_dir, user: str) -> str:
    return secret_path(data_dir, user).read_text().strip()


def token(identity: grpc.Channel, user: str, secret: str, project: str) -> str:
    reply = identity_grpc.IdentityStub(identity).IssueToken(
        identity_pb2.IssueTokenRequest(username=user, password=secret, project_name=project),
        timeout=30,
    )
    return reply.token


def flavors(api: grpc.Channel, admin: str) -> None:
    stub = api_grpc.FlavorsStub(api)
    md = (("x-auth-token", admin),)
    existing = {
        f.name
        for f in stub.ListFlavors(api_pb2.ListFlavorsRequest(page_size=1000), metadata=md).flavors
    }
    for name, vcpus, ram, disk in FLAVORS:
        if name not in existing:
            stub.CreateFlavor(
                api_pb2.CreateFlavorRequest(name=name, vcpus=vcpus, ram_mib=ram, disk_gib=disk),
                metadata=md,
            )


def image(channel: grpc.Channel, admin: str) -> str:
    return upload_image(channel, admin, DEMO_IMAGE, demo_image_bytes())


def upload_image(
    channel: grpc.Channel,
    admin: str,
    name: str,
    data: bytes | Path,
    properties: dict[str, str] | None = None,
) -> str:
    """A public raw image named ``name`` holding ``data`` (bytes or a file) with
    ``properties``: the one already there if it matches, else a new one."""
    stub = image_grpc.ImagesStub(channel)
    md = (("x-auth-token", admin),)
    checksum = _md5(data)
    properties = properties or {}
    found = stub.ListImages(image_pb2.ListImagesRequest(name=name), metadata=md).images
    for existing in found:
        same = existing.checksum == checksum and dict(existing.properties) == properties
        if existing.status == image_pb2.Image.STATUS_ACTIVE and same:
            return existing.id
    for stale in found:
        stub.DeleteImage(image_pb2.DeleteImageRequest(image_id=stale.id), metadata=md)
    created = stub.CreateImage(
        image_pb2.CreateImageRequest(
            name=name,
            disk_format=image_pb2.Image.DISK_FORMAT_RAW,
            container_format=image_pb2.Image.CONTAINER_FORMAT_BARE,
            visibility=image_pb2.Image.VISIBILITY_PUBLIC,
            properties=properties,
        ),
        metadata=md,
    )
    header = image_pb2.UploadImageHeader(image_id=created.id, checksum=checksum)
    requests = itertools.chain(
        [image_pb2.UploadImageRequest(header=header)],
        (image_pb2.UploadImageRequest(chunk=chunk) for chunk in _chunks(data)),
    )
    stub.UploadImage(requests, metadata=md, timeout=600)
    return created.id


def guest_images(channel: grpc.Channel, admin: str, guest: Guest) -> dict[str, str]:
    """The demo guest as Glance holds kernel/ramdisk images: a kernel image, a ramdisk
    image, and the disk image whose kernel_id and ramdisk_id name them."""
    kernel = upload_image(channel, admin, f"{GUEST_IMAGE}-kernel", guest.kernel)
    ramdisk = upload_image(channel, admin, f"{GUEST_IMAGE}-ramdisk", guest.ramdisk)
    properties = {
        "kernel_id": kernel,
        "ramdisk_id": ramdisk,
        "os_command_line": COMMAND_LINE,
        "architecture": "x86_64",
        "hypervisor_type": "qemu",
    }
    disk = upload_image(channel, admin, GUEST_IMAGE, guest.disk, properties)
    return {"guest_kernel": kernel, "guest_ramdisk": ramdisk, "guest": disk}


def _chunks(data: bytes | Path) -> Iterator[bytes]:
    if isinstance(data, bytes):
        yield from (data[i : i + CHUNK] for i in range(0, len(data), CHUNK))
        return
    with open(data, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _md5(data: bytes | Path) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    for chunk in _chunks(data):
        md5.update(chunk)
    return md5.hexdigest()


def wait_for_hosts(channel: grpc.Channel, admin: str, names: list[str], timeout: float) -> None:
    """Until the scheduler knows every compute host (each registers on its first report),
    so that the first server created after the banner finds them."""
    stub = scheduler_grpc.SchedulerStub(channel)
    md = (("x-auth-token", admin),)
    deadline = time.monotonic() + timeout
    while True:
        hosts = stub.ListHosts(scheduler_pb2.ListHostsRequest(page_size=1000), metadata=md).hosts
        missing = set(names) - {h.name for h in hosts}
        if not missing:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"compute hosts {sorted(missing)} never reported to the conductor")
        time.sleep(0.2)


def network(channel: grpc.Channel, demo: str) -> str:
    stub = network_grpc.NetworkStub(channel)
    md = (("x-auth-token", demo),)
    found = stub.ListNetworks(
        network_pb2.ListNetworksRequest(name=DEMO_NETWORK), metadata=md
    ).networks
    if found:
        return found[0].id
    net = stub.CreateNetwork(network_pb2.CreateNetworkRequest(name=DEMO_NETWORK), metadata=md)
    stub.CreateSubnet(
        network_pb2.CreateSubnetRequest(
            network_id=net.id,
            name=f"{DEMO_NETWORK}-subnet",
            cidr=DEMO_CIDR,
            ip_version=4,
            dns_nameservers=["10.0.0.1"],
        ),
        metadata=md,
    )
    return net.id
