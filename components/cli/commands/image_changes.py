"""``image set``, ``image upload``, ``image deactivate`` and ``image reactivate``.

Verbs of the ``image`` group (images.py) that change an image after it was
created; the data of ``image upload`` goes through images.py's own streaming
upload, the same as ``image create --file``.
"""

from __future__ import annotations

from pathlib import Path

import click
from google.protobuf import field_mask_pb2

from components.cli import resolve
from components.cli.commands.flavors import parse_properties
from components.cli.commands.images import image, image_record, upload
from components.cli.output import Record, formatted
from components.cli.session import Session
from stratus.image.v1 import image_service_pb2 as pb2
from stratus.image.v1 import image_service_pb2_grpc as pb2_grpc


def _stub(session: Session):
    return session.client("image", pb2_grpc.ImagesStub)


def image_changes(
    name, public, min_disk, min_ram, properties, removed, protected
) -> tuple[pb2.Image, list[str]]:
    """The Image carrying the new values and the update mask naming them."""
    changed = pb2.Image()
    paths = []
    for field, value in (
        ("name", name),
        ("min_disk_gib", min_disk),
        ("min_ram_mib", min_ram),
        ("protected", protected),
    ):
        if value is not None:
            setattr(changed, field, value)
            paths.append(field)
    if public is not None:
        changed.visibility = pb2.Image.VISIBILITY_PUBLIC if public else pb2.Image.VISIBILITY_PRIVATE
        paths.append("visibility")
    added = parse_properties(properties)
    clash = sorted(set(added) & set(removed))
    if clash:
        raise click.UsageError(f"Property {clash[0]} is both set and removed")
    changed.properties.update(added)
    # One path per key: the others stay; a key named but absent is removed.
    paths += [f"properties.{key}" for key in [*added, *removed]]
    return changed, paths


@image.command("set")
@click.argument("image_ref", metavar="IMAGE")
@click.option("--name", help="New name.")
@click.option(
    "--public/--private",
    "public",
    default=None,
    help="Visible to every project (admin only) or only to the owner's.",
)
@click.option("--min-disk", type=click.IntRange(min=0), metavar="GIB", help="Smallest root disk.")
@click.option("--min-ram", type=click.IntRange(min=0), metavar="MIB", help="Least memory.")
@click.option(
    "--property",
    "properties",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a property, e.g. architecture=x86_64 (repeat for more).",
)
@click.option(
    "--remove-property",
    "removed",
    multiple=True,
    metavar="KEY",
    help="Remove a property (repeat for more).",
)
@click.option(
    "--protected/--unprotected",
    "protected",
    default=None,
    help="Protect the image from deletion, or lift that.",
)
@click.option("--deactivate", "state", flag_value="deactivate", help="Same as image deactivate.")
@click.option("--activate", "state", flag_value="reactivate", help="Same as image reactivate.")
@click.pass_obj
def image_set(
    session: Session,
    image_ref,
    name,
    public,
    min_disk,
    min_ram,
    properties,
    removed,
    protected,
    state,
) -> None:
    """Change IMAGE (name or id): name, visibility, minimums, properties, protection.

    Data, formats and status cannot be changed (but see --deactivate).
    """
    changed, paths = image_changes(name, public, min_disk, min_ram, properties, removed, protected)
    if not paths and not state:
        raise click.UsageError("Nothing to change: give at least one option (see --help)")
    found = resolve.image(session, image_ref)
    images = _stub(session)
    if paths:
        changed.id = found.id
        images.UpdateImage(
            pb2.UpdateImageRequest(image=changed, update_mask=field_mask_pb2.FieldMask(paths=paths))
        )
    if state == "deactivate":
        images.DeactivateImage(pb2.DeactivateImageRequest(image_id=found.id))
    elif state == "reactivate":
        images.ReactivateImage(pb2.ReactivateImageRequest(image_id=found.id))


@image.command("upload")
@click.argument("image_ref", metavar="IMAGE")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="The image data.",
)
@formatted
@click.pass_obj
def image_upload(session: Session, image_ref, path: Path) -> Record:
    """Upload the data of a QUEUED IMAGE (name or id) from --file.

    For an image made without --file, or whose upload failed (it is QUEUED
    again). The data is checked against its disk format and its MD5.
    """
    return image_record(upload(session, resolve.image(session, image_ref), path))


@image.command("deactivate")
@click.argument("image_ref", metavar="IMAGE")
@click.pass_obj
def image_deactivate(session: Session, image_ref) -> None:
    """Deactivate an ACTIVE IMAGE (name or id; admin only): no server boots from it."""
    found = resolve.image(session, image_ref)
    _stub(session).DeactivateImage(pb2.DeactivateImageRequest(image_id=found.id))


@image.command("reactivate")
@click.argument("image_ref", metavar="IMAGE")
@click.pass_obj
def image_reactivate(session: Session, image_ref) -> None:
    """Make a DEACTIVATED IMAGE (name or id) ACTIVE again (admin only)."""
    found = resolve.image(session, image_ref)
    _stub(session).ReactivateImage(pb2.ReactivateImageRequest(image_id=found.id))


GROUPS = (image,)
