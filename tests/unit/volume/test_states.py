"""The volume status machine: every legal move, and every illegal one refused by name."""

import pytest

from components.framework.errors import FailedPrecondition
from components.volume import states
from components.volume.states import Op, Status

LEGAL = {
    (Op.FINISH_CREATE, Status.CREATING): Status.AVAILABLE,
    (Op.FAIL_CREATE, Status.CREATING): Status.ERROR,
    (Op.RESERVE, Status.AVAILABLE): Status.RESERVED,
    (Op.UNRESERVE, Status.RESERVED): Status.AVAILABLE,
    (Op.ATTACH, Status.AVAILABLE): Status.ATTACHING,
    (Op.ATTACH, Status.RESERVED): Status.ATTACHING,
    (Op.FINISH_ATTACH, Status.ATTACHING): Status.IN_USE,
    (Op.FAIL_ATTACH, Status.ATTACHING): Status.AVAILABLE,
    (Op.FAIL_RESERVED_ATTACH, Status.ATTACHING): Status.RESERVED,
    (Op.DETACH, Status.IN_USE): Status.DETACHING,
    (Op.DETACH, Status.DETACHING): Status.DETACHING,
    (Op.FINISH_DETACH, Status.DETACHING): Status.AVAILABLE,
    (Op.FAIL_DETACH, Status.DETACHING): Status.IN_USE,
    (Op.EXTEND, Status.AVAILABLE): Status.EXTENDING,
    (Op.FINISH_EXTEND, Status.EXTENDING): Status.AVAILABLE,
    (Op.FAIL_EXTEND, Status.EXTENDING): Status.ERROR,
    (Op.DELETE, Status.AVAILABLE): Status.DELETING,
    (Op.DELETE, Status.ERROR): Status.DELETING,
    (Op.DELETE, Status.ERROR_DELETING): Status.DELETING,
    (Op.FAIL_DELETE, Status.DELETING): Status.ERROR_DELETING,
}
ILLEGAL = [(op, status) for op in Op for status in Status if (op, status) not in LEGAL]


@pytest.mark.parametrize(("op", "status"), list(LEGAL), ids=lambda x: x.value)
def test_legal_transition_reaches_its_target(op, status):
    assert states.transition(status, op) is LEGAL[op, status]
    assert states.allowed(status, op)


@pytest.mark.parametrize(("op", "status"), ILLEGAL, ids=lambda x: x.value)
def test_illegal_transition_is_failed_precondition_naming_status_and_operation(op, status):
    with pytest.raises(FailedPrecondition) as raised:
        states.transition(status, op)
    error = raised.value
    assert error.reason == "INVALID_VOLUME_STATUS"
    assert error.metadata == {"status": status.value, "operation": op.value}
    assert status.value in error.message
    assert op.value.replace("_", " ") in error.message
    assert not states.allowed(status, op)


def test_table_has_exactly_the_legal_transitions():
    table = {(op, s): t for op, moves in states.TRANSITIONS.items() for s, t in moves.items()}
    assert table == LEGAL


def test_cinder_life_creating_to_in_use_and_back_to_deleting():
    status = Status.CREATING
    for op in (Op.FINISH_CREATE, Op.RESERVE, Op.ATTACH, Op.FINISH_ATTACH, Op.DETACH):
        status = states.transition(status, op)
    assert status is Status.DETACHING
    status = states.transition(states.transition(status, Op.FINISH_DETACH), Op.DELETE)
    assert status is Status.DELETING


def test_attached_volume_cannot_be_deleted_or_extended():
    for op in (Op.DELETE, Op.EXTEND, Op.RESERVE):
        with pytest.raises(FailedPrecondition, match="in_use"):
            states.transition(Status.IN_USE, op)


def test_transition_accepts_stored_strings():
    assert states.transition("available", "reserve") is Status.RESERVED
