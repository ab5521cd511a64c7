"""The image service on a free port, on each database backend, with a few callers."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from components.framework import errors
from components.image.__main__ import COMPONENT
from components.image.config import ImageConfig
from stratus.image.v1 import image_service_pb2 as pb2
from stratus.image.v1 import image_service_pb2_grpc as pb2_grpc
from tests.harness import StaticValidator, caller, serving_component

MIB = 1024 * 1024
MAX_IMAGE_BYTES = 8 * MIB
PROJECT_A = "0a000000-0000-4000-8000-00000000000a"
PROJECT_B = "0b000000-0000-4000-8000-00000000000b"
ADMIN_PROJECT = "0c000000-0000-4000-8000-00000000000c"
SERVICE_PROJECT = "0d000000-0000-4000-8000-00000000000d"
MISSING = "00000000-0000-4000-8000-000000000000"

VALIDATOR = StaticValidator(
    {
        "alice": caller(["member"], project_id=PROJECT_A, token="alice"),
        "ann": caller(["member"], project_id=PROJECT_A, token="ann"),
        "reader": caller(["reader"], project_id=PROJECT_A, token="reader"),
        "bob": caller(["member"], project_id=PROJECT_B, token="bob"),
        "admin": caller(["admin", "member"], project_id=ADMIN_PROJECT, token="admin"),
        "service": caller(["service"], project_id=SERVICE_PROJECT, token="service"),
    }
)

Image = pb2.Image


def md(token: str | None):
    return () if token is None else (("x-auth-token", token),)


def code_of(fn: Callable, *args, **kwargs) -> tuple[grpc.StatusCode, str]:
    """The status code and ErrorInfo reason of a call that must fail."""
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    found = errors.error_info(info.value)
    return info.value.code(), found.reason if found else ""


def qcow2(tmp_path: Path, name: str, *options: str) -> bytes:
    """A real qcow2 file made by qemu-img, from names inside ``tmp_path`` only.

    qemu-img creates (and overwrites) every file an option names, so no option
    may name an absolute or parent path.
    """
    for option in (*options, name):
        if "/" in option:
            raise ValueError(f"qemu-img option {option!r} names a path outside tmp_path")
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", *options, name], check=True, cwd=tmp_path
    )
    return (tmp_path / name).read_bytes()


def upload_requests(
    image_id: str, data: bytes, chunk: int = MIB, **header
) -> Iterator[pb2.UploadImageRequest]:
    yield pb2.UploadImageRequest(header=pb2.UploadImageHeader(image_id=image_id, **header))
    for start in range(0, len(data), chunk):
        yield pb2.UploadImageRequest(chunk=data[start : start + chunk])


class HeldUpload:
    """An upload that sends its header and first chunk, then waits for :meth:`release`."""

    def __init__(self, api: Api, token: str, image_id: str, rest: bytes = b"tail") -> None:
        self._go = threading.Event()
        self._rest = rest

        def requests():
            yield pb2.UploadImageRequest(header=pb2.UploadImageHeader(image_id=image_id))
            yield pb2.UploadImageRequest(chunk=b"head")
            self._go.wait(10)
            yield pb2.UploadImageRequest(chunk=self._rest)

        self.future = api.stub.UploadImage.future(requests(), metadata=md(token))
        api.wait_status(image_id, Image.STATUS_SAVING)

    def release(self):
        self._go.set()
        return self.future


@dataclasses.dataclass
class Api:
    stub: pb2_grpc.ImagesStub
    runtime: object
    store_root: Path

    def create(self, token: str = "alice", **fields) -> pb2.Image:
        fields.setdefault("disk_format", Image.DISK_FORMAT_RAW)
        return self.stub.CreateImage(pb2.CreateImageRequest(**fields), metadata=md(token))

    def get(self, image_id: str, token: str = "alice") -> pb2.Image:
        return self.stub.GetImage(pb2.GetImageRequest(image_id=image_id), metadata=md(token))

    def status(self, image_id: str) -> int:
        return self.get(image_id, "admin").status

    def upload(self, image_id: str, data: bytes, token: str = "alice", chunk=MIB, **header):
        requests = upload_requests(image_id, data, chunk, **header)
        return self.stub.UploadImage(requests, metadata=md(token))

    def active(self, token: str = "alice", data: bytes | None = None, **fields) -> pb2.Image:
        image = self.create(token, **fields)
        return self.upload(image.id, os.urandom(3000) if data is None else data, token)

    def download(self, image_id: str, token: str = "alice", offset: int = 0):
        request = pb2.DownloadImageRequest(image_id=image_id, offset_bytes=offset)
        return list(self.stub.DownloadImage(request, metadata=md(token)))

    def delete(self, image_id: str, token: str = "alice", **kwargs):
        request = pb2.DeleteImageRequest(image_id=image_id, **kwargs)
        return self.stub.DeleteImage(request, metadata=md(token))

    def list(self, token: str = "alice", **filters) -> list[pb2.Image]:
        found, token_ = [], ""
        while True:
            reply = self.stub.ListImages(
                pb2.ListImagesRequest(page_token=token_, **filters), metadata=md(token)
            )
            found.extend(reply.images)
            token_ = reply.next_page_token
            if not token_:
                return found

    def wait_status(self, image_id: str, status: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.status(image_id) != status:
            if time.monotonic() > deadline:
                raise AssertionError(f"image {image_id} never reached {Image.Status.Name(status)}")
            time.sleep(0.01)

    def stored_files(self) -> list[str]:
        """Every file in the store, uploads in progress included."""
        return sorted(
            str(p.relative_to(self.store_root)) for p in self.store_root.rglob("*") if p.is_file()
        )


def serve(database_url: str, tmp_path: Path) -> Iterator[Api]:
    """The body of each test module's ``api`` fixture."""
    config = ImageConfig(data_dir=str(tmp_path / "data"), max_image_bytes=MAX_IMAGE_BYTES)
    with serving_component(COMPONENT, VALIDATOR, database_url, config=config) as (runtime, ch):
        yield Api(pb2_grpc.ImagesStub(ch), runtime, tmp_path / "data" / "image")
