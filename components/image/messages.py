"""Translation between the image protos and the domain's records and values."""

from __future__ import annotations

from components.framework import InvalidArgument, timestamp
from components.image import access, formats, images, states
from components.image.models import Image
from components.image.transfers import UploadHeader
from stratus.image.v1 import image_service_pb2 as pb2

STATUS = {
    states.QUEUED: pb2.Image.STATUS_QUEUED,
    states.SAVING: pb2.Image.STATUS_SAVING,
    states.ACTIVE: pb2.Image.STATUS_ACTIVE,
    states.KILLED: pb2.Image.STATUS_KILLED,
    states.DELETED: pb2.Image.STATUS_DELETED,
    states.DEACTIVATED: pb2.Image.STATUS_DEACTIVATED,
}
DISK_FORMAT = {formats.RAW: pb2.Image.DISK_FORMAT_RAW, formats.QCOW2: pb2.Image.DISK_FORMAT_QCOW2}
CONTAINER_FORMAT = {"bare": pb2.Image.CONTAINER_FORMAT_BARE}
VISIBILITY = {
    access.PRIVATE: pb2.Image.VISIBILITY_PRIVATE,
    access.PUBLIC: pb2.Image.VISIBILITY_PUBLIC,
}


def _inverse(table: dict[str, int]) -> dict[int, str]:
    return {number: name for name, number in table.items()}


STATUS_NAMES = _inverse(STATUS)
DISK_FORMAT_NAMES = _inverse(DISK_FORMAT)
CONTAINER_FORMAT_NAMES = _inverse(CONTAINER_FORMAT)
VISIBILITY_NAMES = _inverse(VISIBILITY)


def image(row: Image) -> pb2.Image:
    return pb2.Image(
        id=row.id,
        name=row.name,
        status=STATUS[row.status],
        disk_format=DISK_FORMAT[row.disk_format],
        container_format=CONTAINER_FORMAT[row.container_format],
        visibility=VISIBILITY[row.visibility],
        project_id=row.project_id,
        size_bytes=row.size_bytes,
        virtual_size_bytes=row.virtual_size_bytes,
        checksum=row.checksum,
        os_hash_algo=row.os_hash_algo,
        os_hash_value=row.os_hash_value,
        min_disk_gib=row.min_disk_gib,
        min_ram_mib=row.min_ram_mib,
        properties=row.properties,
        protected=row.protected,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
    )


def _named(table: dict[int, str], value: int, field: str, unset: str | None) -> str:
    if value == 0 and unset is not None:
        return unset
    try:
        return table[value]
    except KeyError:
        raise InvalidArgument(f"{field} {value} is not a valid value", field=field) from None


def new_image(request: pb2.CreateImageRequest) -> images.Fields:
    if request.disk_format == pb2.Image.DISK_FORMAT_UNSPECIFIED:
        raise InvalidArgument("disk_format is required", field="disk_format")
    return images.Fields(
        name=request.name,
        disk_format=_named(DISK_FORMAT_NAMES, request.disk_format, "disk_format", None),
        container_format=_named(
            CONTAINER_FORMAT_NAMES, request.container_format, "container_format", "bare"
        ),
        visibility=_named(VISIBILITY_NAMES, request.visibility, "visibility", access.PRIVATE),
        min_disk_gib=request.min_disk_gib,
        min_ram_mib=request.min_ram_mib,
        properties=dict(request.properties),
        protected=request.protected,
    )


def changed_fields(request: pb2.UpdateImageRequest) -> images.Fields:
    """The new values of an update; an unset visibility is only an error if it is in the mask."""
    given = request.image
    return images.Fields(
        name=given.name,
        visibility=VISIBILITY_NAMES.get(given.visibility, ""),
        min_disk_gib=given.min_disk_gib,
        min_ram_mib=given.min_ram_mib,
        properties=dict(given.properties),
        protected=given.protected,
    )


def status_filter(value: int) -> str:
    return _named(STATUS_NAMES, value, "status", "")


def visibility_filter(value: int) -> str:
    return _named(VISIBILITY_NAMES, value, "visibility", "")


def upload_header(header: pb2.UploadImageHeader) -> UploadHeader:
    return UploadHeader(
        image_id=header.image_id,
        checksum=header.checksum,
        os_hash_value=header.os_hash_value,
        size_bytes=header.size_bytes if header.HasField("size_bytes") else None,
    )
