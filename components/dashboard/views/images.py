"""The images panel (Horizon's Project → Compute → Images): list, upload, delete.

An upload is two requests from the page's script: POST /project/images/create
makes the record (CreateImage, QUEUED) and answers where to send the data; PUT
/project/images/<id>/data streams the request body straight into UploadImage in
chunks of 1 MiB, never holding the file. The image service leaves an image whose
upload failed QUEUED and empty; the dashboard then deletes it (if it is still
QUEUED), since a retry from the page creates a new record: a failed or abandoned
upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import grpc
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from components.dashboard.cloud import Cloud, ServiceError
from components.dashboard.web import HTTP_STATUS, Pages, flash, redirect, render, session_of
from stratus.image.v1 import image_service_pb2 as image_pb2

log = logging.getLogger(__name__)

pages = Pages()
Image = image_pb2.Image
# UploadImage takes chunks of at most 1 MiB.
CHUNK = 1024 * 1024
# After a failed upload, how long to wait for the service to put the image back to QUEUED.
CLEANUP_TRIES = 20
CLEANUP_PAUSE = 0.5
DISK_FORMATS = {"raw": Image.DISK_FORMAT_RAW, "qcow2": Image.DISK_FORMAT_QCOW2}
CONTAINER_FORMATS = {"bare": Image.CONTAINER_FORMAT_BARE}
VISIBILITIES = {"private": Image.VISIBILITY_PRIVATE, "public": Image.VISIBILITY_PUBLIC}


def _name(enum, value: int, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix)


def human_size(size: int) -> str:
    """Bytes as people read them: 12.0 MiB."""
    if size < 1024:
        return f"{size} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")


def _row(image: image_pb2.Image, may_change: bool) -> dict:
    status = _name(Image.Status, image.status, "STATUS_")
    created = image.create_time.ToDatetime() if image.HasField("create_time") else None
    return {
        "id": image.id,
        "name": image.name or image.id,
        "status": status,
        "status_class": status.lower().replace("_", "-"),
        "visibility": _name(Image.Visibility, image.visibility, "VISIBILITY_").lower(),
        "disk_format": _name(Image.DiskFormat, image.disk_format, "DISK_FORMAT_").lower(),
        "size": human_size(image.size_bytes) if image.size_bytes else "—",
        "owner": image.project_id,
        "created": created.strftime("%Y-%m-%d %H:%M") if created else "",
        "deletable": may_change and not image.protected,
        "protected": image.protected,
    }


@pages.get("/project/images")
async def images(request: Request, cloud: Cloud) -> Response:
    session = session_of(request)
    listed = await cloud.every(cloud.images.ListImages, image_pb2.ListImagesRequest(), "images")
    project = session.login.project.id
    member = "member" in session.roles
    rows = [
        _row(image, session.is_admin or (member and image.project_id == project))
        for image in listed
    ]
    return render(
        request,
        "images.html",
        title="Images",
        images=rows,
        may_upload=session.is_admin or member,
        disk_formats=list(DISK_FORMATS),
        container_formats=list(CONTAINER_FORMATS),
        visibilities=[v for v in VISIBILITIES if v != "public" or session.is_admin],
    )


def _int_field(form, name: str) -> int:
    value = str(form.get(name, "") or "0").strip()
    try:
        return int(value)
    except ValueError:
        raise ServiceError(
            f"{name.replace('_', ' ')} must be a whole number", grpc.StatusCode.INVALID_ARGUMENT
        ) from None


def _wants_json(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


@pages.post("/project/images/create")
async def create_image(request: Request, cloud: Cloud) -> Response:
    """CreateImage; a script gets {"upload_url"} to PUT the data to."""
    form = await request.form()
    disk_format = str(form.get("disk_format", ""))
    visibility = str(form.get("visibility", "private"))
    if disk_format not in DISK_FORMATS:
        raise ServiceError("Choose a disk format (raw or qcow2)", grpc.StatusCode.INVALID_ARGUMENT)
    if visibility not in VISIBILITIES:
        raise ServiceError("Choose private or public", grpc.StatusCode.INVALID_ARGUMENT)
    image = await cloud.images.CreateImage(
        image_pb2.CreateImageRequest(
            name=str(form.get("name", "")).strip(),
            disk_format=DISK_FORMATS[disk_format],
            container_format=CONTAINER_FORMATS.get(
                str(form.get("container_format", "bare")), Image.CONTAINER_FORMAT_BARE
            ),
            visibility=VISIBILITIES[visibility],
            min_disk_gib=_int_field(form, "min_disk_gib"),
            min_ram_mib=_int_field(form, "min_ram_mib"),
        )
    )
    if _wants_json(request):
        return JSONResponse({"upload_url": f"/project/images/{image.id}/data"})
    flash(request, "success", f"Created image {image.name or image.id}; it has no data yet.")
    return redirect("/project/images")


async def _messages(request: Request, header: image_pb2.UploadImageHeader) -> AsyncIterator:
    """The header, then the request body re-cut into chunks of at most 1 MiB."""
    yield image_pb2.UploadImageRequest(header=header)
    pending = bytearray()
    async for piece in request.stream():
        pending += piece
        while len(pending) >= CHUNK:
            yield image_pb2.UploadImageRequest(chunk=bytes(pending[:CHUNK]))
            del pending[:CHUNK]
    if pending:
        yield image_pb2.UploadImageRequest(chunk=bytes(pending))


async def _discard_if_queued(cloud: Cloud, image_id: str) -> None:
    """After a failed upload: delete the image once the failure has left it QUEUED and empty.

    The service puts the image back to QUEUED when it notices the stream ended
    badly, which may be a moment after the call returned here: wait for that a
    little while it is still SAVING.
    """
    try:
        for _ in range(CLEANUP_TRIES):
            image = await cloud.images.GetImage(image_pb2.GetImageRequest(image_id=image_id))
            if image.status != Image.STATUS_SAVING:
                break
            await asyncio.sleep(CLEANUP_PAUSE)
        if image.status == Image.STATUS_QUEUED:
            await cloud.images.DeleteImage(image_pb2.DeleteImageRequest(image_id=image_id))
            log.info("deleted image %s after its upload failed", image_id)
        else:
            log.info("image %s left %s after a failed upload", image_id, image.status)
    except ServiceError as error:
        log.info("could not clean up image %s after a failed upload: %s", image_id, error)


@pages.put("/project/images/{image_id}/data")
async def upload_data(request: Request, cloud: Cloud) -> Response:
    """Streams the body into UploadImage (200 with the image's checksum when ACTIVE)."""
    image_id = request.path_params["image_id"]
    header = image_pb2.UploadImageHeader(image_id=image_id)
    length = request.headers.get("content-length", "")
    if length.isdigit():
        header.size_bytes = int(length)
    timeout = request.app.state.dashboard.config.transfer_seconds
    try:
        image = await cloud.images.UploadImage(_messages(request, header), timeout=timeout)
    except ServiceError as error:
        if error.code != grpc.StatusCode.FAILED_PRECONDITION:  # not ours to undo
            await asyncio.shield(_discard_if_queued(cloud, image_id))
        if error.signed_out:
            raise
        return PlainTextResponse(str(error), status_code=_status(error))
    except (asyncio.CancelledError, ClientDisconnect):
        # The browser went away: reading the body failed, so the call was cancelled
        # (or this request itself was). Nothing of the upload is kept.
        log.info("upload into image %s interrupted", image_id)
        await asyncio.shield(_discard_if_queued(cloud, image_id))
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        return PlainTextResponse("The upload was interrupted.", status_code=400)
    return PlainTextResponse(
        f"Uploaded {human_size(image.size_bytes)} into image {image.name or image.id} "
        f"(MD5 {image.checksum})."
    )


def _status(error: ServiceError) -> int:
    return HTTP_STATUS.get(error.code, 502)


@pages.post("/project/images/{image_id}/delete")
async def delete_image(request: Request, cloud: Cloud) -> Response:
    image_id = request.path_params["image_id"]
    await cloud.images.DeleteImage(image_pb2.DeleteImageRequest(image_id=image_id))
    form = await request.form()
    flash(request, "success", f"Deleted image {form.get('name') or image_id}.")
    return redirect("/project/images")
