"""What CreateServer checks with the services that own the image, networks and volumes.

Each check runs with the caller's token (forwarded by the framework's
clients), so "visible to the caller" is the owning service's own rule.
"""

from __future__ import annotations

from components.compute_db.models import ComputeNode, Flavor
from components.framework import Clients, FailedPrecondition, InvalidArgument, NotFound, call, quote
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc


def image(clients: Clients, image_id: str, flavor: Flavor) -> dict[str, str]:
    """The image's properties, if it is active, visible and fits the flavor."""
    stub = clients.stub(image_grpc.ImagesStub, "image")
    try:
        found = call(stub.GetImage, image_pb2.GetImageRequest(image_id=image_id))
    except (NotFound, InvalidArgument):
        raise InvalidArgument(
            f"no image with id {quote(image_id)}", reason="IMAGE_NOT_FOUND", field="image_id"
        ) from None
    if found.status != image_pb2.Image.STATUS_ACTIVE:
        raise InvalidArgument(
            f"image {quote(image_id)} is not active", reason="IMAGE_UNUSABLE", field="image_id"
        )
    if found.min_ram_mib > flavor.ram_mib or found.min_disk_gib > flavor.disk_gib:
        raise InvalidArgument(
            f"flavor {quote(flavor.name)} is too small for image {quote(found.name)} (needs "
            f"{found.min_ram_mib} MiB RAM, {found.min_disk_gib} GiB disk)",
            reason="IMAGE_UNUSABLE",
            field="flavor_id",
        )
    return dict(found.properties)


def networks(clients: Clients, network_ids: list[str]) -> list[dict]:
    """One NIC per requested network, in order, if each exists and the caller may use it.

    A network named twice gets two NICs (two ports on it), as in Nova; it is
    looked up once.
    """
    stub = clients.stub(network_grpc.NetworkStub, "network")
    for network_id in dict.fromkeys(network_ids):
        try:
            call(stub.GetNetwork, network_pb2.GetNetworkRequest(network_id=network_id))
        except (NotFound, InvalidArgument):
            raise InvalidArgument(
                f"no network with id {quote(network_id)}",
                reason="NETWORK_NOT_FOUND",
                field="network_ids",
            ) from None
    return [{"network_id": network_id, "port_id": ""} for network_id in network_ids]


def ports(clients: Clients, port_ids: list[str]) -> list[dict]:
    """One NIC per requested port, in order, if each exists, is visible and is unbound."""
    stub = clients.stub(network_grpc.NetworkStub, "network")
    requested = []
    for port_id in port_ids:
        try:
            port = call(stub.GetPort, network_pb2.GetPortRequest(port_id=port_id))
        except (NotFound, InvalidArgument):
            raise InvalidArgument(
                f"no port with id {quote(port_id)}", reason="PORT_NOT_FOUND", field="port_ids"
            ) from None
        if port.device_id:
            raise FailedPrecondition(
                f"port {quote(port_id)} is in use by device {quote(port.device_id)}",
                reason="PORT_IN_USE",
                port_id=port_id,
            )
        requested.append({"network_id": port.network_id, "port_id": port.id})
    return requested


def volumes(clients: Clients, volume_ids: list[str]) -> None:
    """Each requested volume exists, is visible and is available to attach."""
    stub = clients.stub(volume_grpc.VolumesStub, "volume")
    for volume_id in volume_ids:
        try:
            vol = call(stub.GetVolume, volume_pb2.GetVolumeRequest(volume_id=volume_id))
        except (NotFound, InvalidArgument):
            raise InvalidArgument(
                f"no volume with id {quote(volume_id)}",
                reason="VOLUME_NOT_FOUND",
                field="volume_ids",
            ) from None
        if vol.status != volume_pb2.Volume.STATUS_AVAILABLE:
            state = volume_pb2.Volume.Status.Name(vol.status).removeprefix("STATUS_").lower()
            raise FailedPrecondition(
                f"volume {quote(volume_id)} is {state}, not available",
                reason="VOLUME_UNAVAILABLE",
                volume_id=volume_id,
            )


def parse_availability_zone(value: str) -> tuple[str, str]:
    """``(zone, host)`` from CreateServer's availability_zone, as Nova parses it.

    ``ZONE`` asks for a zone; ``ZONE:HOST``, ``ZONE::NODE`` and ``ZONE:HOST:NODE``
    (Nova's forced host, for admins) also name the host. A Stratus host is its own
    node, so NODE names the host too and, with HOST, must equal it. An empty ZONE
    is Nova's default_schedule_zone, which by default (and in Stratus) is any zone.
    """
    parts = value.split(":")
    if len(parts) == 1:
        return value, ""
    if len(parts) == 2:
        zone, host = parts
    elif len(parts) == 3 and (not parts[1] or parts[1] == parts[2]):
        zone, host = parts[0], parts[2]
    else:
        raise InvalidArgument(
            f"unable to parse availability_zone {quote(value)} (ZONE, ZONE:HOST or ZONE::NODE)",
            field="availability_zone",
        )
    if not host:
        raise InvalidArgument(
            f"availability_zone {quote(value)} names no host", field="availability_zone"
        )
    return zone, host


def availability_zone(zone: str, host: str = "") -> None:
    """Some compute host is in ``zone``; a requested ``host`` exists and is in it."""
    if host:
        node = ComputeNode.get_or_none(ComputeNode.host == host)
        if node is None:
            raise InvalidArgument(f"no compute host named {quote(host)}", field="availability_zone")
        if zone and node.availability_zone != zone:
            raise InvalidArgument(
                f"compute host {quote(host)} is not in availability zone {quote(zone)}",
                field="availability_zone",
            )
        return
    if zone and not ComputeNode.select().where(ComputeNode.availability_zone == zone).exists():
        raise InvalidArgument(
            f"no compute host is in availability zone {quote(zone)}", field="availability_zone"
        )
