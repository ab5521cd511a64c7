"""The dashboard's images panel against a real cloud: an upload through the page's two
requests (create, then PUT the bytes) makes an ACTIVE image holding exactly the file,
streamed through the dashboard without holding it; a failed upload leaves no image;
delete removes it."""

from __future__ import annotations

import contextlib
import hashlib
import html
import os
import re
import time
import uuid
from pathlib import Path

import grpc
import httpx
import pytest

from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from tests.e2e.conftest import PORT_OFFSET
from tests.e2e.dashboard_client import csrf, own_dashboard, post_form, signed_in

MIB = 1024 * 1024


@pytest.fixture
def images(cloud):
    return image_grpc.ImagesStub(cloud.channel("image")), cloud.md("demo")


def create(client: httpx.Client, name: str, disk_format: str = "raw") -> tuple[str, str]:
    """The page's first request: the image id and the upload URL it answers."""
    token = csrf(client, "/project/images")
    reply = client.post(
        "/project/images/create",
        data={
            "csrf_token": token,
            "name": name,
            "disk_format": disk_format,
            "container_format": "bare",
            "visibility": "private",
            "min_disk_gib": "0",
            "min_ram_mib": "0",
        },
        headers={"X-Requested-With": "fetch", "X-CSRF-Token": token},
    )
    assert reply.status_code == 200, reply.text
    url = reply.json()["upload_url"]
    match = re.fullmatch(r"/project/images/([0-9a-f-]{36})/data", url)
    assert match, url
    return match.group(1), url


def put(client: httpx.Client, url: str, content, csrf_token: str | None = None) -> httpx.Response:
    """The page's second request: the file's bytes as the body."""
    headers = {"Content-Type": "application/octet-stream", "X-Requested-With": "fetch"}
    if csrf_token is not None:
        headers["X-CSRF-Token"] = csrf_token
    return client.put(url, content=content, headers=headers, timeout=120.0)


def downloaded(stub, md, image_id: str) -> bytes:
    request = image_pb2.DownloadImageRequest(image_id=image_id)
    return b"".join(reply.chunk for reply in stub.DownloadImage(request, metadata=md))


def status_of(stub, md, image_id: str):
    try:
        return stub.GetImage(image_pb2.GetImageRequest(image_id=image_id), metadata=md).status
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND, exc
        return None


def gone_soon(stub, md, image_id: str, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if status_of(stub, md, image_id) is None:
            return True
        time.sleep(0.2)
    return False


def row(text: str, resource_id: str) -> str | None:
    match = re.search(rf'<tr id="row-{resource_id}">(.*?)</tr>', text, re.S)
    return html.unescape(match.group(1)) if match else None


def test_upload_makes_an_active_image_holding_the_file_and_delete_removes_it(page, images):
    stub, md = images
    data = os.urandom(5 * MIB + 12345)
    name = f"dash-img-{uuid.uuid4().hex[:6]}"
    image_id, url = create(page, name)
    token = csrf(page, "/project/images")

    reply = put(page, url, data, token)

    assert reply.status_code == 200, reply.text
    image = stub.GetImage(image_pb2.GetImageRequest(image_id=image_id), metadata=md)
    assert image.status == image_pb2.Image.STATUS_ACTIVE
    assert image.size_bytes == len(data)
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert downloaded(stub, md, image_id) == data
    listed = row(page.get("/project/images").text, image_id)
    assert listed is not None and name in listed and "ACTIVE" in listed

    reply = post_form(page, f"/project/images/{image_id}/delete", {"name": name}, "/project/images")

    assert reply.status_code == 303
    assert status_of(stub, md, image_id) is None
    assert row(page.get("/project/images").text, image_id) is None


def test_upload_without_the_csrf_header_is_refused_and_stores_nothing(page, images):
    stub, md = images
    image_id, url = create(page, f"dash-img-{uuid.uuid4().hex[:6]}")
    try:
        reply = put(page, url, os.urandom(64 * 1024))

        assert reply.status_code == 403
        assert status_of(stub, md, image_id) == image_pb2.Image.STATUS_QUEUED
    finally:
        stub.DeleteImage(image_pb2.DeleteImageRequest(image_id=image_id), metadata=md)


def test_a_failed_upload_answers_the_service_message_and_leaves_no_image(page, images):
    stub, md = images
    # Random bytes are not a qcow2 file: the image service refuses them.
    image_id, url = create(page, f"dash-img-{uuid.uuid4().hex[:6]}", disk_format="qcow2")

    reply = put(page, url, os.urandom(2 * MIB), csrf(page, "/project/images"))

    assert reply.status_code == 400, reply.text
    assert "qcow2" in reply.text.lower()
    assert gone_soon(stub, md, image_id), "the image of a failed upload was kept"


def test_an_upload_the_client_abandons_leaves_no_image(page, images):
    stub, md = images
    image_id, url = create(page, f"dash-img-{uuid.uuid4().hex[:6]}")
    token = csrf(page, "/project/images")

    def body():
        yield os.urandom(MIB)
        raise ConnectionAbortedError("the browser went away")

    with pytest.raises(Exception):  # noqa: B017 - whichever way httpx reports the abort
        put(page, url, body(), token)

    assert gone_soon(stub, md, image_id), "the image of an abandoned upload was kept"


@pytest.fixture
def dashboard(cloud, tmp_path):
    """A dashboard process of this test's own, to read its memory use: its URL and pid."""
    port = 3082 + PORT_OFFSET
    with own_dashboard(cloud.addresses["identity"], port, tmp_path) as process:
        yield f"http://127.0.0.1:{port}", process.pid


def peak_memory(pid: int) -> int:
    """The process's resident high-water mark (VmHWM) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_the_dashboard_streams_an_upload_without_holding_it(cloud, dashboard, images):
    stub, md = images
    url, pid = dashboard
    size = 64 * MIB
    md5 = hashlib.md5()

    def body():
        for _ in range(size // MIB):
            piece = os.urandom(MIB)
            md5.update(piece)
            yield piece

    client = signed_in(url, "demo", cloud.passwords["demo"])
    try:
        warm_id, warm_url = create(client, "dash-warm-up")
        assert put(client, warm_url, os.urandom(MIB), csrf(client, "/project/images")).is_success
        before = peak_memory(pid)
        image_id, upload_url = create(client, f"dash-big-{uuid.uuid4().hex[:6]}")
        try:
            reply = put(client, upload_url, body(), csrf(client, "/project/images"))

            assert reply.status_code == 200, reply.text
            grown = peak_memory(pid) - before
            assert grown < 24 * MIB, f"the dashboard grew by {grown / MIB:.1f} MiB"
            image = stub.GetImage(image_pb2.GetImageRequest(image_id=image_id), metadata=md)
            assert image.size_bytes == size
            assert image.checksum == md5.hexdigest()
        finally:
            for created in (warm_id, image_id):
                with contextlib.suppress(grpc.RpcError):
                    stub.DeleteImage(image_pb2.DeleteImageRequest(image_id=created), metadata=md)
    finally:
        client.close()
