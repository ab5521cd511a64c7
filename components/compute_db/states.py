"""Instance states (numbers as in the contracts) and the status users see.

Which moves between them are allowed, and the write that makes them: state_machine.py.
"""

from __future__ import annotations

import enum

from google.protobuf.descriptor import EnumDescriptor

from stratus.api.v1 import api_service_pb2
from stratus.type.v1 import instance_state_pb2


def _from_proto(descriptor: EnumDescriptor, prefix: str, **renames: str) -> type[enum.IntEnum]:
    """An IntEnum of a contract's enum, named without its prefix (``VM_STATE_ACTIVE`` is
    ``VmState.ACTIVE``), so the numbers here are the contract's and never a copy."""
    members = {}
    for value in descriptor.values:
        name = value.name.removeprefix(prefix)
        members[renames.get(name, name)] = value.number
    return enum.IntEnum(descriptor.name, members, module=__name__, qualname=descriptor.name)


# stratus.type.v1.VmState: UNSPECIFIED, BUILDING, ACTIVE, STOPPED, ERROR, DELETED.
VmState = _from_proto(instance_state_pb2.VmState.DESCRIPTOR, "VM_STATE_")
# stratus.type.v1.TaskState; NONE is TASK_STATE_UNSPECIFIED: no task in progress.
TaskState = _from_proto(instance_state_pb2.TaskState.DESCRIPTOR, "TASK_STATE_", UNSPECIFIED="NONE")
# stratus.type.v1.PowerState: UNSPECIFIED, NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, ...
PowerState = _from_proto(instance_state_pb2.PowerState.DESCRIPTOR, "POWER_STATE_")
# stratus.api.v1.Server.Status, what a user sees: BUILD, ACTIVE, SHUTOFF, REBOOT, ERROR, ...
Status = _from_proto(api_service_pb2.Server.Status.DESCRIPTOR, "STATUS_")


def status(vm: int, task: int) -> Status:
    """The user-facing status, as nova derives it from vm_state and task_state."""
    if vm == VmState.DELETED:
        return Status.DELETED
    if vm == VmState.ERROR:
        return Status.ERROR
    if vm == VmState.BUILDING:
        return Status.BUILD
    if task in (TaskState.REBOOTING, TaskState.REBOOTING_HARD):
        return Status.REBOOT
    if vm == VmState.STOPPED:
        return Status.SHUTOFF
    return Status.ACTIVE


TERMINAL_STATUSES = {Status.ACTIVE, Status.SHUTOFF, Status.ERROR, Status.DELETED}
