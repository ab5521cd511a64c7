"""Source images, as the volume service sees the image service: describe, then download.

Calls go through the image service's stub with the token of the user whose
volume is being made (forwarded by the framework's clients), so a user can
only copy images they can see. Download errors are domain errors: the caller
decides the volume's status.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable
from pathlib import Path

from components.framework.clients import call
from components.framework.errors import FailedPrecondition
from stratus.image.v1 import image_service_pb2 as image_pb2

GIB = 1024**3
FORMATS = {
    image_pb2.Image.DISK_FORMAT_RAW: "raw",
    image_pb2.Image.DISK_FORMAT_QCOW2: "qcow2",
}


class DownloadError(Exception):
    """The data received is not the image's data (size or checksum differ)."""


@dataclasses.dataclass(frozen=True)
class SourceImage:
    id: str
    disk_format: str
    size_bytes: int
    virtual_size_bytes: int
    min_disk_gib: int
    checksum: str
    os_hash_algo: str
    os_hash_value: str

    @property
    def required_gib(self) -> int:
        """The smallest volume the image fits in."""
        virtual = max(self.virtual_size_bytes, self.size_bytes if self.disk_format == "raw" else 0)
        return max(self.min_disk_gib, math.ceil(virtual / GIB), 1)


class ImageSource:
    """The image service, reached through ``stub()`` (an ImagesStub)."""

    def __init__(self, stub: Callable[[], object], download_timeout: float = 3600.0) -> None:
        self._stub = stub
        self._download_timeout = download_timeout

    def describe(self, image_id: str) -> SourceImage:
        """The image's record; NotFound if the caller cannot see it, FailedPrecondition
        if it cannot be copied now."""
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
                f"image {image_id} has a disk format volumes cannot hold",
                reason="IMAGE_FORMAT_UNSUPPORTED",
                image_id=image_id,
            )
        return SourceImage(
            id=image.id,
            disk_format=disk_format,
            size_bytes=image.size_bytes,
            virtual_size_bytes=image.virtual_size_bytes,
            min_disk_gib=image.min_disk_gib,
            checksum=image.checksum,
            os_hash_algo=image.os_hash_algo,
            os_hash_value=image.os_hash_value,
        )

    def download(self, image: SourceImage, dest: Path) -> None:
        """Write the image's data to ``dest`` (sparse where it is zeros), verified."""
        stream = call(
            self._stub().DownloadImage,
            image_pb2.DownloadImageRequest(image_id=image.id),
            timeout=self._download_timeout,
        )
        md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
        received = 0
        with open(dest, "wb") as fh:
            while (message := call(next, stream, None)) is not None:
                chunk = message.chunk
                if message.offset_bytes != received:
                    raise DownloadError(f"image {image.id}: chunk out of order at {received}")
                received += len(chunk)
                # Never write more than the image claims: a lying server cannot fill the disk.
                if received > image.size_bytes:
                    raise DownloadError(f"image {image.id} sent more than {image.size_bytes} B")
                md5.update(chunk)
                sha512.update(chunk)
                if chunk.count(0) == len(chunk):
                    fh.seek(len(chunk), 1)
                else:
                    fh.write(chunk)
            fh.truncate(received)
        _verify(image, received, md5.hexdigest(), sha512.hexdigest())


def _verify(image: SourceImage, received: int, md5: str, sha512: str) -> None:
    if received != image.size_bytes:
        raise DownloadError(f"image {image.id}: got {received} of {image.size_bytes} B")
    if image.os_hash_value and image.os_hash_algo == "sha512":
        if sha512 != image.os_hash_value:
            raise DownloadError(f"image {image.id}: sha512 does not match")
    elif image.checksum and md5 != image.checksum:
        raise DownloadError(f"image {image.id}: checksum does not match")
