"""The instances panel (Horizon's Project → Compute → Instances).

The list of the project's servers with their row actions (start, stop, reboot,
delete), the launch form, a server's detail page with its console log, and the
live part: rows of servers that are building or in a task are followed with
api's WatchServers (one stream for the page) and streamed to the page as
server-sent events, each row rendered by the same template as the page
(``instances_row.html``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from components.cli.output import enum_name
from components.dashboard.cloud import Cloud, ServiceError
from components.dashboard.web import TEMPLATES, Pages, flash, redirect, render, session_of
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.volume.v1 import volume_service_pb2 as volume_pb2

log = logging.getLogger(__name__)

pages = Pages()

LIST = "/project/instances"
# A live stream follows at most this many servers (WatchServers' limit), for at most this long.
MAX_WATCHED = 100
STREAM_SECONDS = 600.0
KEEPALIVE_SECONDS = 15.0
# The console shows the end of the log.
CONSOLE_LINES = 200
# The launch form makes at most this many servers at once.
MAX_COUNT = 10
SETTLED = ("ACTIVE", "SHUTOFF", "ERROR", "DELETED")


# ------------------------------------------------------------------ rows


def status_of(server: api_pb2.Server) -> str:
    return enum_name(server, "status")


def task_of(server: api_pb2.Server) -> str:
    """The task in progress, or "" when none."""
    return "" if server.task_state == 0 else enum_name(server, "task_state")


def in_motion(server: api_pb2.Server) -> bool:
    """Whether the server is still changing on its own (worth watching)."""
    return status_of(server) not in SETTLED or bool(task_of(server))


def actions_of(server: api_pb2.Server) -> list[str]:
    """The row actions the server's state allows (as the api's rules say)."""
    status, task = status_of(server), task_of(server)
    if task == "DELETING":
        return []
    actions = []
    if status == "ACTIVE" and not task:
        actions += ["stop", "reboot", "hard-reboot"]
    elif status == "SHUTOFF" and not task:
        actions += ["start", "hard-reboot"]
    elif status == "REBOOT" and task == "REBOOTING":
        actions += ["hard-reboot"]
    return [*actions, "delete"]


def addresses_of(server: api_pb2.Server) -> list[tuple[str, str]]:
    """(network, its IPs) per network, in the server's order."""
    found: dict[str, list[str]] = {}
    for address in server.addresses:
        found.setdefault(address.network_name or address.network_id, []).append(address.ip_address)
    return [(network, ", ".join(ips)) for network, ips in found.items()]


def when(ts) -> str:
    return ts.ToDatetime().strftime("%Y-%m-%d %H:%M:%S UTC") if ts.seconds else ""


def view_of(server: api_pb2.Server, images: dict[str, str]) -> dict[str, Any]:
    """What the templates show of one server."""
    return {
        "id": server.id,
        "name": server.name or server.id,
        "image": images.get(server.image_id, server.image_id),
        "flavor": server.flavor.name or server.flavor.id,
        "flavor_size": (
            f"{server.flavor.vcpus} vCPU, {server.flavor.ram_mib} MiB RAM, "
            f"{server.flavor.disk_gib} GiB disk"
        ),
        "addresses": addresses_of(server),
        "status": status_of(server),
        "task": task_of(server),
        "power": "" if server.power_state == 0 else enum_name(server, "power_state"),
        "zone": server.availability_zone,
        "host": server.host,
        "created": when(server.create_time),
        "updated": when(server.update_time),
        "key_name": server.key_name,
        "config_drive": server.config_drive,
        "volumes": [(v.volume_id, v.device) for v in server.volumes],
        "fault": server.fault
        if status_of(server) == "ERROR" and server.HasField("fault")
        else None,
        "actions": actions_of(server),
        "live": in_motion(server),
    }


def row_html(request: Request, server: api_pb2.Server, images: dict[str, str]) -> str:
    """One table row, as the list page renders it."""
    session = session_of(request)
    return TEMPLATES.get_template("instances_row.html").render(
        s=view_of(server, images),
        is_admin=bool(session and session.is_admin),
        csrf_token=session.csrf_token if session else "",
    )


async def image_names(cloud: Cloud) -> tuple[dict[str, str], str]:
    """Image id -> name, and "" or why the names could not be read: the servers are still
    listed (with image ids) when the image service is down."""
    try:
        listed = await cloud.every(cloud.images.ListImages, image_pb2.ListImagesRequest(), "images")
    except ServiceError as error:
        if error.signed_out:
            raise
        return {}, f"Image names are not shown: {error}"
    return {image.id: image.name or image.id for image in listed}, ""


# ------------------------------------------------------------------ list


@pages.get(LIST)
async def instances(request: Request, cloud: Cloud) -> Response:
    servers, (images, problem) = await asyncio.gather(
        cloud.every(cloud.servers.ListServers, api_pb2.ListServersRequest(), "servers"),
        image_names(cloud),
    )
    rows = [view_of(server, images) for server in servers]
    # The server an action was just taken on is followed even if it settled at once.
    acted = request.query_params.get("watch", "")
    watched = [r["id"] for r in rows if r["live"] or r["id"] == acted][:MAX_WATCHED]
    live_url = f"{LIST}/events?ids={','.join(watched)}" if watched else ""
    return render(
        request, "instances.html", title="Instances", rows=rows, live_url=live_url, problem=problem
    )


# ------------------------------------------------------------------ live rows


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


async def _watch(cloud: Cloud, ids: list[str], queue: asyncio.Queue) -> None:
    """Put each state of the servers on the queue (one WatchServers stream), then ("end",)."""
    try:
        async for reply in cloud.servers.WatchServers(
            api_pb2.WatchServersRequest(server_ids=ids), timeout=STREAM_SECONDS
        ):
            if reply.missing_server_id:
                await queue.put(("gone", reply.missing_server_id, None))
            elif status_of(reply.server) == "DELETED":
                await queue.put(("gone", reply.server.id, None))
            else:
                await queue.put(("row", reply.server.id, reply.server))
    except ServiceError as error:
        if error.code != grpc.StatusCode.DEADLINE_EXCEEDED:
            log.info("watching servers failed: %s", error)
    finally:
        await queue.put(("end", "", None))


async def _stream(request: Request, cloud: Cloud, ids: list[str]) -> AsyncIterator[str]:
    if not ids:
        yield _event("done", {})
        return
    images, _ = await image_names(cloud)
    queue: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(_watch(cloud, ids, queue))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_SECONDS
    try:
        while loop.time() < deadline:
            try:
                kind, server_id, server = await asyncio.wait_for(
                    queue.get(), timeout=KEEPALIVE_SECONDS
                )
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": keepalive\n\n"
                continue
            if kind == "end":
                break
            if kind == "gone":
                yield _event("gone", {"id": server_id})
            else:
                yield _event("row", {"id": server_id, "html": row_html(request, server, images)})
        yield _event("done", {})
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(task, return_exceptions=True)


@pages.get(f"{LIST}/events")
async def events(request: Request, cloud: Cloud) -> Response:
    ids = [i for i in request.query_params.get("ids", "").split(",") if i][:MAX_WATCHED]
    ids = list(dict.fromkeys(ids))
    return StreamingResponse(
        _stream(request, cloud, ids),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# ------------------------------------------------------------------ launch


async def _choices(cloud: Cloud, is_admin: bool) -> dict[str, Any]:
    """What the launch form offers: images, flavors, networks, volumes, key pairs, zones."""
    images, flavors, networks, volumes, keypairs = await asyncio.gather(
        cloud.every(cloud.images.ListImages, image_pb2.ListImagesRequest(), "images"),
        cloud.every(cloud.flavors.ListFlavors, api_pb2.ListFlavorsRequest(), "flavors"),
        cloud.every(cloud.network.ListNetworks, network_pb2.ListNetworksRequest(), "networks"),
        cloud.every(
            cloud.volumes.ListVolumes,
            volume_pb2.ListVolumesRequest(status=volume_pb2.Volume.STATUS_AVAILABLE),
            "volumes",
        ),
        cloud.every(cloud.keypairs.ListKeypairs, api_pb2.ListKeypairsRequest(), "keypairs"),
    )
    project = cloud.login.project.id if cloud.login else ""
    zones: list[str] = []
    if is_admin:  # ListHosts is admin only: others type a zone
        hosts = await cloud.every(cloud.hosts.ListHosts, scheduler_pb2.ListHostsRequest(), "hosts")
        zones = sorted({h.availability_zone for h in hosts if h.availability_zone})
    return {
        "images": [
            (i.id, i.name or i.id) for i in images if i.status == image_pb2.Image.STATUS_ACTIVE
        ],
        "flavors": [
            (f.id, f"{f.name} ({f.vcpus} vCPU, {f.ram_mib} MiB RAM, {f.disk_gib} GiB disk)")
            for f in flavors
        ],
        "networks": [
            (n.id, n.name or n.id, n.shared and n.project_id != project) for n in networks
        ],
        "volumes": [(v.id, f"{v.name or v.id} ({v.size_gib} GiB)") for v in volumes],
        "keypairs": [k.name for k in keypairs],
        "zones": zones,
    }


def _blank_form() -> dict[str, Any]:
    return {
        "name": "",
        "image_id": "",
        "flavor_id": "",
        "network_ids": [],
        "volume_ids": [],
        "count": "1",
        "availability_zone": "",
        "key_name": "",
        "user_data": "",
        "config_drive": False,
        "request_id": str(uuid.uuid4()),
    }


async def _launch_page(
    request: Request, cloud: Cloud, form: dict[str, Any], error: str = "", status_code: int = 200
) -> Response:
    session = session_of(request)
    choices = await _choices(cloud, bool(session and session.is_admin))
    return render(
        request,
        "instances_launch.html",
        status_code,
        title="Launch instance",
        form=form,
        error=error,
        max_count=MAX_COUNT,
        **choices,
    )


@pages.get(f"{LIST}/launch")
async def launch_form(request: Request, cloud: Cloud) -> Response:
    return await _launch_page(request, cloud, _blank_form())


def _count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"Count must be a whole number from 1 to {MAX_COUNT}.")
    return count


@pages.post(f"{LIST}/launch")
async def launch(request: Request, cloud: Cloud) -> Response:
    posted = await request.form()
    form = {
        **_blank_form(),
        **{
            key: str(posted.get(key, "")).strip()
            for key in ("name", "image_id", "flavor_id", "count", "availability_zone", "key_name")
        },
        "network_ids": [str(v) for v in posted.getlist("network_ids")],
        "volume_ids": [str(v) for v in posted.getlist("volume_ids")],
        "user_data": str(posted.get("user_data", "")),
        "config_drive": bool(posted.get("config_drive")),
        "request_id": str(posted.get("request_id", "")) or str(uuid.uuid4()),
    }
    try:
        count = _count(form["count"])
        if count > 1 and form["volume_ids"]:
            raise ValueError("A volume attaches to one instance: launch one to attach volumes.")
    except ValueError as exc:
        return await _launch_page(request, cloud, form, str(exc), 400)
    names = [form["name"]] if count == 1 else [f"{form['name']}-{i}" for i in range(1, count + 1)]
    made: list[str] = []
    for index, name in enumerate(names, start=1):
        try:
            await cloud.servers.CreateServer(
                api_pb2.CreateServerRequest(
                    name=name,
                    image_id=form["image_id"],
                    flavor_id=form["flavor_id"],
                    network_ids=form["network_ids"],
                    volume_ids=form["volume_ids"],
                    availability_zone=form["availability_zone"],
                    key_name=form["key_name"],
                    user_data=form["user_data"].encode(),
                    config_drive=form["config_drive"],
                    # A resubmitted form does not launch twice.
                    request_id=f"{form['request_id']}-{index}",
                )
            )
        except ServiceError as error:
            if error.signed_out:
                raise
            message = str(error)
            if made:
                message = f"Launched {', '.join(made)}; then {name} failed: {message}"
            status = 400 if error.code == grpc.StatusCode.INVALID_ARGUMENT else 409
            return await _launch_page(request, cloud, form, message, status)
        made.append(name)
    flash(request, "success", f"Launched instance {', '.join(made)}")
    return redirect(LIST)


# ------------------------------------------------------------------ detail


async def _server(cloud: Cloud, server_id: str) -> api_pb2.Server:
    return await cloud.servers.GetServer(api_pb2.GetServerRequest(server_id=server_id))


async def _console(cloud: Cloud, server_id: str) -> str:
    """The end of the console log, or why there is none (no host yet, host unreachable)."""
    try:
        reply = await cloud.servers.GetConsoleOutput(
            api_pb2.GetConsoleOutputRequest(server_id=server_id, length=CONSOLE_LINES)
        )
    except ServiceError as error:
        if error.code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAVAILABLE):
            return f"(No console log: {error})"
        raise
    return reply.output or "(The console log is empty.)"


@pages.get(f"{LIST}/{{server_id}}")
async def detail(request: Request, cloud: Cloud) -> Response:
    server_id = request.path_params["server_id"]
    server = await _server(cloud, server_id)
    images: dict[str, str] = {}
    with contextlib.suppress(ServiceError):  # a deleted image: show its id
        image = await cloud.images.GetImage(image_pb2.GetImageRequest(image_id=server.image_id))
        images[image.id] = image.name
    console = await _console(cloud, server_id)
    return render(
        request,
        "instances_detail.html",
        title=server.name or server.id,
        s=view_of(server, images),
        console=console,
    )


@pages.get(f"{LIST}/{{server_id}}/console")
async def console(request: Request, cloud: Cloud) -> Response:
    server_id = request.path_params["server_id"]
    server = await _server(cloud, server_id)
    text = await _console(cloud, server_id)
    headers = {} if status_of(server) == "BUILD" else {"X-Poll-Done": "1"}
    return PlainTextResponse(text, headers=headers)


# ------------------------------------------------------------------ actions


async def _act(request: Request, cloud: Cloud, action: str) -> Response:
    server_id = request.path_params["server_id"]
    servers = cloud.servers
    if action == "start":
        reply = await servers.StartServer(api_pb2.StartServerRequest(server_id=server_id))
        done = "Starting"
    elif action == "stop":
        reply = await servers.StopServer(api_pb2.StopServerRequest(server_id=server_id))
        done = "Stopping"
    elif action == "delete":
        reply = await servers.DeleteServer(api_pb2.DeleteServerRequest(server_id=server_id))
        done = "Deleting"
    else:
        hard = str((await request.form()).get("type", "")) == "hard"
        kind = api_pb2.RebootServerRequest
        reply = await servers.RebootServer(
            kind(
                server_id=server_id,
                reboot_type=kind.REBOOT_TYPE_HARD if hard else kind.REBOOT_TYPE_SOFT,
            )
        )
        done = "Hard rebooting" if hard else "Rebooting"
    flash(request, "success", f"{done} instance {reply.server.name or server_id}")
    # Back to the page the form was on (list or detail); the list follows this server live.
    next_page = str((await request.form()).get("next", ""))
    if next_page == "detail" and action != "delete":
        return redirect(f"{LIST}/{server_id}")
    return redirect(f"{LIST}?watch={server_id}")


for _action in ("start", "stop", "reboot", "delete"):

    async def _handler(request: Request, cloud: Cloud, action: str = _action) -> Response:
        return await _act(request, cloud, action)

    _handler.__name__ = f"{_action}_server"
    pages.post(f"{LIST}/{{server_id}}/{_action}")(_handler)
