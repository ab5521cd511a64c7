"""A server's place on a host: the claim there, recorded on its instance row.

The claim and the record are one transaction, and the record is the state
machine's compare-and-swap on the instance (still BUILDING and SCHEDULING, not
deleted, the claim we last saw), so a delete or a duplicate request racing this one never leaves a
claim that no instance points at.
"""

from __future__ import annotations

import dataclasses

from components.compute_db import claims, state_machine
from components.compute_db.models import Claim, Instance
from components.compute_db.states import TaskState, VmState
from components.framework import FailedPrecondition, NotFound, quote, transactions, utcnow
from components.scheduler.host_state import HostState


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where a server went: the Selection of the contract."""

    host: str
    node: str
    claim_id: str
    alternates: tuple[str, ...] = ()


class InstanceChanged(Exception):
    """The instance stopped waiting for a host while we placed it."""


def schedulable(instance_id: str) -> Instance:
    """The instance, if it is waiting to be scheduled."""
    instance = Instance.get_or_none(Instance.id == instance_id)
    if instance is None:
        raise NotFound(f"no instance with id {quote(instance_id)}", instance_id=instance_id)
    if instance.deleted_time is not None or instance.task_state != TaskState.SCHEDULING:
        raise FailedPrecondition(
            f"instance {instance_id} is not waiting to be scheduled "
            f"(task {TaskState(instance.task_state).name.lower()})",
            reason="INSTANCE_NOT_SCHEDULING",
            instance_id=instance_id,
        )
    return instance


def existing(instance: Instance) -> Placement | None:
    """The placement an earlier request made for this instance, if its claim still holds."""
    if not instance.claim_id or not instance.host:
        return None
    if not Claim.select().where(Claim.id == instance.claim_id).exists():
        return None
    return Placement(
        host=instance.host,
        node=instance.host,
        claim_id=instance.claim_id,
        alternates=tuple(instance.alternates or ()),
    )


def claim_and_record(
    instance_id: str,
    expected_claim_id: str,
    host: HostState,
    wants: claims.Resources,
    ratios: claims.AllocationRatios,
    alternates: list[str],
) -> Placement | None:
    """Claim on ``host`` and point the instance at it; None when the host is full now.

    Raises InstanceChanged (with nothing claimed) when the instance is no longer
    the one we read: deleted, or placed by a concurrent request.
    """

    def write() -> Placement | None:
        held = claims.claim(host.id, instance_id, wants, ratios)
        if held is None:
            return None
        recorded = state_machine.move(
            instance_id,
            expected_vm=(VmState.BUILDING,),
            expected_task=(TaskState.SCHEDULING,),
            where=Instance.claim_id == expected_claim_id,
            host=host.host,
            # The zone the server is in, asked for or not (nova records it too).
            availability_zone=host.availability_zone,
            claim_id=held.id,
            attempt=1,
            alternates=alternates,
        )
        if not recorded:
            raise InstanceChanged(instance_id)  # leaving the transaction rolls the claim back
        return Placement(host.host, host.host, held.id, tuple(alternates))

    return transactions.run(write)


def undo(instance_id: str, placement: Placement) -> bool:
    """Give the claim back and leave the instance without a host (its host is unreachable),
    if the build has not begun there: False (nothing changed) once the host moved it on."""
    # The instance update comes first so that, on SQLite, the transaction holds
    # the write lock before release() reads the claim.

    def write() -> bool:
        moved = (
            Instance.update(host="", claim_id="", alternates=[], update_time=utcnow())
            .where(
                (Instance.id == instance_id)
                & (Instance.claim_id == placement.claim_id)
                & (Instance.task_state == TaskState.SCHEDULING)
            )
            .execute()
        )
        if moved:
            claims.release(placement.claim_id)
        return bool(moved)

    return transactions.run(write)
