"""Image records: create, read, list, update, delete, and status changes.

Every status change goes through :func:`transition`, a compare-and-set on the
record's current status, so two callers racing (two uploads, an upload and a
delete) cannot both win, on any of the database backends.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from components.framework import (
    Caller,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    paging,
    transactions,
    utcnow,
    validation,
)
from components.image import access, properties, states
from components.image.formats import QCOW2, RAW
from components.image.models import Image

log = logging.getLogger(__name__)

DISK_FORMATS = (RAW, QCOW2)
CONTAINER_FORMATS = ("bare",)
UPDATABLE = frozenset(
    {"name", "min_disk_gib", "min_ram_mib", "properties", "visibility", "protected"}
)


@dataclasses.dataclass
class Fields:
    """The caller-settable fields of an image (all of them on create, some on update)."""

    name: str = ""
    disk_format: str = ""
    container_format: str = "bare"
    visibility: str = access.PRIVATE
    min_disk_gib: int = 0
    min_ram_mib: int = 0
    properties: dict[str, str] = dataclasses.field(default_factory=dict)
    protected: bool = False


def load(image_id: str) -> Image:
    """The stored image with its ``properties`` map attached; NOT_FOUND if gone."""
    image = Image.get_or_none(Image.id == image_id)
    if image is None:
        raise NotFound(f"image {image_id} not found", reason="IMAGE_NOT_FOUND", image_id=image_id)
    image.properties = properties.of([image])[image.id]
    return image


def get(who: Caller, image_id: str) -> Image:
    return load(access.find(who, image_id).id)


def _check(fields: Fields) -> Fields:
    fields.name = validation.name("name", fields.name, required=False)
    validation.non_negative("min_disk_gib", fields.min_disk_gib)
    validation.non_negative("min_ram_mib", fields.min_ram_mib)
    if fields.visibility not in access.VISIBILITIES:
        raise InvalidArgument("visibility must be PRIVATE or PUBLIC", field="visibility")
    fields.properties = properties.check(fields.properties)
    return fields


def create(who: Caller, fields: Fields) -> Image:
    """A new QUEUED image owned by the caller's project."""
    if fields.disk_format not in DISK_FORMATS:
        raise InvalidArgument("disk_format must be RAW or QCOW2", field="disk_format")
    if fields.container_format not in CONTAINER_FORMATS:
        raise InvalidArgument("container_format must be BARE", field="container_format")
    _check(fields)
    access.check_visibility(who, fields.visibility)

    def write() -> Image:
        image = Image.create(
            name=fields.name,
            status=states.QUEUED,
            disk_format=fields.disk_format,
            container_format=fields.container_format,
            visibility=fields.visibility,
            project_id=who.project_id,
            min_disk_gib=fields.min_disk_gib,
            min_ram_mib=fields.min_ram_mib,
            protected=fields.protected,
        )
        properties.replace(image.id, fields.properties)
        return image

    image = transactions.run(write)
    log.info("created image %s (%s) in project %s", image.id, fields.disk_format, who.project_id)
    return load(image.id)


def list_images(
    who: Caller,
    page_size: int,
    page_token: str,
    name: str = "",
    status: str = "",
    visibility: str = "",
) -> tuple[list[Image], str]:
    """One page of the images ``who`` can see, oldest first.

    The page token carries a digest of the filters, so a token cannot be used
    with filters other than those it was issued for.
    """
    query = access.visible_to(who, Image.select()).where(Image.status != states.DELETED)
    if name:
        query = query.where(Image.name == name)
    if status:
        query = query.where(Image.status == status)
    if visibility:
        query = query.where(Image.visibility == visibility)
    rows, next_token = paging.paginate(
        query, Image, page_size, page_token, scope=("ListImages", name, status, visibility)
    )
    found = properties.of(rows)
    for row in rows:
        row.properties = found[row.id]
    return rows, next_token


def _mask(paths: set[str]) -> tuple[set[str], set[str]]:
    """Splits the mask into plain field paths and the keys of "properties.<key>" paths."""
    if not paths:
        raise InvalidArgument("update_mask is required", field="update_mask")
    plain = {path for path in paths if not path.startswith("properties.")}
    keys = {path.removeprefix("properties.") for path in paths - plain}
    if plain:
        validation.update_mask(plain, set(UPDATABLE))
    for key in keys:
        properties.check_key(key)
    return plain, keys


def update(who: Caller, image_id: str, paths: set[str], values: Fields) -> Image:
    """Sets the fields named in ``paths`` from ``values``."""
    plain, keys = _mask(paths)
    image = access.find_changeable(who, image_id)
    current = load(image.id)
    new_properties = dict(values.properties) if "properties" in plain else dict(current.properties)
    for key in keys:
        if key in values.properties:
            new_properties[key] = values.properties[key]
        else:
            new_properties.pop(key, None)
    fields = dataclasses.replace(values, properties=new_properties)
    for field in ("name", "min_disk_gib", "min_ram_mib", "visibility", "protected"):
        if field not in plain:
            setattr(fields, field, getattr(current, field))
    _check(fields)
    if "visibility" in plain:
        access.check_visibility(who, fields.visibility)
    changes = {f: getattr(fields, f) for f in plain - {"properties"}}

    def write() -> None:
        if changes:
            changes["update_time"] = utcnow()
            Image.update(**changes).where(Image.id == image.id).execute()
        if "properties" in plain:
            properties.replace(image.id, new_properties)
        elif keys:
            properties.set_keys(image.id, values.properties, keys)
        if "properties" in plain or keys:
            Image.update(update_time=utcnow()).where(Image.id == image.id).execute()

    transactions.run(write)
    return load(image.id)


def delete(who: Caller, image_id: str, discard_data: Callable[[str], None]) -> None:
    """Removes the record, then the data (``discard_data`` also stops a running upload)."""
    image = access.find_changeable(who, image_id)
    if image.protected:
        raise FailedPrecondition(
            f"image {image.id} is protected: unset protected before deleting it",
            reason="IMAGE_PROTECTED",
            image_id=image.id,
        )
    states.next_status(image.status, states.DELETE)
    deleted = transactions.run(
        Image.delete().where((Image.id == image.id) & (~Image.protected)).execute
    )
    if not deleted:
        # Deleted by a concurrent call, or protected meanwhile: ask again to say which.
        return delete(who, image_id, discard_data)
    discard_data(image.id)
    log.info("deleted image %s", image.id)


def transition(image: Image, action: str, **fields) -> Image:
    """Applies ``action`` to ``image`` if its status still is what was read.

    FAILED_PRECONDITION if the status does not allow it (now, or after a
    concurrent change); NOT_FOUND if the image was deleted meanwhile.
    """
    target = states.next_status(image.status, action)
    if target == image.status and not fields:
        return load(image.id)
    changed = (
        Image.update(status=target, update_time=utcnow(), **fields)
        .where((Image.id == image.id) & (Image.status == image.status))
        .execute()
    )
    if not changed:
        fresh = Image.get_or_none(Image.id == image.id)
        if fresh is None:
            raise NotFound(f"image {image.id} was deleted", reason="IMAGE_NOT_FOUND")
        return transition(fresh, action, **fields)
    return load(image.id)


def settle_upload(image_id: str, upload_id: str, action: str, **fields) -> bool:
    """Ends the upload ``upload_id`` with ``action``; False if it is no longer running
    (the image was deleted meanwhile)."""
    target = states.next_status(states.SAVING, action)
    changed = (
        Image.update(status=target, upload_id=None, update_time=utcnow(), **fields)
        .where(
            (Image.id == image_id)
            & (Image.status == states.SAVING)
            & (Image.upload_id == upload_id)
        )
        .execute()
    )
    return bool(changed)


def requeue_interrupted_uploads() -> int:
    """Puts back to QUEUED the images whose upload died with the process."""
    return (
        Image.update(status=states.QUEUED, upload_id=None, update_time=utcnow())
        .where(Image.status == states.SAVING)
        .execute()
    )


def deactivate(who: Caller, image_id: str) -> Image:
    return transition(access.find(who, image_id), states.DEACTIVATE)


def reactivate(who: Caller, image_id: str) -> Image:
    return transition(access.find(who, image_id), states.REACTIVATE)
