"""The Volumes gRPC service: requests in, one domain call, protos out."""

from __future__ import annotations

import re
from pathlib import Path

from components.framework import ImageClient, InvalidArgument, caller, quote, timestamp, validation
from components.volume import attachments, nbd, quotas
from components.volume.backend import ConnectionInfo, FileBackend
from components.volume.exports import EXPORTS_DIR, TRANSPORTS, Exports, run_dir_of
from components.volume.states import Status
from components.volume.store import VolumeInfo
from components.volume.volumes import NewVolume, Volumes
from stratus.image.v1 import image_service_pb2_grpc as image_pb2_grpc
from stratus.volume.v1 import volume_service_pb2 as pb2
from stratus.volume.v1 import volume_service_pb2_grpc as pb2_grpc

DEVICE = re.compile(r"^/dev/[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
QUOTA_FIELDS = {"volumes_limit", "size_gib_limit"}
# Addresses to listen on that name no address to connect to.
WILDCARDS = ("0.0.0.0", "::", "[::]")


def build_volumes(runtime) -> Volumes:
    """The domain object for a running component: its backend, quotas and image client."""
    config = runtime.config
    backend = FileBackend(Path(config.data_dir) / "volume")
    return Volumes(
        backend=backend,
        exports=build_exports(config, backend),
        defaults=quotas.Defaults(config.default_volumes_limit, config.default_size_gib_limit),
        images=ImageClient(
            lambda: runtime.clients.stub(image_pb2_grpc.ImagesStub, "image"),
            download_timeout=config.image_download_timeout_seconds,
        ),
        copy_workers=config.image_copy_workers,
    )


def build_exports(config, backend: FileBackend) -> Exports:
    """How attached volumes are served, from the configuration (config.py)."""
    if config.volume_transport not in TRANSPORTS:
        raise InvalidArgument(
            f"volume_transport {quote(config.volume_transport)} is not one of {TRANSPORTS}",
            field="volume_transport",
        )
    if not 0 < config.nbd_port_min <= config.nbd_port_max < 65536:
        raise InvalidArgument(
            f"nbd_port_min..nbd_port_max ({config.nbd_port_min}..{config.nbd_port_max}) "
            "is not a range of ports",
            field="nbd_port_min",
        )
    host = config.nbd_host or config.host
    if config.volume_transport == "nbd" and host in WILDCARDS:
        raise InvalidArgument(
            f"exports would listen on {host}, which compute hosts cannot connect to: "
            "set nbd_host to this machine's address",
            field="nbd_host",
        )
    state = Path(config.data_dir) / EXPORTS_DIR
    tls_dir = None
    if config.tls_ca_file and config.tls_cert_file and config.tls_key_file:
        tls_dir = nbd.make_tls_dir(
            state / "tls",
            Path(config.tls_ca_file),
            Path(config.tls_cert_file),
            Path(config.tls_key_file),
            "server",
        )
    return Exports(
        backend,
        config.volume_transport,
        host,
        range(config.nbd_port_min, config.nbd_port_max + 1),
        tls_dir,
        run_dir_of(config.data_dir),
    )


class VolumesServicer(pb2_grpc.VolumesServicer):
    """Volumes, file backed, with Cinder's status machine and per-project quotas.

    CreateVolume writes a blank volume inside the call: creating a sparse file
    is one truncate, so the reply already shows it AVAILABLE (or ERROR). A
    volume from an image is copied in a background thread instead (download
    through the image service with the caller's token, qcow2 converted to raw):
    images can be far larger than a call deadline allows. The reply shows it
    CREATING; it becomes AVAILABLE, or ERROR with no file left behind.
    ExtendVolume, DeleteVolume, AttachVolume and DetachVolume act inside the
    call too (each is one file operation, or the start or stop of one NBD
    export daemon), so their replies show the outcome.
    """

    def __init__(self, volumes: Volumes) -> None:
        self.volumes = volumes

    def CreateVolume(self, request, context):
        spec = NewVolume(
            name=validation.name("name", request.name, required=False),
            description=_description(request.description),
            size_gib=validation.positive("size_gib", request.size_gib),
            image_id=validation.uuid_str("image_id", request.image_id, required=False),
            request_id=request.request_id,
        )
        return volume_pb(self.volumes.create(caller(), spec))

    def GetVolume(self, request, context):
        volume_id = validation.uuid_str("volume_id", request.volume_id)
        return volume_pb(self.volumes.get(caller(), volume_id))

    def ListVolumes(self, request, context):
        status = None
        if request.status != pb2.Volume.STATUS_UNSPECIFIED:
            status = status_of(request.status)
        found, token = self.volumes.list(caller(), status, request.page_size, request.page_token)
        return pb2.ListVolumesResponse(volumes=[volume_pb(v) for v in found], next_page_token=token)

    def DeleteVolume(self, request, context):
        volume_id = validation.uuid_str("volume_id", request.volume_id)
        self.volumes.delete(caller(), volume_id)
        return pb2.DeleteVolumeResponse()

    def ExtendVolume(self, request, context):
        volume_id = validation.uuid_str("volume_id", request.volume_id)
        new_size = validation.positive("new_size_gib", request.new_size_gib)
        found = self.volumes.extend(caller(), volume_id, new_size)
        return pb2.ExtendVolumeResponse(volume=volume_pb(found))

    def ReserveVolume(self, request, context):
        volume_id = validation.uuid_str("volume_id", request.volume_id)
        instance_id = validation.uuid_str("instance_id", request.instance_id)
        found = attachments.reserve(caller(), volume_id, instance_id)
        return pb2.ReserveVolumeResponse(volume=volume_pb(found))

    def UnreserveVolume(self, request, context):
        volume_id = validation.uuid_str("volume_id", request.volume_id)
        instance_id = validation.uuid_str("instance_id", request.instance_id, required=False)
        found = attachments.unreserve(caller(), volume_id, instance_id)
        return pb2.UnreserveVolumeResponse(volume=volume_pb(found))

    def AttachVolume(self, request, context):
        volume_id = validation.uuid_str("volume_id", request.volume_id)
        instance_id = validation.uuid_str("instance_id", request.instance_id)
        host = validation.name("host", request.host)
        if request.device and not DEVICE.match(request.device):
            raise InvalidArgument(
                f"device {quote(request.device)} is not an absolute device path such as /dev/vdb",
                field="device",
            )
        done = attachments.attach(
            caller(), self.volumes.exports, volume_id, instance_id, host, request.device
        )
        return pb2.AttachVolumeResponse(
            attachment_id=done.attachment.id,
            connection_info=connection_pb(done.connection),
            volume=volume_pb(done.volume),
        )

    def DetachVolume(self, request, context):
        volume_id = validation.uuid_str("volume_id", request.volume_id)
        which = request.WhichOneof("attachment")
        if which is None:
            raise InvalidArgument("instance_id or attachment_id is required", field="attachment")
        named = validation.uuid_str(which, getattr(request, which))
        found = attachments.detach(
            caller(),
            self.volumes.exports,
            volume_id,
            named if which == "instance_id" else "",
            named if which == "attachment_id" else "",
        )
        return pb2.DetachVolumeResponse(volume=volume_pb(found))

    def GetQuota(self, request, context):
        project_id = validation.uuid_str("project_id", request.project_id, required=False)
        return quota_pb(self.volumes.get_quota(caller(), project_id))

    def UpdateQuota(self, request, context):
        project_id = validation.uuid_str("quota.project_id", request.quota.project_id)
        paths = validation.update_mask(request.update_mask.paths, QUOTA_FIELDS)
        view = self.volumes.update_quota(
            project_id,
            request.quota.volumes_limit if "volumes_limit" in paths else None,
            request.quota.size_gib_limit if "size_gib_limit" in paths else None,
        )
        return quota_pb(view)


def _description(value: str) -> str:
    # Free-form: unlike a name it may hold line breaks; only its length is bounded.
    if len(value) > validation.NAME_MAX:
        raise InvalidArgument(
            f"description is longer than {validation.NAME_MAX} characters", field="description"
        )
    return value


def status_of(value: int) -> Status:
    try:
        return Status(pb2.Volume.Status.Name(value).removeprefix("STATUS_").lower())
    except ValueError:
        raise InvalidArgument(f"status {value} is not a volume status", field="status") from None


def volume_pb(found: VolumeInfo) -> pb2.Volume:
    v, attachment = found.volume, found.attachment
    message = pb2.Volume(
        id=v.id,
        name=v.name,
        description=v.description,
        project_id=v.project_id,
        size_gib=v.size_gib,
        status=pb2.Volume.Status.Value(f"STATUS_{v.status.upper()}"),
        source_image_id=v.source_image_id,
        reserved_instance_id=v.reserved_instance_id if v.status == Status.RESERVED else "",
        create_time=timestamp(v.create_time),
        update_time=timestamp(v.update_time),
    )
    if attachment is not None:
        message.attachments.add(
            id=attachment.id,
            instance_id=attachment.instance_id,
            host=attachment.host,
            device=attachment.device,
            attach_time=timestamp(attachment.create_time),
        )
    return message


def connection_pb(info: ConnectionInfo) -> pb2.ConnectionInfo:
    return pb2.ConnectionInfo(
        driver_volume_type=info.driver_volume_type,
        path=info.path,
        format=info.format,
        host=info.host,
        port=info.port,
        export_name=info.export_name,
        tls=info.tls,
    )


def quota_pb(view: quotas.QuotaView) -> pb2.Quota:
    return pb2.Quota(
        project_id=view.project_id,
        volumes_limit=view.volumes_limit,
        size_gib_limit=view.size_gib_limit,
        volumes_used=view.volumes_used,
        size_gib_used=view.size_gib_used,
        is_default=view.is_default,
    )
