"""The image service as other components see it: describe an image, stream its data.

Compute hosts (to boot an image) and the volume service (to copy one into a
volume) read images the same way, so they share this client. Calls go with the
token in effect (the caller wraps them in ``acting_as``, or the framework
forwards the user's), so a user reaches only images they can see. Errors are
domain errors: NotFound for an image the caller cannot see,
FailedPrecondition for one that cannot be used now, ImageCorrupt for data that
is not the image's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping

from components.framework.clients import call
from components.framework.errors import FailedPrecondition
from stratus.image.v1 import image_service_pb2 as image_pb2

GIB = 1024**3
# The disk formats Stratus can use, by the names qemu-img and libvirt give them.
FORMATS = {
    image_pb2.Image.DISK_FORMAT_RAW: "raw",
    image_pb2.Image.DISK_FORMAT_QCOW2: "qcow2",
}


class ImageCorrupt(FailedPrecondition):
    """The data received is not the image's data; fetching it again elsewhere would not
    do better."""

    reason = "IMAGE_CHECKSUM_MISMATCH"


@dataclasses.dataclass(frozen=True)
class Image:
    """An ACTIVE image in a usable disk format, as GetImage describes it."""

    id: str
    # "raw" or "qcow2".
    disk_format: str
    size_bytes: int
    virtual_size_bytes: int
    # MD5 of the data, 32 lowercase hex digits.
    checksum: str
    min_disk_gib: int = 0
    # The multihash (Glance's os_hash_algo/os_hash_value), when the image has one.
    os_hash_algo: str = ""
    os_hash_value: str = ""
    # The image's properties, e.g. Glance's "kernel_id", "ramdisk_id", "os_command_line".
    properties: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def kernel_id(self) -> str:
        """The image holding the kernel to boot this disk with directly; empty if none."""
        return self.properties.get("kernel_id", "")

    @property
    def ramdisk_id(self) -> str:
        """The image holding the initrd for that kernel; empty if none."""
        return self.properties.get("ramdisk_id", "")

    @property
    def kernel_args(self) -> str:
        """The kernel command line (Glance's os_command_line); empty for the default."""
        return self.properties.get("os_command_line", "")

    @property
    def required_gib(self) -> int:
        """The smallest disk the image fits in."""
        virtual = max(self.virtual_size_bytes, self.size_bytes if self.disk_format == "raw" else 0)
        return max(self.min_disk_gib, math.ceil(virtual / GIB), 1)


class ImageClient:
    """The image service, reached through ``stub()`` (an ImagesStub)."""

    def __init__(self, stub: Callable[[], object], download_timeout: float = 3600.0) -> None:
        self._stub = stub
        self._download_timeout = download_timeout

    def describe(self, image_id: str) -> Image:
        """The image; NotFound if the caller cannot see it, FailedPrecondition (reason
        IMAGE_NOT_ACTIVE or IMAGE_FORMAT_UNSUPPORTED) if it cannot be used now."""
        image = call(self._stub().GetImage, image_pb2.GetImageRequest(image_id=image_id))
        if image.status != image_pb2.Image.STATUS_ACTIVE:
            status = image_pb2.Image.Status.Name(image.status).removeprefix("STATUS_")
            raise FailedPrecondition(
                f"image {image_id} is {status}, not ACTIVE",
                reason="IMAGE_NOT_ACTIVE",
                image_id=image_id,
                status=status,
            )
        disk_format = FORMATS.get(image.disk_format)
        if disk_format is None:
            raise FailedPrecondition(
                f"image {image_id} has a disk format Stratus cannot use (only raw and qcow2)",
                reason="IMAGE_FORMAT_UNSUPPORTED",
                image_id=image_id,
            )
        return Image(
            id=image.id,
            disk_format=disk_format,
            size_bytes=image.size_bytes,
            virtual_size_bytes=image.virtual_size_bytes,
            min_disk_gib=image.min_disk_gib,
            checksum=image.checksum,
            os_hash_algo=image.os_hash_algo,
            os_hash_value=image.os_hash_value,
            properties=dict(image.properties),
        )

    def chunks(self, image_id: str) -> Iterator[bytes]:
        """The image's data in order, chunk by chunk; ImageCorrupt if a chunk is not where
        the last one ended."""
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
