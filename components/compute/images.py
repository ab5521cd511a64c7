"""The image service as the compute host sees it: describe an image, stream its data.

Calls are made with the token of the user whose instance is being built (the
caller wraps them in ``acting_as``), so a user boots only images they can see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from components.compute.image_cache import ImageCorrupt, ImageRecord
from components.framework.clients import call
from components.framework.errors import FailedPrecondition
from stratus.image.v1 import image_service_pb2 as image_pb2

FORMATS = {
    image_pb2.Image.DISK_FORMAT_RAW: "raw",
    image_pb2.Image.DISK_FORMAT_QCOW2: "qcow2",
}


class ImageSource:
    """The image service, reached through ``stub()`` (an ImagesStub)."""

    def __init__(self, stub: Callable[[], object], download_timeout: float = 3600.0) -> None:
        self._stub = stub
        self._download_timeout = download_timeout

    def describe(self, image_id: str) -> ImageRecord:
        """The image's record; NotFound if the user cannot see it, FailedPrecondition if it
        cannot be booted now."""
        image = call(self._stub().GetImage, image_pb2.GetImageRequest(image_id=image_id))
        if image.status != image_pb2.Image.STATUS_ACTIVE:
            status = image_pb2.Image.Status.Name(image.status).removeprefix("STATUS_")
            raise FailedPrecondition(
                f"image {image_id} is {status}, not ACTIVE",
                reason="IMAGE_NOT_ACTIVE",
                image_id=image_id,
            )
        disk_format = FORMATS.get(image.disk_format)
        if disk_format is None:
            raise FailedPrecondition(
                f"image {image_id} has a disk format this host cannot boot",
                reason="IMAGE_FORMAT_UNSUPPORTED",
                image_id=image_id,
            )
        return ImageRecord(
            id=image.id,
            disk_format=disk_format,
            size_bytes=image.size_bytes,
            virtual_size_bytes=image.virtual_size_bytes,
            checksum=image.checksum,
            kernel_id=image.properties.get("kernel_id", ""),
            ramdisk_id=image.properties.get("ramdisk_id", ""),
            kernel_args=image.properties.get("os_command_line", ""),
        )

    def chunks(self, image_id: str) -> Iterator[bytes]:
        """The image's data in order, chunk by chunk."""
        stream = call(
            self._stub().DownloadImage,
            image_pb2.DownloadImageRequest(image_id=image_id),
            timeout=self._download_timeout,
        )
        received = 0
        while (message := call(next, stream, None)) is not None:
            if message.offset_bytes != received:
                raise ImageCorrupt(
                    f"image {image_id}: chunk at offset {message.offset_bytes}, "
                    f"expected {received}",
                    image_id=image_id,
                )
            received += len(message.chunk)
            yield message.chunk
