"""``limits show --absolute``: a project's limits and usage, named as ``openstack`` names them."""

from __future__ import annotations

import click

from components.cli import resolve
from components.cli.commands.quotas import usage
from components.cli.output import Listing, formatted
from components.cli.session import Session

# Quota name -> (the limit's absolute-limits name, the usage's name), nova's then cinder's.
ABSOLUTE = {
    "instances": ("maxTotalInstances", "totalInstancesUsed"),
    "cores": ("maxTotalCores", "totalCoresUsed"),
    "ram": ("maxTotalRAMSize", "totalRAMUsed"),
    "volumes": ("maxTotalVolumes", "totalVolumesUsed"),
    "gigabytes": ("maxTotalVolumeGigabytes", "totalGigabytesUsed"),
}


@click.group()
def limits() -> None:
    """Limits: what a project may still create."""


@limits.command("show")
@click.option(
    "--absolute",
    is_flag=True,
    help="Show absolute limits: each quota and its usage (the default, and all there is).",
)
@click.option(
    "--project",
    "project_ref",
    metavar="PROJECT",
    help="Another project's limits (name or id; admin only). Default: yours.",
)
@formatted
@click.pass_obj
def limits_show(session: Session, absolute, project_ref) -> Listing:
    """Show the absolute limits: compute and volume quota, and usage, of a project.

    RAM is in MiB, gigabytes in GiB; -1 means unlimited. Stratus has no rate limits.
    """
    project_id = resolve.project(session, project_ref).id if project_ref else ""
    current = usage(session, project_id or session.login.project.id)
    rows = []
    for name, (limit_name, used_name) in ABSOLUTE.items():
        limit, in_use = current[name]
        rows += [[limit_name, limit], [used_name, in_use]]
    return Listing(["Name", "Value"], rows)


GROUPS = (limits,)
