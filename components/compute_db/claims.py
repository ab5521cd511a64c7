"""Resource claims on compute nodes, atomic in the database.

A claim is one compare-and-swap ``UPDATE compute_node SET used = used + n
WHERE id = ? AND used + n <= capacity * ratio``: however many schedulers
answer however many boots at once, a node is never over-committed, on SQLite,
PostgreSQL and MySQL alike. Releasing deletes the claim row first, so a claim
is given back exactly once even when two parties release it together.
"""

from __future__ import annotations

import dataclasses

import peewee

from components.compute_db.models import Claim, ComputeNode
from components.framework import transactions


@dataclasses.dataclass(frozen=True)
class AllocationRatios:
    """Overcommit per resource; configured once, in placement_config.py."""

    cpu: float
    ram: float
    disk: float


@dataclasses.dataclass(frozen=True)
class Resources:
    vcpus: int
    ram_mib: int
    disk_gib: int


def claim(
    node_id: str, instance_id: str, wants: Resources, ratios: AllocationRatios
) -> Claim | None:
    """Hold ``wants`` on the node for the instance, or None when it no longer fits."""
    node = ComputeNode
    # Value(converter=False): beside an integer column peewee would pass a bare
    # ratio through the column's converter, and 1.5 would become 1.
    cpu, ram, disk = (
        peewee.Value(r, converter=False) for r in (ratios.cpu, ratios.ram, ratios.disk)
    )

    def write() -> Claim | None:
        taken = (
            node.update(
                vcpus_used=node.vcpus_used + wants.vcpus,
                ram_mib_used=node.ram_mib_used + wants.ram_mib,
                disk_gib_used=node.disk_gib_used + wants.disk_gib,
                instances_used=node.instances_used + 1,
            )
            .where(
                (node.id == node_id)
                & (node.vcpus_used + wants.vcpus <= node.vcpus * cpu)
                & (node.ram_mib_used + wants.ram_mib <= node.ram_mib * ram)
                & (node.disk_gib_used + wants.disk_gib <= node.disk_gib * disk)
            )
            .execute()
        )
        if taken != 1:
            return None
        return Claim.create(
            instance_id=instance_id,
            node=node_id,
            vcpus=wants.vcpus,
            ram_mib=wants.ram_mib,
            disk_gib=wants.disk_gib,
        )

    return transactions.run(write)


def release(claim_id: str) -> bool:
    """Give the claim's resources back; False if it was already released (idempotent)."""
    if not claim_id:
        return False

    def write() -> bool:
        found = Claim.get_or_none(Claim.id == claim_id)
        if found is None:
            return False
        if Claim.delete().where(Claim.id == claim_id).execute() != 1:
            return False
        node = ComputeNode
        node.update(
            vcpus_used=node.vcpus_used - found.vcpus,
            ram_mib_used=node.ram_mib_used - found.ram_mib,
            disk_gib_used=node.disk_gib_used - found.disk_gib,
            instances_used=node.instances_used - 1,
        ).where(node.id == found.node_id).execute()
        return True

    return transactions.run(write)


def release_for_instance(instance_id: str) -> int:
    """Release every claim an instance holds (a delete, a final failure)."""
    ids = [c.id for c in Claim.select(Claim.id).where(Claim.instance_id == instance_id)]
    return sum(release(claim_id) for claim_id in ids)
