"""``flavor`` commands: the sizes servers are created with."""

from __future__ import annotations

import click

from components.cli import batch, resolve
from components.cli.output import Listing, Record, formatted, when
from components.cli.session import Session, every
from stratus.api.v1 import api_service_pb2 as pb2
from stratus.api.v1 import api_service_pb2_grpc as pb2_grpc


def parse_properties(pairs: tuple[str, ...], option: str = "--property") -> dict[str, str]:
    """``KEY=VALUE`` pairs as a dict (a pair without ``=`` is a usage error)."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint=option)
        result[key] = value
    return result


@click.group()
def flavor() -> None:
    """Flavors: named server sizes (vCPUs, RAM, disk)."""


def flavor_record(f: pb2.Flavor) -> Record:
    return Record(
        {
            "id": f.id,
            "name": f.name,
            "vcpus": f.vcpus,
            "ram_mib": f.ram_mib,
            "disk_gib": f.disk_gib,
            "is_public": f.is_public,
            "properties": dict(sorted(f.extra_specs.items())),
            "created": when(f.create_time),
        }
    )


@flavor.command("create")
@click.argument("name")
@click.option(
    "--vcpus",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Number of virtual CPUs.",
)
@click.option(
    "--ram",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    metavar="MIB",
    help="Memory in MiB.",
)
@click.option(
    "--disk",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="GIB",
    help="Root disk size in GiB.",
)
@click.option(
    "--public/--private",
    "is_public",
    default=True,
    show_default=True,
    help="Whether every project may use it (private: admin only).",
)
@click.option(
    "--property",
    "properties",
    multiple=True,
    metavar="KEY=VALUE",
    help="Extra spec for the compute host, e.g. hw:cpu_policy=dedicated (repeat).",
)
@formatted
@click.pass_obj
def flavor_create(session: Session, name, vcpus, ram, disk, is_public, properties) -> Record:
    """Create a flavor called NAME (admin only)."""
    stub = session.client("api", pb2_grpc.FlavorsStub)
    created = stub.CreateFlavor(
        pb2.CreateFlavorRequest(
            name=name,
            vcpus=vcpus,
            ram_mib=ram,
            disk_gib=disk,
            is_public=is_public,
            extra_specs=parse_properties(properties),
        )
    )
    return flavor_record(created)


@flavor.command("list")
@formatted
@click.pass_obj
def flavor_list(session: Session) -> Listing:
    """List flavors, smallest RAM first."""
    stub = session.client("api", pb2_grpc.FlavorsStub)
    rows = [
        [f.id, f.name, f.ram_mib, f.disk_gib, f.vcpus, f.is_public]
        for f in every(stub.ListFlavors, pb2.ListFlavorsRequest(), "flavors")
    ]
    return Listing(["ID", "Name", "RAM", "Disk", "VCPUs", "Is Public"], rows)


@flavor.command("show")
@click.argument("flavor_ref", metavar="FLAVOR")
@formatted
@click.pass_obj
def flavor_show(session: Session, flavor_ref) -> Record:
    """Show FLAVOR (name or id)."""
    return flavor_record(resolve.flavor(session, flavor_ref))


@flavor.command("delete")
@click.argument("flavors", nargs=-1, required=True, metavar="FLAVOR...")
@click.pass_obj
def flavor_delete(session: Session, flavors) -> None:
    """Delete flavors (names or ids; admin only). Existing servers keep their size."""
    stub = session.client("api", pb2_grpc.FlavorsStub)

    def delete(ref: str) -> None:
        stub.DeleteFlavor(pb2.DeleteFlavorRequest(flavor_id=resolve.flavor(session, ref).id))

    batch.each("flavor", flavors, delete)


GROUPS = (flavor,)
