"""``server`` and ``console log`` commands, with ``--wait`` following WatchServer."""

from __future__ import annotations

import logging

import click
import grpc

from components.cli import batch, progress, resolve
from components.cli.commands.flavors import parse_properties
from components.cli.commands.server_ssh import server_ssh
from components.cli.errors import CliError, Interrupted, RemoteError
from components.cli.output import Listing, Record, enum_name, formatted, when
from components.cli.session import Session, every
from stratus.api.v1 import api_service_pb2 as pb2
from stratus.api.v1 import api_service_pb2_grpc as pb2_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.type.v1 import instance_state_pb2

log = logging.getLogger(__name__)
Server = pb2.Server
LISTABLE = [n.removeprefix("STATUS_") for n, number in Server.Status.items() if number]
WAIT_HELP = "Wait until the server settles, showing its progress; fail if it goes to ERROR."


def _servers(session: Session):
    return session.client("api", pb2_grpc.ServersStub)


@click.group()
def server() -> None:
    """Servers: virtual machines."""


server.add_command(server_ssh)


# ---------------------------------------------------------------- views


def state(s: Server) -> str:
    """``BUILD (spawning)``: the status with the task in progress, if any."""
    if s.task_state == instance_state_pb2.TASK_STATE_UNSPECIFIED:
        return enum_name(s, "status")
    return f"{enum_name(s, 'status')} ({enum_name(s, 'task_state').lower().replace('_', ' ')})"


def addresses(s: Server) -> dict[str, list[str]]:
    """Network name -> fixed IPs, as OSC shows them (``private=10.0.0.5``)."""
    result: dict[str, list[str]] = {}
    for address in s.addresses:
        result.setdefault(address.network_name or address.network_id, []).append(address.ip_address)
    return result


def image_names(session: Session) -> dict[str, str]:
    """Id -> name of every image the caller can see (one listing, for server list).

    Names are only for display: if the image service fails, ids are shown instead.
    """
    images = session.client("image", image_grpc.ImagesStub)
    try:
        listed = every(images.ListImages, image_pb2.ListImagesRequest(), "images")
        return {i.id: i.name for i in listed}
    except RemoteError as exc:
        log.debug("image names unavailable: %s", exc.debug_line())
        return {}


def image_name(session: Session, image_id: str) -> str | None:
    """The image's name; None if it is gone, not visible or cannot be read now."""
    images = session.client("image", image_grpc.ImagesStub)
    try:
        return images.GetImage(image_pb2.GetImageRequest(image_id=image_id)).name
    except RemoteError as exc:
        log.debug("image %s name unavailable: %s", image_id, exc.debug_line())
        return None


def server_record(session: Session, s: Server) -> Record:
    fault = f"{s.fault.message} (code {s.fault.code})" if s.fault.message else None
    return Record(
        {
            "id": s.id,
            "name": s.name,
            "status": enum_name(s, "status"),
            "task_state": _task(s),
            "vm_state": enum_name(s, "vm_state").lower(),
            "power_state": enum_name(s, "power_state").lower(),
            "flavor": s.flavor.name,
            "flavor_id": s.flavor.id,
            "image": image_name(session, s.image_id) if s.image_id else None,
            "image_id": s.image_id,
            "addresses": addresses(s),
            "volumes": [{"volume_id": v.volume_id, "device": v.device} for v in s.volumes],
            "host": s.host or None,
            "availability_zone": s.availability_zone,
            "fault": fault,
            "metadata": dict(sorted(s.metadata.items())),
            "key_name": s.key_name or None,
            "config_drive": s.config_drive,
            "project_id": s.project_id,
            "user_id": s.user_id,
            "created": when(s.create_time),
            "updated": when(s.update_time),
            "launched": when(s.launched_time),
        }
    )


# ---------------------------------------------------------------- waiting


def follow(session: Session, s: Server, gone_ok: bool = False) -> Server | None:
    """Follow WatchServer until the server settles; its last state (None once deleted).

    Ctrl-C stops the waiting, not the server: the command says so, tells how to
    follow it again, and exits with status 130.
    """
    label = f"Server {s.name or s.id}"
    last = s
    with progress.waiting(label) as show:
        show(state(s))
        try:
            request = pb2.WatchServerRequest(server_id=s.id)
            for reply in _servers(session).WatchServer(request, timeout=session.wait_timeout):
                last = reply.server
                show(state(last))
        except KeyboardInterrupt:
            raise Interrupted(
                f"Stopped waiting; server {last.name or last.id} is still {state(last)} and "
                f"carries on without the CLI. Follow it with: stratus server show --wait "
                f"{last.id}"
            ) from None
        except RemoteError as exc:
            if gone_ok and exc.code == grpc.StatusCode.NOT_FOUND:
                return None
            if exc.code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise CliError(
                    f"Gave up after {session.wait_timeout:g} s (--wait-timeout): "
                    f"server {s.name or s.id} is still {state(last)}"
                ) from None
            raise
    if last.status == Server.STATUS_ERROR:
        reason = last.fault.message or "no fault recorded"
        raise CliError(f"Server {last.name or last.id} ({last.id}) went to ERROR: {reason}")
    return None if last.status == Server.STATUS_DELETED else last


# ---------------------------------------------------------------- commands


@server.command("create")
@click.argument("name")
@click.option(
    "--flavor",
    "flavor_ref",
    required=True,
    metavar="FLAVOR",
    help="Size of the server: a flavor name or id (see `flavor list`).",
)
@click.option(
    "--image",
    "image_ref",
    required=True,
    metavar="IMAGE",
    help="Image to boot from: a name or id (see `image list`).",
)
@click.option(
    "--network",
    "network_refs",
    multiple=True,
    metavar="NETWORK",
    help="Attach an interface on this network, name or id (repeat for more, in order).",
)
@click.option(
    "--port",
    "port_refs",
    multiple=True,
    metavar="PORT",
    help="Attach an interface on this unbound port, name or id, after the --network ones "
    "(repeat); deleting the server unbinds it.",
)
@click.option(
    "--volume",
    "volume_refs",
    multiple=True,
    metavar="VOLUME",
    help="Attach this available volume, name or id, as vdb, vdc, ... (repeat).",
)
@click.option(
    "--property",
    "properties",
    multiple=True,
    metavar="KEY=VALUE",
    help="Metadata to keep with the server (repeat for more).",
)
@click.option(
    "--availability-zone",
    default="",
    metavar="ZONE[:HOST]",
    help="Build in this availability zone (default: any); ZONE:HOST also picks the host "
    "(admins only, as in Nova).",
)
@click.option(
    "--key-name",
    default="",
    metavar="NAME",
    help="Give the guest the public key of this key pair of yours (see `keypair list`), "
    "on a config drive.",
)
@click.option(
    "--user-data",
    type=click.File("rb"),
    metavar="FILE",
    help="Give the guest this file (at most 64 KiB; - reads standard input) as its "
    "user data (cloud-init), on a config drive.",
)
@click.option(
    "--config-drive",
    is_flag=True,
    help="Give the guest a config drive (always given with --key-name or --user-data).",
)
@click.option("--wait", is_flag=True, help=WAIT_HELP)
@formatted
@click.pass_obj
def server_create(
    session: Session,
    name,
    flavor_ref,
    image_ref,
    network_refs,
    port_refs,
    volume_refs,
    properties,
    availability_zone,
    key_name,
    user_data,
    config_drive,
    wait,
) -> Record:
    """Create a server called NAME.

    It is answered at once in BUILD; --wait follows it until ACTIVE or ERROR.
    """
    request = pb2.CreateServerRequest(
        name=name,
        flavor_id=resolve.flavor(session, flavor_ref).id,
        image_id=resolve.image(session, image_ref).id,
        network_ids=[resolve.network(session, ref).id for ref in network_refs],
        port_ids=[resolve.port(session, ref).id for ref in port_refs],
        volume_ids=[resolve.volume(session, ref).id for ref in volume_refs],
        metadata=parse_properties(properties),
        availability_zone=availability_zone,
        key_name=key_name,
        user_data=user_data.read() if user_data is not None else b"",
        config_drive=config_drive,
    )
    created = _servers(session).CreateServer(request)
    if wait:
        created = follow(session, created) or created
    return server_record(session, created)


@server.command("list")
@click.option(
    "--name",
    help="Only servers whose name contains this text, ignoring case (a plain substring, "
    "not a regular expression).",
)
@click.option(
    "--status",
    type=click.Choice(LISTABLE, case_sensitive=False),
    help="Only servers with this status.",
)
@click.option("--host", metavar="HOST", help="Only servers on this compute host (admin only).")
@click.option("--all-projects", is_flag=True, help="Servers of every project (admin only).")
@click.option(
    "--long",
    "long_",
    is_flag=True,
    help="Also show task and power state, availability zone and host (host: admin only).",
)
@formatted
@click.pass_obj
def server_list(session: Session, name, status, host, all_projects, long_) -> Listing:
    """List servers, newest first; the filters are applied by the api service."""
    request = pb2.ListServersRequest(
        name_contains=name or "",
        status=Server.Status.Value(f"STATUS_{status.upper()}") if status else 0,
        host=host or "",
        all_projects=all_projects,
    )
    found = list(every(_servers(session).ListServers, request, "servers"))
    names = image_names(session) if found else {}
    columns = ["ID", "Name", "Status", "Networks", "Image", "Flavor"]
    rows = [_list_row(s, names) for s in found]
    if long_:
        columns = [*columns[:3], "Task State", "Power State", *columns[3:]]
        columns += ["Availability Zone", "Host"]
        rows = [
            [
                *row[:3],
                _task(s) or "",
                enum_name(s, "power_state").lower(),
                *row[3:],
                s.availability_zone,
                s.host,
            ]
            for row, s in zip(rows, found, strict=True)
        ]
    return Listing(columns, rows)


def _list_row(s: Server, image_names_: dict[str, str]) -> list:
    return [
        s.id,
        s.name,
        enum_name(s, "status"),
        addresses(s),
        image_names_.get(s.image_id, s.image_id),
        s.flavor.name,
    ]


def _task(s: Server) -> str | None:
    if s.task_state == instance_state_pb2.TASK_STATE_UNSPECIFIED:
        return None
    return enum_name(s, "task_state").lower()


def find_server(session: Session, ref: str, all_projects: bool = False) -> Server:
    """The server named or numbered ``ref``; with ``all_projects`` (admin) in any project."""
    if not all_projects:
        return resolve.server(session, ref)
    servers = _servers(session)
    return resolve.find(
        "server",
        ref,
        lambda i: servers.GetServer(pb2.GetServerRequest(server_id=i)),
        lambda n: every(
            servers.ListServers, pb2.ListServersRequest(name=n, all_projects=True), "servers"
        ),
    )


@server.command("show")
@click.argument("server_ref", metavar="SERVER")
@click.option(
    "--all-projects",
    is_flag=True,
    help="Look the name up in every project, not only yours (admin only).",
)
@click.option("--wait", is_flag=True, help=WAIT_HELP)
@formatted
@click.pass_obj
def server_show(session: Session, server_ref, all_projects, wait) -> Record:
    """Show SERVER (name or id); --wait follows it until it settles first."""
    found = find_server(session, server_ref, all_projects)
    if wait:
        found = follow(session, found) or found
    return server_record(session, found)


@server.command("delete")
@click.argument("server_refs", nargs=-1, required=True, metavar="SERVER...")
@click.option("--wait", is_flag=True, help="Wait until each server is gone.")
@click.pass_obj
def server_delete(session: Session, server_refs, wait) -> None:
    """Delete servers (names or ids) and everything allocated for them."""
    servers = _servers(session)

    def delete(ref: str) -> None:
        found = resolve.server(session, ref)
        reply = servers.DeleteServer(pb2.DeleteServerRequest(server_id=found.id))
        if wait and reply.server.status != Server.STATUS_DELETED:
            follow(session, reply.server, gone_ok=True)

    batch.each("server", server_refs, delete)


def _power(session: Session, refs, wait: bool, verb: str, call) -> None:
    """Run ``call(server_id)`` (a Stop/Start/Reboot reply) for each server, maybe waiting."""

    def act(ref: str) -> None:
        reply = call(resolve.server(session, ref).id)
        if wait:
            follow(session, reply.server)

    batch.each("server", refs, act, verb=verb)


@server.command("stop")
@click.argument("server_refs", nargs=-1, required=True, metavar="SERVER...")
@click.option("--wait", is_flag=True, help=WAIT_HELP)
@click.pass_obj
def server_stop(session: Session, server_refs, wait) -> None:
    """Power servers off (SHUTOFF).

    A server that is already stopped is an error (as in Nova), not silently
    skipped.
    """
    servers = _servers(session)
    _power(
        session,
        server_refs,
        wait,
        "stop",
        lambda i: servers.StopServer(pb2.StopServerRequest(server_id=i)),
    )


@server.command("start")
@click.argument("server_refs", nargs=-1, required=True, metavar="SERVER...")
@click.option("--wait", is_flag=True, help=WAIT_HELP)
@click.pass_obj
def server_start(session: Session, server_refs, wait) -> None:
    """Power stopped servers on (ACTIVE).

    A server that is already running is an error (as in Nova), not silently
    skipped.
    """
    servers = _servers(session)
    _power(
        session,
        server_refs,
        wait,
        "start",
        lambda i: servers.StartServer(pb2.StartServerRequest(server_id=i)),
    )


@server.command("reboot")
@click.argument("server_refs", nargs=-1, required=True, metavar="SERVER...")
@click.option(
    "--hard",
    is_flag=True,
    help="Power the guest off and on (also works on a SHUTOFF server); "
    "default: ask the guest OS to restart.",
)
@click.option("--wait", is_flag=True, help=WAIT_HELP)
@click.pass_obj
def server_reboot(session: Session, server_refs, hard, wait) -> None:
    """Reboot servers (REBOOT, then ACTIVE)."""
    servers = _servers(session)
    kind = (
        pb2.RebootServerRequest.REBOOT_TYPE_HARD
        if hard
        else (pb2.RebootServerRequest.REBOOT_TYPE_SOFT)
    )
    _power(
        session,
        server_refs,
        wait,
        "reboot",
        lambda i: servers.RebootServer(pb2.RebootServerRequest(server_id=i, reboot_type=kind)),
    )


# ---------------------------------------------------------------- console


@click.group()
def console() -> None:
    """A server's consoles."""


@console.group("log")
def console_log() -> None:
    """A server's serial console log."""


@console_log.command("show")
@click.argument("server_ref", metavar="SERVER")
@click.option(
    "--lines",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Only the last N lines (default: the whole log).",
)
@click.pass_obj
def console_log_show(session: Session, server_ref, lines) -> None:
    """Print the serial console log of SERVER (name or id)."""
    found = resolve.server(session, server_ref)
    reply = _servers(session).GetConsoleOutput(
        pb2.GetConsoleOutputRequest(server_id=found.id, length=lines)
    )
    click.echo(reply.output, nl=not reply.output.endswith("\n") and bool(reply.output))


GROUPS = (server, console)
