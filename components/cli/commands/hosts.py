"""Compute hosts as the scheduler knows them: ``compute service``, ``hypervisor``,
``availability zone`` (admin only: they all read the scheduler's ListHosts).

In Stratus a compute host runs one service, ``stratus-compute``, and one
hypervisor, both named after the host; the host's name is what every command
here takes.
"""

from __future__ import annotations

import click
from google.protobuf import field_mask_pb2

from components.cli import batch
from components.cli.errors import CliError
from components.cli.output import Listing, Record, enum_name, formatted, when
from components.cli.session import Session, every
from stratus.scheduler.v1 import scheduler_service_pb2 as pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as pb2_grpc

BINARY = "stratus-compute"
# What SERVICE may be called: ours, or nova's name for it (openstack muscle memory).
BINARIES = (BINARY, "nova-compute")


def _stub(session: Session):
    return session.client("scheduler", pb2_grpc.SchedulerStub)


def hosts(session: Session, zone: str = "") -> list[pb2.Host]:
    request = pb2.ListHostsRequest(availability_zone=zone)
    return list(every(_stub(session).ListHosts, request, "hosts"))


def host(session: Session, name: str) -> pb2.Host:
    """The host called ``name`` (hosts have names, not ids)."""
    for found in hosts(session):
        if found.name == name:
            return found
    raise CliError(f"No compute host named '{name}'")


def _status(h: pb2.Host) -> str:
    return "enabled" if h.enabled else "disabled"


def _state(h: pb2.Host) -> str:
    return enum_name(h, "state", lower=True)


# ---------------------------------------------------------------- compute service


@click.group()
def compute() -> None:
    """Compute: the hosts servers run on."""


@compute.group("service")
def service() -> None:
    """Compute services: the stratus-compute process of each host (admin only)."""


@service.command("list")
@click.option("--host", "host_name", metavar="HOST", help="Only this host's service.")
@click.option(
    "--service",
    "binary",
    metavar="SERVICE",
    help=f"Only services with this binary name (all are {BINARY}).",
)
@click.option("--long", "long_", is_flag=True, help="Also show why a service is disabled.")
@formatted
@click.pass_obj
def service_list(session: Session, host_name, binary, long_) -> Listing:
    """List the compute services: one per host, with status and heartbeat state."""
    columns = ["ID", "Binary", "Host", "Zone", "Status", "State", "Updated At"]
    rows = []
    for h in hosts(session):
        if (host_name and h.name != host_name) or (binary and binary not in BINARIES):
            continue
        row = [h.name, BINARY, h.name, h.availability_zone, _status(h), _state(h)]
        row.append(when(h.last_heartbeat_time))
        rows.append([*row, h.disabled_reason] if long_ else row)
    return Listing([*columns, "Disabled Reason"] if long_ else columns, rows)


@service.command("set")
@click.argument("host_name", metavar="HOST")
@click.argument("binary", metavar="[SERVICE]", required=False)
@click.option(
    "--enable/--disable",
    "enabled",
    default=None,
    help="Let the scheduler place new servers on the host, or stop it doing so.",
)
@click.option("--disable-reason", metavar="TEXT", help="Why the host is disabled (with --disable).")
@click.pass_obj
def service_set(session: Session, host_name, binary, enabled, disable_reason) -> None:
    """Enable or disable the compute service of HOST.

    SERVICE, if given, must be stratus-compute (or nova-compute). Servers
    already on a disabled host keep running; only new ones go elsewhere.
    """
    if binary is not None and binary not in BINARIES:
        raise click.BadParameter(f"a compute host runs only {BINARY}", param_hint="SERVICE")
    if enabled is None:
        raise click.UsageError("Give --enable or --disable")
    if disable_reason and enabled:
        raise click.UsageError("--disable-reason goes with --disable")
    _stub(session).UpdateHost(
        pb2.UpdateHostRequest(
            host=pb2.Host(name=host_name, enabled=enabled, disabled_reason=disable_reason or ""),
            update_mask=field_mask_pb2.FieldMask(paths=["enabled", "disabled_reason"]),
        )
    )


@service.command("delete")
@click.argument("host_names", nargs=-1, required=True, metavar="HOST...")
@click.pass_obj
def service_delete(session: Session, host_names) -> None:
    """Forget compute hosts that are gone for good.

    A host must be DOWN (stopped, and no heartbeat for a while) and hold no
    servers; one that starts again registers anew.
    """
    stub = _stub(session)

    def delete(name: str) -> None:
        stub.DeleteHost(pb2.DeleteHostRequest(name=name))

    batch.each("compute service", host_names, delete)


# ---------------------------------------------------------------- hypervisors


@click.group()
def hypervisor() -> None:
    """Hypervisors: each host's capacity and what servers use of it (admin only)."""


def hypervisor_record(h: pb2.Host) -> Record:
    return Record(
        {
            "id": h.name,
            "hypervisor_hostname": h.name,
            "hypervisor_type": h.hypervisor_type,
            "hypervisor_version": h.hypervisor_version,
            "cpu_arch": h.architecture,
            "host_address": h.address,
            "availability_zone": h.availability_zone,
            "state": _state(h),
            "status": _status(h),
            "disabled_reason": h.disabled_reason,
            "vcpus": h.vcpus,
            "vcpus_used": h.used_vcpus,
            "memory_mib": h.ram_mib,
            "memory_mib_used": h.used_ram_mib,
            "local_disk_gib": h.disk_gib,
            "local_disk_gib_used": h.used_disk_gib,
            "running_vms": h.instance_count,
            "updated": when(h.last_heartbeat_time),
            "created": when(h.create_time),
        }
    )


@hypervisor.command("list")
@click.option("--long", "long_", is_flag=True, help="Also show vCPUs and memory used and total.")
@formatted
@click.pass_obj
def hypervisor_list(session: Session, long_) -> Listing:
    """List the hypervisors: one per compute host."""
    columns = ["ID", "Hypervisor Hostname", "Hypervisor Type", "Host IP", "State"]
    rows = []
    for h in hosts(session):
        row = [h.name, h.name, h.hypervisor_type, h.address.rpartition(":")[0], _state(h)]
        if long_:
            row += [h.used_vcpus, h.vcpus, h.used_ram_mib, h.ram_mib]
        rows.append(row)
    if long_:
        columns += ["vCPUs Used", "vCPUs", "Memory MiB Used", "Memory MiB"]
    return Listing(columns, rows)


@hypervisor.command("show")
@click.argument("host_name", metavar="HYPERVISOR")
@formatted
@click.pass_obj
def hypervisor_show(session: Session, host_name) -> Record:
    """Show HYPERVISOR (its host's name): capacity, usage and state."""
    return hypervisor_record(host(session, host_name))


# ---------------------------------------------------------------- availability zones


@click.group()
def availability() -> None:
    """Availability zones."""


@availability.group("zone")
def zone() -> None:
    """Availability zones: groups of compute hosts to place servers in."""


@zone.command("list")
@click.option("--long", "long_", is_flag=True, help="One row per host of each zone.")
@formatted
@click.pass_obj
def zone_list(session: Session, long_) -> Listing:
    """List the zones of the compute hosts (admin only).

    A zone is available while any of its hosts is up and enabled.
    """
    found = hosts(session)
    if long_:
        rows = [
            [z, _zone_status(found, z), h.name, BINARY, f"{_status(h)}, {_state(h)}"]
            for h in found
            for z in [h.availability_zone]
        ]
        columns = ["Zone Name", "Zone Status", "Host Name", "Service Name", "Service Status"]
        return Listing(columns, rows)
    zones = sorted({h.availability_zone for h in found})
    return Listing(["Zone Name", "Zone Status"], [[z, _zone_status(found, z)] for z in zones])


def _zone_status(found: list[pb2.Host], zone_name: str) -> str:
    live = any(
        h.availability_zone == zone_name and h.enabled and h.state == pb2.Host.STATE_UP
        for h in found
    )
    return "available" if live else "not available"


GROUPS = (compute, hypervisor, availability)
