"""An image's free-form properties: limits, and reading and writing them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from components.framework import InvalidArgument, quote
from components.image.models import Image, ImageProperty

MAX_PROPERTIES = 128
MAX_KEY_CHARS = 255
MAX_VALUE_BYTES = 65535
# A property may not shadow a field of the Image message.
RESERVED_KEYS = frozenset(
    {
        "id",
        "name",
        "status",
        "disk_format",
        "container_format",
        "visibility",
        "project_id",
        "size_bytes",
        "virtual_size_bytes",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "min_disk_gib",
        "min_ram_mib",
        "properties",
        "protected",
        "create_time",
        "update_time",
    }
)
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]+$")


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_CHARS or not _PRINTABLE.match(key):
        raise InvalidArgument(
            f"property key {quote(key)} must be 1 to {MAX_KEY_CHARS} printable characters",
            field="properties",
        )
    if key in RESERVED_KEYS:
        raise InvalidArgument(
            f"property key {quote(key)} is the name of an image field", field="properties"
        )
    return key


def check(properties: Mapping[str, str]) -> dict[str, str]:
    """``properties`` if every key and value is within the limits."""
    if len(properties) > MAX_PROPERTIES:
        raise InvalidArgument(
            f"an image has at most {MAX_PROPERTIES} properties", field="properties"
        )
    for key, value in properties.items():
        check_key(key)
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise InvalidArgument(
                f"property {quote(key)} is longer than {MAX_VALUE_BYTES} bytes", field="properties"
            )
    return dict(properties)


def of(images: Iterable[Image]) -> dict[str, dict[str, str]]:
    """The properties of each image, by image id, in one query."""
    ids = [image.id for image in images]
    found: dict[str, dict[str, str]] = {image_id: {} for image_id in ids}
    if ids:
        rows = ImageProperty.select().where(ImageProperty.image.in_(ids))
        for row in rows:
            found[row.image_id][row.key] = row.value
    return found


def replace(image_id: str, properties: Mapping[str, str]) -> None:
    """Makes ``properties`` the image's whole map (call inside a transaction)."""
    ImageProperty.delete().where(ImageProperty.image == image_id).execute()
    if properties:
        ImageProperty.insert_many(
            [{"image": image_id, "key": k, "value": v} for k, v in properties.items()]
        ).execute()


def set_keys(image_id: str, values: Mapping[str, str], keys: Iterable[str]) -> None:
    """Sets each of ``keys`` to its value in ``values``, or removes it if absent there
    (call inside a transaction); other keys are left alone, so that concurrent
    updates of different keys do not undo each other."""
    keys = list(keys)
    ImageProperty.delete().where(
        (ImageProperty.image == image_id) & (ImageProperty.key.in_(keys))
    ).execute()
    present = [{"image": image_id, "key": k, "value": values[k]} for k in keys if k in values]
    if present:
        ImageProperty.insert_many(present).execute()
