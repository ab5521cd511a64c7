"""The end of an instance's life, and its faults: done once, whoever gets there first.

A fault is a ``google.rpc.Code`` number (``code_pb2``), a message its owner
sees and details only admins see. :func:`set_error` is the one way to put an
instance in ERROR with a fault, for api, scheduler and conductor alike.
"""

from __future__ import annotations

from collections.abc import Collection

import peewee

from components.compute_db import claims, quotas, state_machine
from components.compute_db.models import BuildRequest, Instance, InstanceFault
from components.compute_db.states import TaskState, VmState
from components.framework import transactions, utcnow

# Longest fault message kept.
MAX_MESSAGE = 4000
# Whatever a build or an action was doing, except a deletion (a delete wins).
NOT_DELETING = frozenset(TaskState) - {TaskState.DELETING}


def finish_delete(instance_id: str) -> bool:
    """Mark the instance deleted and give back its claim and quota, exactly once; a build
    request still waiting for the scheduler goes too (with the user's token it kept)."""

    def write() -> bool:
        if not state_machine.move(
            instance_id, vm_state=VmState.DELETED, task_state=TaskState.NONE, deleted_time=utcnow()
        ):
            return False
        instance = Instance.get_by_id(instance_id)
        quotas.release(instance.project_id, instance.vcpus, instance.ram_mib)
        BuildRequest.delete().where(BuildRequest.instance == instance_id).execute()
        return True

    if not transactions.run(write):
        return False
    claims.release_for_instance(instance_id)
    return True


def add_fault(instance_id: str, code: int, message: str, details: str = "") -> None:
    """Record a fault (``code`` a google.rpc code) on the instance."""
    InstanceFault.create(
        instance=instance_id, code=code, message=message[:MAX_MESSAGE], details=details
    )


def set_error(
    instance_id: str,
    code: int,
    message: str,
    details: str = "",
    record_fault: bool = True,
    *,
    expected_vm: Collection[int] | None = None,
    expected_task: Collection[int] = NOT_DELETING,
    where: peewee.Expression | None = None,
) -> bool:
    """ERROR with a fault, releasing the claim (the quota stays until it is deleted).

    A compare-and-swap: only from the expected states (by default any but a
    deletion in progress) and ``where``; False, with nothing recorded, if the
    instance was elsewhere. ``record_fault=False`` when the fault was recorded
    already (by the host).
    """

    def write() -> bool:
        if not state_machine.move(
            instance_id,
            vm_state=VmState.ERROR,
            task_state=TaskState.NONE,
            expected_vm=expected_vm,
            expected_task=expected_task,
            where=where,
        ):
            return False
        if record_fault:
            add_fault(instance_id, code, message, details)
        return True

    if not transactions.run(write):
        return False
    claims.release_for_instance(instance_id)
    return True
