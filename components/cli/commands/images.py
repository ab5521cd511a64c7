"""``image`` commands: records, and their data streamed up and down with a progress bar."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import click

from components.cli import batch, progress, resolve, streams
from components.cli.commands.flavors import parse_properties
from components.cli.errors import CliError
from components.cli.output import Listing, Record, enum_name, formatted, when
from components.cli.session import TRANSFER_SECONDS, Session, every
from stratus.image.v1 import image_service_pb2 as pb2
from stratus.image.v1 import image_service_pb2_grpc as pb2_grpc

CHUNK_BYTES = 1024 * 1024  # the contract's largest chunk
DISK_FORMATS = {"raw": pb2.Image.DISK_FORMAT_RAW, "qcow2": pb2.Image.DISK_FORMAT_QCOW2}
STATUSES = {
    name: number
    for name, number in pb2.Image.Status.items()
    if number not in (pb2.Image.STATUS_UNSPECIFIED, pb2.Image.STATUS_DELETED)
}


@click.group()
def image() -> None:
    """Images: the disks servers boot from."""


def image_record(i: pb2.Image) -> Record:
    return Record(
        {
            "id": i.id,
            "name": i.name,
            "status": enum_name(i, "status"),
            "disk_format": enum_name(i, "disk_format", lower=True),
            "container_format": enum_name(i, "container_format", lower=True),
            "visibility": enum_name(i, "visibility", lower=True),
            "protected": i.protected,
            "size_bytes": i.size_bytes,
            "virtual_size_bytes": i.virtual_size_bytes,
            "checksum": i.checksum,
            "os_hash_algo": i.os_hash_algo,
            "os_hash_value": i.os_hash_value,
            "min_disk_gib": i.min_disk_gib,
            "min_ram_mib": i.min_ram_mib,
            "properties": dict(sorted(i.properties.items())),
            "project_id": i.project_id,
            "created": when(i.create_time),
            "updated": when(i.update_time),
        }
    )


def _chunks(header: pb2.UploadImageHeader, path: Path, md5, advance) -> Iterator:
    """The UploadImage requests: the header, then the file read and hashed ahead of gRPC."""
    yield pb2.UploadImageRequest(header=header)
    for chunk in streams.read_ahead(path, CHUNK_BYTES, md5.update):
        advance(len(chunk))
        yield pb2.UploadImageRequest(chunk=chunk)


def upload(session: Session, created: pb2.Image, path: Path) -> pb2.Image:
    """Stream the file into the QUEUED image; check the MD5 the service computed."""
    images = session.client("image", pb2_grpc.ImagesStub)
    size = path.stat().st_size
    header = pb2.UploadImageHeader(image_id=created.id, size_bytes=size)
    md5 = hashlib.md5(usedforsecurity=False)
    with progress.transfer(f"Uploading {path.name}", size) as advance:
        uploaded = images.UploadImage(_chunks(header, path, md5, advance), timeout=TRANSFER_SECONDS)
    if uploaded.checksum != md5.hexdigest():
        raise CliError(
            f"Image {created.id} was stored with MD5 {uploaded.checksum} "
            f"but {path} has {md5.hexdigest()}"
        )
    return uploaded


@image.command("create")
@click.argument("name")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="Upload the image data from this file (without it the image stays QUEUED).",
)
@click.option(
    "--disk-format",
    type=click.Choice(sorted(DISK_FORMATS), case_sensitive=False),
    default="raw",
    show_default=True,
    help="Format of the data: raw, or qcow2 (checked on upload).",
)
@click.option(
    "--container-format",
    type=click.Choice(["bare"]),
    default="bare",
    show_default=True,
    help="Container of the data; only bare (none) exists.",
)
@click.option(
    "--public/--private",
    "public",
    default=False,
    help="Visible to every project (admin only) or only to yours (the default).",
)
@click.option(
    "--min-disk",
    type=click.IntRange(min=0),
    default=0,
    metavar="GIB",
    help="Smallest root disk, in GiB, a server booted from it needs.",
)
@click.option(
    "--min-ram",
    type=click.IntRange(min=0),
    default=0,
    metavar="MIB",
    help="Least memory, in MiB, a server booted from it needs.",
)
@click.option(
    "--property",
    "properties",
    multiple=True,
    metavar="KEY=VALUE",
    help="Image property, e.g. architecture=x86_64 (repeat for more).",
)
@click.option("--protected", is_flag=True, help="Protect the image from deletion.")
@formatted
@click.pass_obj
def image_create(
    session: Session,
    name,
    path,
    disk_format,
    container_format,
    public,
    min_disk,
    min_ram,
    properties,
    protected,
) -> Record:
    """Create an image called NAME and upload its data from --file."""
    images = session.client("image", pb2_grpc.ImagesStub)
    request = pb2.CreateImageRequest(
        name=name,
        disk_format=DISK_FORMATS[disk_format.lower()],
        container_format=pb2.Image.CONTAINER_FORMAT_BARE,
        visibility=pb2.Image.VISIBILITY_PUBLIC if public else pb2.Image.VISIBILITY_PRIVATE,
        min_disk_gib=min_disk,
        min_ram_mib=min_ram,
        properties=parse_properties(properties),
        protected=protected,
    )
    created = images.CreateImage(request)
    if path is None:
        return image_record(created)
    try:
        return image_record(upload(session, created, path))
    except BaseException:
        # No half-made image is left behind (a protected one cannot be deleted).
        if not protected:
            _discard(images, created.id)
        raise


def _discard(images, image_id: str) -> None:
    try:
        images.DeleteImage(pb2.DeleteImageRequest(image_id=image_id))
    except CliError:
        click.echo(f"Warning: image {image_id} could not be removed after the failure", err=True)


@image.command("list")
@click.option("--name", help="Only images with exactly this name.")
@click.option(
    "--status",
    type=click.Choice([n.removeprefix("STATUS_").lower() for n in STATUSES]),
    help="Only images in this status.",
)
@click.option("--public", "visibility", flag_value="public", help="Only public images.")
@click.option("--private", "visibility", flag_value="private", help="Only private images.")
@formatted
@click.pass_obj
def image_list(session: Session, name, status, visibility) -> Listing:
    """List the images you can see: your project's and the public ones."""
    images = session.client("image", pb2_grpc.ImagesStub)
    request = pb2.ListImagesRequest(
        name=name or "",
        status=STATUSES[f"STATUS_{status.upper()}"] if status else 0,
        visibility=pb2.Image.Visibility.Value(f"VISIBILITY_{visibility.upper()}")
        if visibility
        else 0,
    )
    rows = [
        [i.id, i.name, enum_name(i, "status")] for i in every(images.ListImages, request, "images")
    ]
    return Listing(["ID", "Name", "Status"], rows)


@image.command("show")
@click.argument("image_ref", metavar="IMAGE")
@formatted
@click.pass_obj
def image_show(session: Session, image_ref) -> Record:
    """Show IMAGE (name or id)."""
    return image_record(resolve.image(session, image_ref))


@image.command("delete")
@click.argument("image_refs", nargs=-1, required=True, metavar="IMAGE...")
@click.pass_obj
def image_delete(session: Session, image_refs) -> None:
    """Delete images (names or ids) and their data."""
    images = session.client("image", pb2_grpc.ImagesStub)

    def delete(ref: str) -> None:
        images.DeleteImage(pb2.DeleteImageRequest(image_id=resolve.image(session, ref).id))

    batch.each("image", image_refs, delete)


@image.command("save")
@click.argument("image_ref", metavar="IMAGE")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the image data to this file (replaced only once the download is verified).",
)
@click.pass_obj
def image_save(session: Session, image_ref, path: Path) -> None:
    """Download the data of IMAGE into --file.

    IMAGE is a name or id; the data is checked against the image's MD5.
    """
    found = resolve.image(session, image_ref)
    images = session.client("image", pb2_grpc.ImagesStub)
    partial = path.with_name(f".{path.name}.partial")
    md5 = hashlib.md5(usedforsecurity=False)
    try:
        with (
            open(partial, "wb") as out,
            progress.transfer(f"Downloading {found.name or found.id}", found.size_bytes) as advance,
        ):
            request = pb2.DownloadImageRequest(image_id=found.id)
            # Hashing and writing run on threads of their own while the next chunk arrives.
            with streams.behind(md5.update) as hash_, streams.behind(out.write) as write:
                for reply in images.DownloadImage(request, timeout=TRANSFER_SECONDS):
                    hash_(reply.chunk)
                    write(reply.chunk)
                    advance(len(reply.chunk))
        if found.checksum and md5.hexdigest() != found.checksum:
            raise CliError(
                f"The data received has MD5 {md5.hexdigest()}, not the image's {found.checksum}"
            )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


GROUPS = (image,)
