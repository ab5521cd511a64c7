"""The far side of the volume service's image contract: a small in-memory Images service.

It applies the image service's visibility rule to the token it receives, so a
test also shows that the volume service forwards the user's token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

from components.framework import auth, errors
from components.framework.server import Service
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_pb2_grpc
from tests.harness import serving

IMAGE_POLICY = auth.Policy.of(
    {"stratus.image.v1.Images": {"GetImage": auth.reader, "DownloadImage": auth.reader}}
)
CHUNK = 64 * 1024


@dataclasses.dataclass
class StoredImage:
    record: image_pb2.Image
    data: bytes
    # Stop the stream with UNAVAILABLE after this many bytes (None: never).
    fail_after: int | None = None


class FakeImages(image_pb2_grpc.ImagesServicer):
    def __init__(self) -> None:
        self.images: dict[str, StoredImage] = {}
        self.tokens_seen: list[str] = []

    def add(
        self,
        data: bytes,
        project_id: str,
        disk_format: str = "raw",
        *,
        status=image_pb2.Image.STATUS_ACTIVE,
        min_disk_gib: int = 0,
        virtual_size_bytes: int | None = None,
        sha512: str | None = None,
        fail_after: int | None = None,
    ) -> str:
        image_id = str(uuid.uuid4())
        record = image_pb2.Image(
            id=image_id,
            name=f"image-{image_id[:8]}",
            status=status,
            disk_format=getattr(image_pb2.Image, f"DISK_FORMAT_{disk_format.upper()}"),
            visibility=image_pb2.Image.VISIBILITY_PRIVATE,
            project_id=project_id,
            size_bytes=len(data),
            virtual_size_bytes=len(data) if virtual_size_bytes is None else virtual_size_bytes,
            checksum=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            os_hash_algo="sha512",
            os_hash_value=sha512 or hashlib.sha512(data).hexdigest(),
            min_disk_gib=min_disk_gib,
        )
        self.images[image_id] = StoredImage(record, data, fail_after)
        return image_id

    def _visible(self, image_id: str) -> StoredImage:
        who = auth.caller()
        self.tokens_seen.append(who.token)
        found = self.images.get(image_id)
        if found is None or not who.can_access(found.record.project_id):
            raise errors.NotFound(f"image {image_id} not found")
        return found

    def GetImage(self, request, context):
        return self._visible(request.image_id).record

    def DownloadImage(self, request, context):
        found = self._visible(request.image_id)
        if found.record.status != image_pb2.Image.STATUS_ACTIVE:
            raise errors.FailedPrecondition("image is not active")
        for offset in range(0, len(found.data), CHUNK):
            if found.fail_after is not None and offset >= found.fail_after:
                raise errors.Unavailable("image store went away")
            yield image_pb2.DownloadImageResponse(
                chunk=found.data[offset : offset + CHUNK], offset_bytes=offset
            )


@contextlib.contextmanager
def serving_images(validator) -> Iterator[tuple[FakeImages, int]]:
    fake = FakeImages()
    service = Service.of(fake, image_pb2, image_pb2_grpc, "Images")
    with serving([service], IMAGE_POLICY, validator, component="image") as (_, port):
        yield fake, port


def qcow2_bytes(raw: bytes, workdir: Path) -> tuple[bytes, int]:
    """``raw`` as a qcow2 image, and its virtual size."""
    source, target = workdir / "source.raw", workdir / "source.qcow2"
    source.write_bytes(raw)
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(source), str(target)], check=True
    )
    info = subprocess.run(
        ["qemu-img", "info", "--output=json", str(target)],
        check=True,
        capture_output=True,
        text=True,
    )
    return target.read_bytes(), json.loads(info.stdout)["virtual-size"]
