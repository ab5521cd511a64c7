"""Per-project quotas: limits and usage, charged atomically with the change they pay for.

Each project has one row. :func:`charge` is a single compare-and-swap UPDATE
(``SET used = used + n WHERE used + n <= limit``), run inside the caller's
transaction: the database's row lock serialises concurrent charges, so twenty
parallel creates against a limit of five see exactly five succeed, on SQLite,
PostgreSQL and MySQL alike, with no read-then-write window.
"""

from __future__ import annotations

import dataclasses

import peewee

from components.framework import InvalidArgument, QuotaExceeded, utcnow
from components.volume.models import Quota

UNLIMITED = -1


@dataclasses.dataclass(frozen=True)
class Defaults:
    """The limits of a project that has none of its own."""

    volumes: int
    size_gib: int


@dataclasses.dataclass(frozen=True)
class QuotaView:
    project_id: str
    volumes_limit: int
    size_gib_limit: int
    volumes_used: int
    size_gib_used: int
    is_default: bool


def ensure(project_id: str) -> None:
    """Make sure the project has a row; call before the transaction that charges it.

    Outside that transaction on purpose: on MySQL an INSERT IGNORE that meets an
    existing row takes a shared lock, and two transactions holding it while
    both wait to UPDATE the row deadlock.
    """
    if Quota.select(Quota.id).where(Quota.project_id == project_id).exists():
        return
    Quota.insert(project_id=project_id).on_conflict_ignore().execute()


def charge(project_id: str, defaults: Defaults, *, volumes: int = 0, size_gib: int = 0) -> None:
    """Count ``volumes`` more volumes and ``size_gib`` more GiB, or raise QuotaExceeded."""
    condition = Quota.project_id == project_id
    if volumes > 0:
        condition &= _fits(Quota.volumes_limit, defaults.volumes, Quota.volumes_used, volumes)
    if size_gib > 0:
        condition &= _fits(Quota.size_gib_limit, defaults.size_gib, Quota.size_gib_used, size_gib)
    changed = (
        Quota.update(
            volumes_used=Quota.volumes_used + volumes,
            size_gib_used=Quota.size_gib_used + size_gib,
            update_time=utcnow(),
        )
        .where(condition)
        .execute()
    )
    if changed == 0:
        raise _exceeded(project_id, defaults, volumes, size_gib)


def release(project_id: str, *, volumes: int = 0, size_gib: int = 0) -> None:
    """Give back what :func:`charge` counted."""
    Quota.update(
        volumes_used=Quota.volumes_used - volumes,
        size_gib_used=Quota.size_gib_used - size_gib,
        update_time=utcnow(),
    ).where(Quota.project_id == project_id).execute()


def get(project_id: str, defaults: Defaults) -> QuotaView:
    row = Quota.get_or_none(Quota.project_id == project_id)
    if row is None:
        return QuotaView(project_id, defaults.volumes, defaults.size_gib, 0, 0, True)
    return _view(row, defaults)


def update(
    project_id: str,
    defaults: Defaults,
    *,
    volumes_limit: int | None = None,
    size_gib_limit: int | None = None,
) -> QuotaView:
    """Set the limits given (None leaves one as it is); -1 means unlimited."""
    changes = {}
    for field, value in (("volumes_limit", volumes_limit), ("size_gib_limit", size_gib_limit)):
        if value is None:
            continue
        if value < UNLIMITED:
            raise InvalidArgument(f"{field} must be -1 (unlimited) or more", field=field)
        changes[field] = value
    ensure(project_id)
    if changes:
        Quota.update(update_time=utcnow(), **changes).where(
            Quota.project_id == project_id
        ).execute()
    return get(project_id, defaults)


def _fits(limit: peewee.Field, default: int, used: peewee.Field, more: int) -> peewee.Expression:
    effective = peewee.fn.COALESCE(limit, default)
    return (effective == UNLIMITED) | (used + more <= effective)


def _view(row: Quota, defaults: Defaults) -> QuotaView:
    return QuotaView(
        project_id=row.project_id,
        volumes_limit=defaults.volumes if row.volumes_limit is None else row.volumes_limit,
        size_gib_limit=defaults.size_gib if row.size_gib_limit is None else row.size_gib_limit,
        volumes_used=row.volumes_used,
        size_gib_used=row.size_gib_used,
        is_default=row.volumes_limit is None and row.size_gib_limit is None,
    )


def _exceeded(project_id: str, defaults: Defaults, volumes: int, size_gib: int) -> QuotaExceeded:
    view = get(project_id, defaults)
    over_count = view.volumes_used + volumes > view.volumes_limit
    if volumes and view.volumes_limit != UNLIMITED and over_count:
        return QuotaExceeded(
            f"volume quota exceeded: {view.volumes_used} of {view.volumes_limit} volumes in use",
            resource="volumes",
            limit=view.volumes_limit,
            used=view.volumes_used,
        )
    return QuotaExceeded(
        f"size quota exceeded: {view.size_gib_used} of {view.size_gib_limit} GiB in use, "
        f"{size_gib} GiB more requested",
        resource="size_gib",
        limit=view.size_gib_limit,
        used=view.size_gib_used,
    )
