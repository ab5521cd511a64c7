"""The instance state machine: which vm_state and task_state moves are allowed, and the
one compare-and-swap write that makes them.

nova's model: ``vm_state`` is where an instance rests (BUILDING, ACTIVE, STOPPED,
ERROR, DELETED) and ``task_state`` what is being done to it right now. Every
writer (the api's actions, the scheduler's placement, the conductor's
reschedule, sweep and host updates, the end of a life in lifecycle.py) moves
an instance with :func:`move`: one ``UPDATE instance ... WHERE id = ? AND
vm_state IN (...) AND task_state IN (...)`` whose conditions are the states
the caller expects (nova's ``expected_task_state``) narrowed to the states the
tables below allow the move from. Of two writers racing, exactly one wins; an
illegal move never happens, whatever the caller expects.

The tables say what the code does:

* a build: BUILDING with SCHEDULING (created by the api, placed by the
  scheduler), then on its host NETWORKING, BLOCK_DEVICE_MAPPING, SPAWNING (the
  steps there is work for, in that order), then ACTIVE with no task; a failed
  build goes back to SCHEDULING on an alternate host (reschedule) or to ERROR;
* an action starts a task from no task (POWERING_OFF, POWERING_ON, REBOOTING,
  REBOOTING_HARD, which may also replace REBOOTING) and the host ends it;
* DELETING may start from anything; nothing else is written to a deleting
  instance but the end of its deletion: DELETED (the delete is done) or ERROR
  (the host could not release everything).
"""

from __future__ import annotations

from collections.abc import Collection

import peewee

from components.compute_db.models import Instance
from components.compute_db.states import TaskState, VmState
from components.framework import FailedPrecondition, utcnow

# vm_state -> the vm_states it may move to (itself included: a write that keeps it).
VM_TRANSITIONS: dict[VmState, frozenset[VmState]] = {
    VmState.BUILDING: frozenset({VmState.BUILDING, VmState.ACTIVE, VmState.ERROR, VmState.DELETED}),
    VmState.ACTIVE: frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.ERROR, VmState.DELETED}),
    VmState.STOPPED: frozenset({VmState.STOPPED, VmState.ACTIVE, VmState.ERROR, VmState.DELETED}),
    VmState.ERROR: frozenset({VmState.ERROR, VmState.ACTIVE, VmState.STOPPED, VmState.DELETED}),
    VmState.DELETED: frozenset({VmState.DELETED}),
}

# The tasks of a build, in the order a host runs them.
BUILD_TASKS = frozenset(
    {
        TaskState.SCHEDULING,
        TaskState.NETWORKING,
        TaskState.BLOCK_DEVICE_MAPPING,
        TaskState.SPAWNING,
    }
)
# Tasks a user's action starts when no task is running.
ACTION_TASKS = frozenset(
    {
        TaskState.POWERING_OFF,
        TaskState.POWERING_ON,
        TaskState.REBOOTING,
        TaskState.REBOOTING_HARD,
    }
)
_ENDS = frozenset({TaskState.NONE, TaskState.DELETING})

# task_state -> the task_states that may replace it (itself included).
TASK_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.NONE: frozenset({TaskState.NONE, TaskState.DELETING}) | ACTION_TASKS,
    TaskState.SCHEDULING: frozenset(
        {
            TaskState.SCHEDULING,
            TaskState.NETWORKING,
            TaskState.BLOCK_DEVICE_MAPPING,
            TaskState.SPAWNING,
        }
    )
    | _ENDS,
    TaskState.NETWORKING: frozenset(
        {
            TaskState.NETWORKING,
            TaskState.BLOCK_DEVICE_MAPPING,
            TaskState.SPAWNING,
            TaskState.SCHEDULING,
        }
    )
    | _ENDS,
    TaskState.BLOCK_DEVICE_MAPPING: frozenset(
        {TaskState.BLOCK_DEVICE_MAPPING, TaskState.SPAWNING, TaskState.SCHEDULING}
    )
    | _ENDS,
    TaskState.SPAWNING: frozenset({TaskState.SPAWNING, TaskState.SCHEDULING}) | _ENDS,
    TaskState.POWERING_OFF: frozenset({TaskState.POWERING_OFF}) | _ENDS,
    TaskState.POWERING_ON: frozenset({TaskState.POWERING_ON}) | _ENDS,
    TaskState.REBOOTING: frozenset({TaskState.REBOOTING, TaskState.REBOOTING_HARD}) | _ENDS,
    TaskState.REBOOTING_HARD: frozenset({TaskState.REBOOTING_HARD}) | _ENDS,
    TaskState.DELETING: _ENDS,
}

# A deletion in progress ends only in one of these vm_states, and is not written otherwise.
ENDS_OF_DELETION = frozenset({VmState.ERROR, VmState.DELETED})


def _word(state: VmState | TaskState) -> str:
    return state.name.lower().replace("_", " ")


def _refused(text: str) -> FailedPrecondition:
    return FailedPrecondition(text, reason="INVALID_STATE_TRANSITION")


def check_transition(current: int, target: int) -> None:
    """Refuse a vm_state change the lifecycle does not allow."""
    if VmState(target) not in VM_TRANSITIONS.get(VmState(current), ()):
        raise _refused(
            f"an instance cannot go from {_word(VmState(current))} to {_word(VmState(target))}"
        )


def check_task_transition(current: int, target: int) -> None:
    """Refuse a task_state change the lifecycle does not allow."""
    if TaskState(target) not in TASK_TRANSITIONS.get(TaskState(current), ()):
        raise _refused(
            f"an instance's task cannot go from {_word(TaskState(current))} to "
            f"{_word(TaskState(target))}"
        )


def check(vm_now: int, task_now: int, vm: int | None = None, task: int | None = None) -> None:
    """Refuse moving an instance in (vm_now, task_now) to ``vm``/``task`` (None: kept),
    with FAILED_PRECONDITION and reason INVALID_STATE_TRANSITION."""
    if vm is not None:
        check_transition(vm_now, vm)
    if task is not None:
        check_task_transition(task_now, task)
    if task_now == TaskState.DELETING and vm not in ENDS_OF_DELETION:
        raise _refused("the instance is being deleted")


def _sources(
    table: dict, target: int | None, expected: Collection[int] | None
) -> frozenset[int] | None:
    """The states a move to ``target`` may start from, narrowed to ``expected``; None: any."""
    if target is None:
        return None if expected is None else frozenset(int(s) for s in expected)
    sources = frozenset(int(s) for s, targets in table.items() if target in targets)
    if expected is not None:
        sources &= frozenset(int(s) for s in expected)
    return sources


def move(
    instance_id: str,
    *,
    vm_state: int | None = None,
    task_state: int | None = None,
    expected_vm: Collection[int] | None = None,
    expected_task: Collection[int] | None = None,
    where: peewee.Expression | None = None,
    **fields: object,
) -> bool:
    """Move the instance to ``vm_state``/``task_state`` (None: kept) and write ``fields``,
    if it is not deleted, is in one of the expected states (None: any) from which the
    move is allowed, and matches ``where``. True if this write won, False if the
    instance is elsewhere (someone else moved first, or the move is not allowed)."""
    vm_from = _sources(VM_TRANSITIONS, vm_state, expected_vm)
    task_from = _sources(TASK_TRANSITIONS, task_state, expected_task)
    if vm_state not in ENDS_OF_DELETION:
        task_from = (task_from if task_from is not None else frozenset(TaskState)) - {
            TaskState.DELETING
        }
    condition = (Instance.id == instance_id) & Instance.deleted_time.is_null()
    for column, states in ((Instance.vm_state, vm_from), (Instance.task_state, task_from)):
        if states is not None:
            if not states:
                return False
            condition &= column.in_(sorted(states))
    if where is not None:
        condition &= where
    values = dict(fields)
    if vm_state is not None:
        values["vm_state"] = int(vm_state)
    if task_state is not None:
        values["task_state"] = int(task_state)
    values["update_time"] = utcnow()
    return Instance.update(**values).where(condition).execute() == 1
