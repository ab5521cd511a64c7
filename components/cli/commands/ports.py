"""``port`` commands: a server's network interfaces, made, changed and removed by hand."""

from __future__ import annotations

import click
from google.protobuf import field_mask_pb2

from components.cli import batch, resolve
from components.cli.output import Listing, Record, enum_name, formatted, when
from components.cli.session import Session, every
from stratus.network.v1 import network_service_pb2 as pb2
from stratus.network.v1 import network_service_pb2_grpc as pb2_grpc

# What --status accepts: every status but UNSPECIFIED, as ACTIVE, DOWN, ...
STATUSES = {
    name.removeprefix("STATUS_"): number
    for name, number in pb2.Port.Status.items()
    if number != pb2.Port.STATUS_UNSPECIFIED
}


def _stub(session: Session):
    return session.client("network", pb2_grpc.NetworkStub)


@click.group()
def port() -> None:
    """Ports: a server's network interfaces (MAC and fixed IPs)."""


def port_record(p: pb2.Port) -> Record:
    return Record(
        {
            "id": p.id,
            "name": p.name,
            "network_id": p.network_id,
            "mac_address": p.mac_address,
            "fixed_ips": [
                {"subnet_id": ip.subnet_id, "ip_address": ip.ip_address} for ip in p.fixed_ips
            ],
            "status": enum_name(p, "status"),
            "device_id": p.device_id,
            "device_owner": p.device_owner,
            "binding_host_id": p.binding_host_id,
            "project_id": p.project_id,
            "created": when(p.create_time),
            "updated": when(p.update_time),
        }
    )


def _fixed_ip(session: Session, text: str) -> pb2.Port.FixedIp:
    """``subnet=SUBNET,ip-address=IP`` (either or both) as a FixedIp, the subnet resolved."""
    fields = dict(part.partition("=")[::2] for part in text.split(","))
    if not fields.keys() <= {"subnet", "ip-address"} or not any(fields.values()):
        raise click.BadParameter(
            f"'{text}' is not subnet=SUBNET,ip-address=IP (either or both)",
            param_hint="--fixed-ip",
        )
    subnet = fields.get("subnet")
    return pb2.Port.FixedIp(
        subnet_id=resolve.subnet(session, subnet).id if subnet else "",
        ip_address=fields.get("ip-address", ""),
    )


@port.command("create")
@click.argument("name")
@click.option(
    "--network",
    "network_ref",
    required=True,
    metavar="NETWORK",
    help="Network to create the port on (name or id).",
)
@click.option(
    "--fixed-ip",
    "fixed_ips",
    multiple=True,
    metavar="subnet=SUBNET,ip-address=IP",
    help="Address to give the port: any free one of a subnet, a given one, or both "
    "(repeat; default: one per IP version of the network).",
)
@click.option("--mac-address", default="", metavar="MAC", help="MAC address (default: generated).")
@click.option("--device", default="", metavar="ID", help="What uses the port, e.g. a server id.")
@click.option(
    "--device-owner", default="", metavar="OWNER", help="Kind of --device, e.g. compute:nova."
)
@click.option("--host", default="", metavar="HOST", help="Compute host to bind the port to.")
@formatted
@click.pass_obj
def port_create(
    session: Session, name, network_ref, fixed_ips, mac_address, device, device_owner, host
) -> Record:
    """Create a port called NAME on --network."""
    network_id = resolve.network(session, network_ref).id
    created = _stub(session).CreatePort(
        pb2.CreatePortRequest(
            network_id=network_id,
            name=name,
            fixed_ips=[_fixed_ip(session, text) for text in fixed_ips],
            mac_address=mac_address,
            device_id=device,
            device_owner=device_owner,
            binding_host_id=host,
        )
    )
    return port_record(created)


@port.command("list")
@click.option(
    "--network", "network_ref", metavar="NETWORK", help="Only ports on this network (name or id)."
)
@click.option(
    "--server", "server_ref", metavar="SERVER", help="Only the ports of this server (name or id)."
)
@formatted
@click.pass_obj
def port_list(session: Session, network_ref, server_ref) -> Listing:
    """List the ports you can see."""
    request = pb2.ListPortsRequest(
        network_id=resolve.network(session, network_ref).id if network_ref else "",
        device_id=resolve.server(session, server_ref).id if server_ref else "",
    )
    rows = [
        [p.id, p.name, p.mac_address, [ip.ip_address for ip in p.fixed_ips], enum_name(p, "status")]
        for p in every(_stub(session).ListPorts, request, "ports")
    ]
    return Listing(["ID", "Name", "MAC Address", "Fixed IP Addresses", "Status"], rows)


@port.command("show")
@click.argument("port_ref", metavar="PORT")
@formatted
@click.pass_obj
def port_show(session: Session, port_ref) -> Record:
    """Show PORT (name or id)."""
    return port_record(resolve.port(session, port_ref))


@port.command("set")
@click.argument("port_ref", metavar="PORT")
@click.option("--name", help="New name.")
@click.option("--device", metavar="ID", help="What uses the port, e.g. a server id.")
@click.option("--device-owner", metavar="OWNER", help="Kind of --device, e.g. compute:nova.")
@click.option("--host", metavar="HOST", help="Compute host the port is bound to.")
@click.option(
    "--no-device",
    is_flag=True,
    help="Unbind the port: clear its device, device owner and host.",
)
@click.option(
    "--status",
    type=click.Choice(sorted(STATUSES), case_sensitive=False),
    help="Operational status (normally set by the compute host).",
)
@click.pass_obj
def port_set(session: Session, port_ref, name, device, device_owner, host, no_device, status):
    """Change PORT (name or id): its name, or what it is bound to.

    A port bound to one device cannot be bound to another: --no-device first.
    """
    changes: dict[str, object] = {}
    if no_device:
        if device or device_owner or host:
            raise click.UsageError(
                "--no-device cannot be given with --device, --device-owner or --host"
            )
        changes.update(device_id="", device_owner="", binding_host_id="")
    for field, value in (
        ("name", name),
        ("device_id", device),
        ("device_owner", device_owner),
        ("binding_host_id", host),
    ):
        if value is not None:
            changes[field] = value
    if status:
        changes["status"] = STATUSES[status.upper()]
    if not changes:
        raise click.UsageError("Nothing to change: give at least one option (see --help)")
    found = resolve.port(session, port_ref)
    _stub(session).UpdatePort(
        pb2.UpdatePortRequest(
            port=pb2.Port(id=found.id, **changes),
            update_mask=field_mask_pb2.FieldMask(paths=list(changes)),
        )
    )


@port.command("delete")
@click.argument("ports", nargs=-1, required=True, metavar="PORT...")
@click.pass_obj
def port_delete(session: Session, ports) -> None:
    """Delete ports (names or ids) and free their addresses."""
    stub = _stub(session)

    def delete(ref: str) -> None:
        stub.DeletePort(pb2.DeletePortRequest(port_id=resolve.port(session, ref).id))

    batch.each("port", ports, delete)


GROUPS = (port,)
