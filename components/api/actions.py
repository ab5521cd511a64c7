"""Deleting, stopping, starting, rebooting a server, and reading its console.

Each action flips the task_state with a compare-and-swap (so two actions on
one server cannot both start) and casts the work to the server's host, the
way nova-api casts to nova-compute.
"""

from __future__ import annotations

import logging

from components.api import local_delete
from components.compute_db import lifecycle, state_machine
from components.compute_db.models import ComputeNode, Instance
from components.compute_db.states import TaskState, VmState
from components.framework import CastFailed, Clients, FailedPrecondition, Unavailable, call
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc

log = logging.getLogger(__name__)


def _address(row: Instance) -> str | None:
    node = ComputeNode.get_or_none(ComputeNode.host == row.host) if row.host else None
    return node.address if node is not None else None


def _begin(
    row: Instance, task: TaskState, allowed_vm: set[VmState], allowed_tasks: set[TaskState]
) -> bool:
    """Set ``task`` if the server is in an allowed state; False if someone else moved first."""
    return state_machine.move(
        row.id, task_state=task, expected_vm=allowed_vm, expected_task=allowed_tasks
    )


def delete(row: Instance, casts, clients: Clients, down_time_seconds: float) -> Instance:
    """Cast the deletion to the server's host; delete locally (local_delete.py) if it has
    none, has not reported for ``down_time_seconds``, or cannot be reached."""
    if row.task_state == TaskState.DELETING:
        return row
    address = _address(row)
    if address is None or (row.host and local_delete.host_is_down(row, down_time_seconds)):
        return _delete_locally(row, clients, "it has no host" if address is None else "down")
    state_machine.move(row.id, task_state=TaskState.DELETING)
    try:
        casts.cast(
            address,
            casts.context(),
            terminate_instance=compute_pb2.TerminateInstance(instance_id=row.id),
        )
    except CastFailed as exc:
        return _delete_locally(row, clients, f"unreachable ({exc})")
    return Instance.get_by_id(row.id)


def _delete_locally(row: Instance, clients: Clients, why: str) -> Instance:
    """Release what the host would, then mark the server deleted; the host cleans up the
    guest itself when it comes back."""
    if row.host:
        log.warning("host %s of server %s is %s: deleting it locally", row.host, row.id, why)
        local_delete.release(clients, row)
    lifecycle.finish_delete(row.id)
    return Instance.get_by_id(row.id)


# What each action is called in an error message ("cannot stop").
VERBS = {
    TaskState.POWERING_OFF: "stop",
    TaskState.POWERING_ON: "start",
    TaskState.REBOOTING: "reboot",
    TaskState.REBOOTING_HARD: "hard reboot",
}


def _state_words(row: Instance) -> str:
    """``stopped``, or ``active with task powering off``."""
    words = VmState(row.vm_state).name.lower()
    if row.task_state != TaskState.NONE:
        words += f" with task {TaskState(row.task_state).name.lower().replace('_', ' ')}"
    return words


def _refuse(row: Instance, task: TaskState, why: str = "") -> FailedPrecondition:
    return FailedPrecondition(
        f"cannot {VERBS[task]} server {row.id}: it is {why or _state_words(row)}",
        reason="INVALID_STATE_TRANSITION",
    )


def _act(row: Instance, casts, task: TaskState, allowed_vm, allowed_tasks, **payload):
    if not _begin(row, task, allowed_vm, allowed_tasks):
        raise _refuse(Instance.get_by_id(row.id), task)
    address = _address(row)
    try:
        if address is None:
            raise CastFailed(f"server has no host ({row.host or 'none'})")
        casts.cast(address, casts.context(), **payload)
    except CastFailed as exc:
        state_machine.move(row.id, task_state=TaskState.NONE, expected_task=(task,))
        raise Unavailable(f"the server's host cannot be reached: {exc}") from None
    return Instance.get_by_id(row.id)


def stop(row: Instance, casts) -> Instance:
    if row.vm_state == VmState.STOPPED and row.task_state == TaskState.NONE:
        raise _refuse(row, TaskState.POWERING_OFF, "already stopped (SHUTOFF)")
    if row.task_state == TaskState.POWERING_OFF:
        return row
    return _act(
        row,
        casts,
        TaskState.POWERING_OFF,
        {VmState.ACTIVE},
        {TaskState.NONE},
        stop_instance=compute_pb2.StopInstance(instance_id=row.id),
    )


def start(row: Instance, casts) -> Instance:
    if row.vm_state == VmState.ACTIVE and row.task_state == TaskState.NONE:
        raise _refuse(row, TaskState.POWERING_ON, "already running (ACTIVE)")
    if row.task_state == TaskState.POWERING_ON:
        return row
    return _act(
        row,
        casts,
        TaskState.POWERING_ON,
        {VmState.STOPPED},
        {TaskState.NONE},
        start_instance=compute_pb2.StartInstance(instance_id=row.id),
    )


def reboot(row: Instance, casts, hard: bool) -> Instance:
    kind = (
        compute_pb2.RebootInstance.REBOOT_TYPE_HARD
        if hard
        else (compute_pb2.RebootInstance.REBOOT_TYPE_SOFT)
    )
    payload = {"reboot_instance": compute_pb2.RebootInstance(instance_id=row.id, reboot_type=kind)}
    if hard:
        return _act(
            row,
            casts,
            TaskState.REBOOTING_HARD,
            {VmState.ACTIVE, VmState.STOPPED},
            {TaskState.NONE, TaskState.REBOOTING},
            **payload,
        )
    return _act(row, casts, TaskState.REBOOTING, {VmState.ACTIVE}, {TaskState.NONE}, **payload)


def console(row: Instance, clients: Clients, length: int) -> str:
    if row.task_state == TaskState.DELETING:
        raise FailedPrecondition("the server is being deleted")
    address = _address(row)
    if address is None:
        raise FailedPrecondition("the server has no host yet", reason="NO_HOST")
    stub = clients.stub(compute_grpc.ComputeStub, "compute", address=address, as_service=True)
    request = compute_pb2.GetConsoleOutputRequest(instance_id=row.id)
    if length > 0:
        request.length = length
    return call(stub.GetConsoleOutput, request).output
