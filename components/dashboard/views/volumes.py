"""The volumes panel (Horizon's Project → Volumes): list, create (blank or from an image),
delete, and rows that follow a volume's status live.

The volume service has no watch call, so ``/project/volumes/events`` polls
GetVolume about once a second for each volume the page shows in a passing status
(creating, deleting, attaching …) and sends the row again, rendered by the same
template as the page, whenever it changes; ``gone`` once the volume no longer
exists, ``done`` when every volume has settled or the stream's time is up.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import grpc
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from components.dashboard.cloud import Cloud, ServiceError
from components.dashboard.web import TEMPLATES, Pages, flash, redirect, render, session_of
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.volume.v1 import volume_service_pb2 as volume_pb2

pages = Pages()
Volume = volume_pb2.Volume
# Statuses a volume passes through on its own; the page follows these live.
PASSING = {
    Volume.STATUS_CREATING,
    Volume.STATUS_ATTACHING,
    Volume.STATUS_DETACHING,
    Volume.STATUS_DELETING,
    Volume.STATUS_EXTENDING,
}
POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 600.0
MAX_LIVE_IDS = 100


def _row(volume: volume_pb2.Volume, servers: dict[str, str], images: dict[str, str]) -> dict:
    status = Volume.Status.Name(volume.status).removeprefix("STATUS_")
    created = volume.create_time.ToDatetime() if volume.HasField("create_time") else None
    attached = [
        {"id": a.instance_id, "name": servers.get(a.instance_id, a.instance_id), "device": a.device}
        for a in volume.attachments
    ]
    source = volume.source_image_id
    return {
        "id": volume.id,
        "name": volume.name or volume.id,
        "size": volume.size_gib,
        "status": status,
        "status_class": status.lower().replace("_", "-"),
        "passing": volume.status in PASSING,
        "attached": attached,
        "source": images.get(source, source) if source else "",
        "created": created.strftime("%Y-%m-%d %H:%M") if created else "",
        "deletable": volume.status
        in (Volume.STATUS_AVAILABLE, Volume.STATUS_ERROR, Volume.STATUS_ERROR_DELETING),
    }


async def _server_names(cloud: Cloud, volumes: list) -> dict[str, str]:
    """Instance id → name, asked once, only if some volume is attached."""
    if not any(v.attachments for v in volumes):
        return {}
    try:
        servers = await cloud.every(
            cloud.servers.ListServers, api_pb2.ListServersRequest(), "servers"
        )
    except ServiceError as error:
        if error.signed_out:
            raise
        return {}  # ids shown instead of names
    return {server.id: server.name for server in servers}


async def _images(cloud: Cloud) -> list:
    """The images the user sees (for names and the source choice); none if the image
    service fails, so that volumes are still shown."""
    try:
        return await cloud.every(cloud.images.ListImages, image_pb2.ListImagesRequest(), "images")
    except ServiceError as error:
        if error.signed_out:
            raise
        return []


def _image_names(images: list) -> dict[str, str]:
    return {image.id: image.name or image.id for image in images}


@pages.get("/project/volumes")
async def volumes(request: Request, cloud: Cloud) -> Response:
    session = session_of(request)
    listed = await cloud.every(
        cloud.volumes.ListVolumes, volume_pb2.ListVolumesRequest(), "volumes"
    )
    images = await _images(cloud)
    servers = await _server_names(cloud, listed)
    rows = [_row(v, servers, _image_names(images)) for v in listed]
    live = [row["id"] for row in rows if row["passing"]][:MAX_LIVE_IDS]
    return render(
        request,
        "volumes.html",
        title="Volumes",
        volumes=rows,
        live_url=f"/project/volumes/events?ids={','.join(live)}" if live else "",
        sources=[
            (image.id, image.name or image.id)
            for image in images
            if image.status == image_pb2.Image.STATUS_ACTIVE
        ],
        may_create=session.is_admin or "member" in session.roles,
    )


@pages.post("/project/volumes/create")
async def create_volume(request: Request, cloud: Cloud) -> Response:
    form = await request.form()
    try:
        size = int(str(form.get("size_gib", "")).strip())
    except ValueError:
        raise ServiceError(
            "The size must be a whole number of GiB", grpc.StatusCode.INVALID_ARGUMENT
        ) from None
    volume = await cloud.volumes.CreateVolume(
        volume_pb2.CreateVolumeRequest(
            name=str(form.get("name", "")).strip(),
            size_gib=size,
            image_id=str(form.get("image_id", "")).strip(),
            description=str(form.get("description", "")).strip(),
        )
    )
    flash(request, "success", f"Creating volume {volume.name or volume.id} ({size} GiB).")
    return redirect("/project/volumes")


@pages.post("/project/volumes/{volume_id}/delete")
async def delete_volume(request: Request, cloud: Cloud) -> Response:
    volume_id = request.path_params["volume_id"]
    await cloud.volumes.DeleteVolume(volume_pb2.DeleteVolumeRequest(volume_id=volume_id))
    form = await request.form()
    flash(request, "success", f"Deleting volume {form.get('name') or volume_id}.")
    return redirect("/project/volumes")


def _ids(request: Request) -> list[str]:
    """The ids asked for that are UUIDs (at most MAX_LIVE_IDS, each once)."""
    ids: list[str] = []
    for given in request.query_params.get("ids", "").split(","):
        try:
            volume_id = str(uuid.UUID(given.strip()))
        except ValueError:
            continue
        if volume_id not in ids:
            ids.append(volume_id)
    return ids[:MAX_LIVE_IDS]


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def render_row(request: Request, row: dict) -> str:
    """One row's HTML, from the template the page includes for each row."""
    return TEMPLATES.get_template("volumes_row.html").render(
        volume=row, request=request, **_ctx(request)
    )


def _ctx(request: Request) -> dict:
    session = session_of(request)
    return {"csrf_token": session.csrf_token if session else ""}


async def _follow(request: Request, cloud: Cloud, ids: list[str]) -> AsyncIterator[str]:
    """Rows of the volumes in ``ids`` as their status changes, until they settle."""
    remaining = dict.fromkeys(ids, "")  # id → the row HTML last sent
    images: dict[str, str] | None = None
    servers: dict[str, str] | None = None
    started = last_sent = time.monotonic()
    while remaining and time.monotonic() - started < STREAM_SECONDS:
        if await request.is_disconnected():
            return
        for volume_id in list(remaining):
            try:
                volume = await cloud.volumes.GetVolume(
                    volume_pb2.GetVolumeRequest(volume_id=volume_id)
                )
            except ServiceError as error:
                if error.code == grpc.StatusCode.NOT_FOUND:
                    del remaining[volume_id]
                    last_sent = time.monotonic()
                    yield _event("gone", {"id": volume_id})
                elif error.signed_out:
                    remaining.clear()
                    break
                continue
            try:
                if images is None and volume.source_image_id:
                    images = _image_names(await _images(cloud))
                if servers is None and volume.attachments:
                    servers = await _server_names(cloud, [volume])
            except ServiceError:  # signed out
                remaining.clear()
                break
            html = render_row(request, _row(volume, servers or {}, images or {}))
            if html != remaining[volume_id]:
                last_sent = time.monotonic()
                yield _event("row", {"id": volume_id, "html": html})
            if volume.status in PASSING:
                remaining[volume_id] = html
            else:
                del remaining[volume_id]
        if not remaining:
            break
        if time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
            last_sent = time.monotonic()
            yield ": keepalive\n\n"
        await asyncio.sleep(POLL_SECONDS)
    yield _event("done", {})


@pages.get("/project/volumes/events")
async def volume_events(request: Request, cloud: Cloud) -> Response:
    return StreamingResponse(
        _follow(request, cloud, _ids(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
