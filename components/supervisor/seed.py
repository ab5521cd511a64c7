"""What run-all puts in a new cloud: flavors, a demo image, a private network.

Everything here goes through the public contracts with real tokens, exactly as
a user would, and is idempotent (a second ``make run-all`` finds it all there).
"""

from __future__ import annotations

import hashlib
import logging

import grpc

from components.framework.identity_client import secret_path
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc

log = logging.getLogger(__name__)

FLAVORS = (("m1.tiny", 1, 512, 1), ("m1.small", 1, 2048, 20), ("m1.medium", 2, 4096, 40))
DEMO_IMAGE = "demo"
DEMO_NETWORK = "private"
DEMO_CIDR = "10.0.0.0/24"
CHUNK = 1024 * 1024


def demo_image_bytes() -> bytes:
    """A 1 MiB raw disk whose first sector says what it is."""
    marker = b"STRATUS DEMO DISK\n"
    return marker + bytes(CHUNK - len(marker))


def password(data_dir, user: str) -> str:
    return secret_path(data_dir, user).read_text().strip()


def token(identity_address: str, user: str, secret: str, project: str) -> str:
    with grpc.insecure_channel(identity_address) as channel:
        reply = identity_grpc.IdentityStub(channel).IssueToken(
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
    stub = image_grpc.ImagesStub(channel)
    md = (("x-auth-token", admin),)
    found = stub.ListImages(image_pb2.ListImagesRequest(name=DEMO_IMAGE), metadata=md).images
    active = [i for i in found if i.status == image_pb2.Image.STATUS_ACTIVE]
    if active:
        return active[0].id
    for stale in found:
        stub.DeleteImage(image_pb2.DeleteImageRequest(image_id=stale.id), metadata=md)
    created = stub.CreateImage(
        image_pb2.CreateImageRequest(
            name=DEMO_IMAGE,
            disk_format=image_pb2.Image.DISK_FORMAT_RAW,
            container_format=image_pb2.Image.CONTAINER_FORMAT_BARE,
            visibility=image_pb2.Image.VISIBILITY_PUBLIC,
        ),
        metadata=md,
    )
    data = demo_image_bytes()
    header = image_pb2.UploadImageHeader(
        image_id=created.id, checksum=hashlib.md5(data).hexdigest()
    )
    chunks = [image_pb2.UploadImageRequest(header=header)] + [
        image_pb2.UploadImageRequest(chunk=data[i : i + CHUNK]) for i in range(0, len(data), CHUNK)
    ]
    stub.UploadImage(iter(chunks), metadata=md)
    return created.id


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
