"""Per-project quotas for instances, cores and RAM, reserved by compare-and-swap."""

from __future__ import annotations

import dataclasses

import peewee

from components.compute_db.models import ProjectQuota
from components.framework import QuotaExceeded, transactions


@dataclasses.dataclass(frozen=True)
class Limits:
    instances: int = 10
    cores: int = 20
    ram_mib: int = 51200


def quota_of(project_id: str, defaults: Limits) -> ProjectQuota:
    """The project's row, made from the defaults the first time it is needed."""
    row = ProjectQuota.get_or_none(ProjectQuota.project_id == project_id)
    if row is not None:
        return row
    try:
        return transactions.run(
            lambda: ProjectQuota.create(
                project_id=project_id,
                instances_limit=defaults.instances,
                cores_limit=defaults.cores,
                ram_mib_limit=defaults.ram_mib,
            )
        )
    except peewee.IntegrityError:
        return ProjectQuota.get(ProjectQuota.project_id == project_id)


def reserve(project_id: str, cores: int, ram_mib: int, defaults: Limits) -> None:
    """Count one more instance of this size, or raise QuotaExceeded naming the resource."""
    row = quota_of(project_id, defaults)
    q = ProjectQuota
    updated = (
        q.update(
            instances_used=q.instances_used + 1,
            cores_used=q.cores_used + cores,
            ram_mib_used=q.ram_mib_used + ram_mib,
        )
        .where(
            (q.project_id == project_id)
            & ((q.instances_limit < 0) | (q.instances_used + 1 <= q.instances_limit))
            & ((q.cores_limit < 0) | (q.cores_used + cores <= q.cores_limit))
            & ((q.ram_mib_limit < 0) | (q.ram_mib_used + ram_mib <= q.ram_mib_limit))
        )
        .execute()
    )
    if updated == 1:
        return
    row = ProjectQuota.get_by_id(row.id)
    for name, used, want, limit in (
        ("instances", row.instances_used, 1, row.instances_limit),
        ("cores", row.cores_used, cores, row.cores_limit),
        ("ram_mib", row.ram_mib_used, ram_mib, row.ram_mib_limit),
    ):
        if 0 <= limit < used + want:
            raise QuotaExceeded(
                f"quota exceeded for {name}: {used} of {limit} used, {want} more requested",
                resource=name,
            )
    raise QuotaExceeded("quota exceeded")


def release(project_id: str, cores: int, ram_mib: int) -> None:
    q = ProjectQuota
    q.update(
        instances_used=q.instances_used - 1,
        cores_used=q.cores_used - cores,
        ram_mib_used=q.ram_mib_used - ram_mib,
    ).where(q.project_id == project_id).execute()
