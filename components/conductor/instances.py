"""What compute hosts may read and change of an instance, through the conductor."""

from __future__ import annotations

from components.compute_db import lifecycle, state_machine
from components.compute_db.models import Instance
from components.compute_db.states import TaskState, VmState
from components.framework import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    paging,
    transactions,
    validation,
)

UPDATABLE = {
    "vm_state",
    "task_state",
    "power_state",
    "host",
    "launched_time",
    "addresses",
    "volumes",
}


def get(instance_id: str) -> Instance:
    validation.uuid_str("instance_id", instance_id)
    row = Instance.get_or_none(Instance.id == instance_id)
    if row is None:
        raise NotFound(
            f"no instance with id {validation.quote(instance_id)}", instance_id=instance_id
        )
    return row


def _check(row: Instance, changes: dict, expected_task: int | None) -> None:
    if expected_task is not None and row.task_state != expected_task:
        raise FailedPrecondition(
            f"instance task_state is {TaskState(row.task_state).name.lower()}, "
            f"not {TaskState(expected_task).name.lower()}",
            reason="UNEXPECTED_TASK_STATE",
            task_state=TaskState(row.task_state).name,
        )
    if changes.get("vm_state") == VmState.DELETED:
        raise FailedPrecondition(
            "only the deletion of an instance marks it deleted",
            reason="INVALID_STATE_TRANSITION",
        )
    state_machine.check(
        row.vm_state, row.task_state, changes.get("vm_state"), changes.get("task_state")
    )


STATE_FIELDS = ("vm_state", "task_state", "power_state", "host")


def _already_made(row: Instance, changes: dict, expected_task: int | None) -> bool:
    """A compare-and-swap whose task moved on exactly to where it asks to move it: a
    retry of an update that was made but whose answer was lost (the host asks again)."""
    if expected_task is None or row.task_state == expected_task or "task_state" not in changes:
        return False
    if row.vm_state == VmState.DELETED:
        return False
    return all(getattr(row, f) == changes[f] for f in STATE_FIELDS if f in changes)


def update(instance_id: str, changes: dict, expected_task: int | None) -> Instance:
    """Apply ``changes``; with ``expected_task`` only if the task has not moved on (CAS)."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidArgument(f"cannot update {', '.join(sorted(unknown))}", field="update_mask")
    fields = dict(changes)
    vm_state, task_state = fields.pop("vm_state", None), fields.pop("task_state", None)

    def write() -> Instance | None:
        row = get(instance_id)
        if _already_made(row, changes, expected_task):
            return row
        _check(row, changes, expected_task)
        if not state_machine.move(
            row.id,
            vm_state=vm_state,
            task_state=task_state,
            expected_task=None if expected_task is None else [expected_task],
            **fields,
        ):
            raise FailedPrecondition(
                "the instance changed meanwhile", reason="UNEXPECTED_TASK_STATE"
            )
        return None

    return transactions.run(write) or get(instance_id)


def add_fault(instance_id: str, code: int, message: str, details: str) -> None:
    row = get(instance_id)
    if not message:
        raise InvalidArgument("message is required", field="message")
    lifecycle.add_fault(row.id, code, message, details)


def list_on_host(host: str, size: int, token: str):
    if not host:
        raise InvalidArgument("host is required", field="host")
    query = Instance.select().where(Instance.host == host)
    return paging.paginate(query, Instance, size, token)


def deleted(instance_id: str) -> None:
    """A host has cleaned up after the instance: it is gone for good."""
    lifecycle.finish_delete(instance_id)
