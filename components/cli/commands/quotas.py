"""``quota show`` and ``quota set``: a project's compute and volume limits.

The compute limits (instances, cores, ram) live in the API service, the
volume limits (volumes, gigabytes) in the volume service; both commands speak
to both, under the names ``openstack quota`` uses. -1 means unlimited.
"""

from __future__ import annotations

import click
from google.protobuf import field_mask_pb2

from components.cli import resolve
from components.cli.output import Listing, Record, formatted
from components.cli.session import Session
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc

# openstack's name -> (service, the field UpdateQuota's mask names, what it limits).
LIMITS = {
    "instances": ("compute", "instances", "servers"),
    "cores": ("compute", "cores", "vCPUs of all servers"),
    "ram": ("compute", "ram_mib", "MiB of RAM of all servers"),
    "volumes": ("volume", "volumes_limit", "volumes"),
    "gigabytes": ("volume", "size_gib_limit", "GiB of all volumes"),
}


def _project_id(session: Session, ref: str | None) -> str:
    return resolve.project(session, ref).id if ref else session.login.project.id


def usage(session: Session, project_id: str) -> dict[str, tuple[int, int]]:
    """Every limit of the project as name -> (limit, in use)."""
    compute = session.client("api", api_grpc.QuotasStub).GetQuota(
        api_pb2.GetQuotaRequest(project_id=project_id)
    )
    volume = session.client("volume", volume_grpc.VolumesStub).GetQuota(
        volume_pb2.GetQuotaRequest(project_id=project_id)
    )
    return {
        "instances": (compute.instances.limit, compute.instances.in_use),
        "cores": (compute.cores.limit, compute.cores.in_use),
        "ram": (compute.ram_mib.limit, compute.ram_mib.in_use),
        "volumes": (volume.volumes_limit, volume.volumes_used),
        "gigabytes": (volume.size_gib_limit, volume.size_gib_used),
    }


@click.group()
def quota() -> None:
    """Quotas: how many servers, cores, RAM, volumes and GiB a project may have."""


@quota.command("show")
@click.argument("project_ref", metavar="[PROJECT]", required=False)
@click.option("--usage", "with_usage", is_flag=True, help="Show what is in use beside each limit.")
@formatted
@click.pass_obj
def quota_show(session: Session, project_ref, with_usage) -> Record | Listing:
    """Show the quota of PROJECT (name or id; default: yours). -1 means unlimited.

    Only admins may see another project's quota.
    """
    project_id = _project_id(session, project_ref)
    limits = usage(session, project_id)
    if with_usage:
        rows = [[name, limit, in_use] for name, (limit, in_use) in limits.items()]
        return Listing(["Resource", "Limit", "In Use"], rows)
    return Record({"project_id": project_id, **{n: limit for n, (limit, _) in limits.items()}})


def _limit_option(name: str):
    _, _, what = LIMITS[name]
    return click.option(
        f"--{name}",
        type=click.IntRange(min=-1),
        metavar="N",
        help=f"Most {what} (-1: unlimited).",
    )


@quota.command("set")
@click.argument("project_ref", metavar="PROJECT")
@_limit_option("instances")
@_limit_option("cores")
@_limit_option("ram")
@_limit_option("volumes")
@_limit_option("gigabytes")
@click.pass_obj
def quota_set(session: Session, project_ref, **given) -> None:
    """Set the limits of PROJECT (name or id; admin only).

    A limit below what is in use is accepted: nothing is removed, but nothing
    new is created until usage falls under it.
    """
    chosen = {name: value for name, value in given.items() if value is not None}
    if not chosen:
        raise click.UsageError("Nothing to change: give at least one limit (see --help)")
    project_id = resolve.project(session, project_ref).id
    compute = {LIMITS[n][1]: v for n, v in chosen.items() if LIMITS[n][0] == "compute"}
    volume = {LIMITS[n][1]: v for n, v in chosen.items() if LIMITS[n][0] == "volume"}
    if compute:
        session.client("api", api_grpc.QuotasStub).UpdateQuota(
            api_pb2.UpdateQuotaRequest(
                project_id=project_id,
                update_mask=field_mask_pb2.FieldMask(paths=list(compute)),
                **compute,
            )
        )
    if volume:
        session.client("volume", volume_grpc.VolumesStub).UpdateQuota(
            volume_pb2.UpdateQuotaRequest(
                quota=volume_pb2.Quota(project_id=project_id, **volume),
                update_mask=field_mask_pb2.FieldMask(paths=list(volume)),
            )
        )


GROUPS = (quota,)
