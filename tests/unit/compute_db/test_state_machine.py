"""The instance state machine: every (from, to) pair, allowed and refused, and its
compare-and-swap write on every database backend."""

from __future__ import annotations

import itertools

import pytest
from google.rpc import code_pb2

import components.compute_db
from components.compute_db import lifecycle, state_machine
from components.compute_db.models import Instance, InstanceFault
from components.compute_db.states import TaskState, VmState
from components.framework import database as db
from components.framework.clock import utcnow
from components.framework.errors import FailedPrecondition
from tests.unit.compute_db import rows

V, T = VmState, TaskState

# The specification, written out pair by pair (not derived from the module's tables).
VM_ALLOWED = {
    (V.BUILDING, V.BUILDING),
    (V.BUILDING, V.ACTIVE),
    (V.BUILDING, V.ERROR),
    (V.BUILDING, V.DELETED),
    (V.ACTIVE, V.ACTIVE),
    (V.ACTIVE, V.STOPPED),
    (V.ACTIVE, V.ERROR),
    (V.ACTIVE, V.DELETED),
    (V.STOPPED, V.STOPPED),
    (V.STOPPED, V.ACTIVE),
    (V.STOPPED, V.ERROR),
    (V.STOPPED, V.DELETED),
    (V.ERROR, V.ERROR),
    (V.ERROR, V.ACTIVE),
    (V.ERROR, V.STOPPED),
    (V.ERROR, V.DELETED),
    (V.DELETED, V.DELETED),
}
_BUILD_STEPS = [T.SCHEDULING, T.NETWORKING, T.BLOCK_DEVICE_MAPPING, T.SPAWNING]
TASK_ALLOWED = {
    # No task: an action or a delete starts.
    (T.NONE, T.NONE),
    (T.NONE, T.POWERING_OFF),
    (T.NONE, T.POWERING_ON),
    (T.NONE, T.REBOOTING),
    (T.NONE, T.REBOOTING_HARD),
    (T.NONE, T.DELETING),
    # A build moves forward through its steps, ends, is deleted, or is rescheduled.
    *((a, b) for i, a in enumerate(_BUILD_STEPS) for b in _BUILD_STEPS[i:]),
    *((step, T.SCHEDULING) for step in _BUILD_STEPS),
    *((step, end) for step in _BUILD_STEPS for end in (T.NONE, T.DELETING)),
    # An action ends or is overtaken by a delete; a hard reboot may replace a soft one.
    *(
        (task, end)
        for task in (T.POWERING_OFF, T.POWERING_ON, T.REBOOTING, T.REBOOTING_HARD)
        for end in (task, T.NONE, T.DELETING)
    ),
    (T.REBOOTING, T.REBOOTING_HARD),
    # A deletion ends (in DELETED or ERROR: see the deleting tests).
    (T.DELETING, T.DELETING),
    (T.DELETING, T.NONE),
}
VM_PAIRS = list(itertools.product(VmState, repeat=2))
TASK_PAIRS = list(itertools.product(TaskState, repeat=2))


def _name(pair) -> str:
    return f"{pair[0].name}->{pair[1].name}"


@pytest.mark.parametrize(
    ("check", "allowed", "pair"),
    [
        pytest.param(state_machine.check_transition, VM_ALLOWED, pair, id=f"vm:{_name(pair)}")
        for pair in VM_PAIRS
    ]
    + [
        pytest.param(
            state_machine.check_task_transition, TASK_ALLOWED, pair, id=f"task:{_name(pair)}"
        )
        for pair in TASK_PAIRS
    ],
)
def test_check_allows_exactly_the_lifecycle_moves(check, allowed, pair):
    current, target = pair
    if pair in allowed:
        check(current, target)
    else:
        with pytest.raises(FailedPrecondition) as refused:
            check(current, target)
        assert refused.value.reason == "INVALID_STATE_TRANSITION"


@pytest.mark.parametrize("vm", [V.ACTIVE, V.STOPPED, V.BUILDING])
def test_a_deletion_ends_only_in_deleted_or_error(vm):
    for target in (V.ERROR, V.DELETED):
        state_machine.check(vm, T.DELETING, target, T.NONE)
    for target in {V.ACTIVE, V.STOPPED, V.BUILDING} - {vm}:
        with pytest.raises(FailedPrecondition):
            state_machine.check(vm, T.DELETING, target, T.NONE)
    with pytest.raises(FailedPrecondition):
        state_machine.check(vm, T.DELETING, None, T.NONE)  # its task ended, nothing else
    with pytest.raises(FailedPrecondition):
        state_machine.check(vm, T.DELETING)  # a write of other fields (the power state)


# -- the compare-and-swap write, on every backend ---------------------------------------


@pytest.fixture
def database(database_url):
    db.connect(database_url, components.compute_db.MIGRATIONS)
    yield


def _instance(vm: int, task: int) -> str:
    deleted_time = utcnow() if vm == V.DELETED else None
    return rows.instance(vm_state=vm, task_state=task, deleted_time=deleted_time).id


def _states(instance_id: str) -> tuple[int, int]:
    row = Instance.get_by_id(instance_id)
    return row.vm_state, row.task_state


def test_move_makes_every_allowed_vm_move_and_no_other(database):
    for current, target in VM_PAIRS:
        if V.UNSPECIFIED in (current, target):
            continue
        instance = _instance(current, T.NONE)
        won = state_machine.move(instance, vm_state=target)
        # A deleted instance is never written again.
        expected = (current, target) in VM_ALLOWED and current != V.DELETED
        assert won is expected, (current, target)
        assert _states(instance) == ((target if won else current), T.NONE)


def test_move_makes_every_allowed_task_move_and_no_other(database):
    for current, target in TASK_PAIRS:
        instance = _instance(V.ACTIVE, current)
        won = state_machine.move(instance, task_state=target)
        # A deleting instance is written only to end its deletion in DELETED or ERROR.
        expected = (current, target) in TASK_ALLOWED and current != T.DELETING
        assert won is expected, (current, target)
        assert _states(instance) == (V.ACTIVE, target if won else current)


def test_move_compares_with_the_expected_states_first(database):
    instance = _instance(V.ACTIVE, T.NONE)
    assert not state_machine.move(
        instance, task_state=T.POWERING_ON, expected_vm=[V.STOPPED], expected_task=[T.NONE]
    )
    assert not state_machine.move(instance, task_state=T.POWERING_OFF, expected_task=[T.REBOOTING])
    assert state_machine.move(
        instance, task_state=T.POWERING_OFF, expected_vm=[V.ACTIVE], expected_task=[T.NONE]
    )
    # The second of two racing actions loses.
    assert not state_machine.move(
        instance, task_state=T.REBOOTING, expected_vm=[V.ACTIVE], expected_task=[T.NONE]
    )
    assert _states(instance) == (V.ACTIVE, T.POWERING_OFF)


def test_move_never_makes_a_refused_move_whatever_the_caller_expects(database):
    instance = _instance(V.STOPPED, T.NONE)
    assert not state_machine.move(instance, vm_state=V.BUILDING, expected_vm=[V.STOPPED])
    assert _states(instance) == (V.STOPPED, T.NONE)


def test_a_deleting_instance_ends_in_error_or_deleted_only(database):
    deleting = _instance(V.ACTIVE, T.DELETING)
    assert not state_machine.move(deleting, vm_state=V.STOPPED, task_state=T.NONE)
    assert not state_machine.move(deleting, task_state=T.NONE)
    assert not state_machine.move(deleting, power_state=4)
    assert state_machine.move(deleting, vm_state=V.ERROR, task_state=T.NONE)
    assert _states(deleting) == (V.ERROR, T.NONE)


def test_set_error_records_a_fault_only_when_it_wins(database):
    building = _instance(V.BUILDING, T.SCHEDULING)
    assert lifecycle.set_error(
        building, code_pb2.RESOURCE_EXHAUSTED, "No valid host was found.", "details"
    )
    assert _states(building) == (V.ERROR, T.NONE)
    fault = InstanceFault.get(InstanceFault.instance == building)
    assert (fault.code, fault.message, fault.details) == (
        code_pb2.RESOURCE_EXHAUSTED,
        "No valid host was found.",
        "details",
    )
    # A delete that arrived first wins: no ERROR, no fault.
    deleting = _instance(V.BUILDING, T.DELETING)
    assert not lifecycle.set_error(
        deleting, code_pb2.UNAVAILABLE, "The scheduler could not be reached."
    )
    assert _states(deleting) == (V.BUILDING, T.DELETING)
    assert not InstanceFault.select().where(InstanceFault.instance == deleting).exists()


def test_finish_delete_happens_once(database):
    instance = _instance(V.ACTIVE, T.DELETING)
    assert lifecycle.finish_delete(instance)
    assert _states(instance) == (V.DELETED, T.NONE)
    assert Instance.get_by_id(instance).deleted_time is not None
    assert not lifecycle.finish_delete(instance)
