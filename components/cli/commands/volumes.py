"""``volume`` commands: block storage servers attach."""

from __future__ import annotations

import time

import click

from components.cli import batch, progress, resolve
from components.cli.errors import CliError
from components.cli.output import Listing, Record, enum_name, formatted, when
from components.cli.session import Session, every
from stratus.volume.v1 import volume_service_pb2 as pb2
from stratus.volume.v1 import volume_service_pb2_grpc as pb2_grpc

# Statuses a volume only passes through; --wait waits while it is in one.
BUSY = {
    pb2.Volume.STATUS_CREATING,
    pb2.Volume.STATUS_ATTACHING,
    pb2.Volume.STATUS_DETACHING,
    pb2.Volume.STATUS_EXTENDING,
    pb2.Volume.STATUS_DELETING,
}
POLL_SECONDS = 0.5


def _stub(session: Session):
    return session.client("volume", pb2_grpc.VolumesStub)


@click.group()
def volume() -> None:
    """Volumes: block storage to attach to servers."""


def volume_record(v: pb2.Volume) -> Record:
    return Record(
        {
            "id": v.id,
            "name": v.name,
            "description": v.description,
            "size_gib": v.size_gib,
            "status": enum_name(v, "status"),
            "source_image_id": v.source_image_id,
            "attachments": [
                {"server_id": a.instance_id, "device": a.device, "host": a.host}
                for a in v.attachments
            ],
            "reserved_for": v.reserved_instance_id,
            "project_id": v.project_id,
            "created": when(v.create_time),
            "updated": when(v.update_time),
        }
    )


def settle(session: Session, v: pb2.Volume) -> pb2.Volume:
    """Poll the volume until it leaves the busy statuses (or --wait-timeout passes)."""
    stub = _stub(session)
    deadline = time.monotonic() + session.wait_timeout
    with progress.waiting(f"Volume {v.name or v.id}") as show:
        while v.status in BUSY:
            show(enum_name(v, "status"))
            if time.monotonic() > deadline:
                raise CliError(
                    f"Gave up after {session.wait_timeout:g} s: volume {v.id} is still "
                    f"{enum_name(v, 'status')}"
                )
            time.sleep(POLL_SECONDS)
            v = stub.GetVolume(pb2.GetVolumeRequest(volume_id=v.id))
        show(enum_name(v, "status"))
    if v.status == pb2.Volume.STATUS_ERROR:
        raise CliError(f"Volume {v.name or v.id} ({v.id}) went to ERROR")
    return v


@volume.command("create")
@click.argument("name")
@click.option(
    "--size", type=click.IntRange(min=1), required=True, metavar="GIB", help="Size in GiB."
)
@click.option(
    "--image",
    "image_ref",
    metavar="IMAGE",
    help="Copy this image (name or id) into the volume; without it, a blank one.",
)
@click.option("--description", default="", help="Free text, at most 255 characters.")
@click.option(
    "--wait",
    is_flag=True,
    help="Wait until the volume is AVAILABLE (copying an image takes a while).",
)
@formatted
@click.pass_obj
def volume_create(session: Session, name, size, image_ref, description, wait) -> Record:
    """Create a volume called NAME of --size GiB."""
    image_id = resolve.image(session, image_ref).id if image_ref else ""
    created = _stub(session).CreateVolume(
        pb2.CreateVolumeRequest(
            name=name, size_gib=size, image_id=image_id, description=description
        )
    )
    return volume_record(settle(session, created) if wait else created)


@volume.command("list")
@formatted
@click.pass_obj
def volume_list(session: Session) -> Listing:
    """List your project's volumes."""
    stub = _stub(session)
    rows = [
        [
            v.id,
            v.name,
            enum_name(v, "status"),
            v.size_gib,
            [f"{a.instance_id} on {a.device}" for a in v.attachments],
        ]
        for v in every(stub.ListVolumes, pb2.ListVolumesRequest(), "volumes")
    ]
    return Listing(["ID", "Name", "Status", "Size", "Attached to"], rows)


@volume.command("show")
@click.argument("volume_ref", metavar="VOLUME")
@formatted
@click.pass_obj
def volume_show(session: Session, volume_ref) -> Record:
    """Show VOLUME (name or id)."""
    return volume_record(resolve.volume(session, volume_ref))


@volume.command("delete")
@click.argument("volumes", nargs=-1, required=True, metavar="VOLUME...")
@click.pass_obj
def volume_delete(session: Session, volumes) -> None:
    """Delete volumes (names or ids).

    A volume must be AVAILABLE or ERROR (not attached to a server).
    """
    stub = _stub(session)

    def delete(ref: str) -> None:
        stub.DeleteVolume(pb2.DeleteVolumeRequest(volume_id=resolve.volume(session, ref).id))

    batch.each("volume", volumes, delete)


@volume.command("extend")
@click.argument("volume_ref", metavar="VOLUME")
@click.option(
    "--size",
    type=click.IntRange(min=1),
    required=True,
    metavar="GIB",
    help="New size in GiB, larger than the current one.",
)
@click.option("--wait", is_flag=True, help="Wait until the volume is AVAILABLE at the new size.")
@formatted
@click.pass_obj
def volume_extend(session: Session, volume_ref, size, wait) -> Record:
    """Grow VOLUME (name or id) to --size GiB; its data is kept.

    The volume must be AVAILABLE (detached); the added GiB count against the quota.
    """
    found = resolve.volume(session, volume_ref)
    reply = _stub(session).ExtendVolume(
        pb2.ExtendVolumeRequest(volume_id=found.id, new_size_gib=size)
    )
    return volume_record(settle(session, reply.volume) if wait else reply.volume)


GROUPS = (volume,)
