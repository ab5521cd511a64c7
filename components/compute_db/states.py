"""Instance states (numbers as in the contracts), the status users see, legal transitions."""

from __future__ import annotations

import enum

from components.framework.errors import FailedPrecondition


class VmState(enum.IntEnum):
    UNSPECIFIED = 0
    BUILDING = 1
    ACTIVE = 2
    STOPPED = 3
    ERROR = 4
    DELETED = 5


class TaskState(enum.IntEnum):
    NONE = 0  # TASK_STATE_UNSPECIFIED: no task in progress
    SCHEDULING = 1
    SPAWNING = 2
    NETWORKING = 3
    BLOCK_DEVICE_MAPPING = 4
    POWERING_OFF = 5
    POWERING_ON = 6
    REBOOTING = 7
    REBOOTING_HARD = 8
    DELETING = 9


class PowerState(enum.IntEnum):
    UNSPECIFIED = 0
    NOSTATE = 1
    RUNNING = 2
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 5
    SUSPENDED = 6


class Status(enum.IntEnum):
    """``stratus.api.v1.Server.Status``: what a user sees."""

    UNSPECIFIED = 0
    BUILD = 1
    ACTIVE = 2
    SHUTOFF = 3
    REBOOT = 4
    ERROR = 5
    DELETED = 6


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


# vm_state -> the vm_states it may move to.
VM_TRANSITIONS: dict[VmState, set[VmState]] = {
    VmState.BUILDING: {VmState.BUILDING, VmState.ACTIVE, VmState.ERROR, VmState.DELETED},
    VmState.ACTIVE: {VmState.ACTIVE, VmState.STOPPED, VmState.ERROR, VmState.DELETED},
    VmState.STOPPED: {VmState.STOPPED, VmState.ACTIVE, VmState.ERROR, VmState.DELETED},
    VmState.ERROR: {VmState.ERROR, VmState.ACTIVE, VmState.STOPPED, VmState.DELETED},
    VmState.DELETED: {VmState.DELETED},
}

TERMINAL_STATUSES = {Status.ACTIVE, Status.SHUTOFF, Status.ERROR, Status.DELETED}


def check_transition(current: int, target: int) -> None:
    """Refuse a vm_state change the lifecycle does not allow."""
    allowed = VM_TRANSITIONS.get(VmState(current), set())
    if VmState(target) not in allowed:
        raise FailedPrecondition(
            f"an instance cannot go from {VmState(current).name.lower()} to "
            f"{VmState(target).name.lower()}",
            reason="INVALID_STATE_TRANSITION",
        )
