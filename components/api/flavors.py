"""Flavors: the sizes servers come in."""

from __future__ import annotations

import peewee

from components.compute_db.models import Flavor
from components.framework import (
    AlreadyExists,
    Caller,
    InvalidArgument,
    NotFound,
    paging,
    quote,
    transactions,
    validation,
)


def create(
    name: str, vcpus: int, ram_mib: int, disk_gib: int, extra_specs: dict, is_public: bool
) -> Flavor:
    name = validation.name("name", name, 255)
    validation.positive("vcpus", vcpus, 1024)
    validation.positive("ram_mib", ram_mib, 16 * 1024 * 1024)
    if not 0 <= disk_gib <= 65536:
        raise InvalidArgument("disk_gib must be between 0 and 65536", field="disk_gib")
    for key in extra_specs:
        validation.name("extra_specs key", key, 255)
    try:
        return transactions.run(
            lambda: Flavor.create(
                name=name,
                vcpus=vcpus,
                ram_mib=ram_mib,
                disk_gib=disk_gib,
                extra_specs=dict(extra_specs),
                is_public=is_public,
            )
        )
    except peewee.IntegrityError:
        raise AlreadyExists(f"a flavor named {quote(name)} already exists", name=name) from None


def get(who: Caller, flavor_id: str, field: str = "flavor_id") -> Flavor:
    validation.uuid_str(field, flavor_id)
    row = Flavor.get_or_none(Flavor.id == flavor_id)
    if row is None or not (row.is_public or who.is_admin):
        raise NotFound(
            f"no flavor with id {quote(flavor_id)}", reason="FLAVOR_NOT_FOUND", **{field: flavor_id}
        )
    return row


def listing(who: Caller, size: int, token: str):
    query = Flavor.select()
    if not who.is_admin:
        query = query.where(Flavor.is_public == True)  # noqa: E712 - peewee expression
    return paging.paginate(query, Flavor, size, token)


def delete(who: Caller, flavor_id: str) -> None:
    get(who, flavor_id).delete_instance()
