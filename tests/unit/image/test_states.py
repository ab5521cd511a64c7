"""The image status machine: every legal move, and every illegal one refused."""

import itertools

import pytest

from components.framework.errors import FailedPrecondition
from components.image import states

LEGAL = {
    (states.BEGIN_UPLOAD, states.QUEUED): states.SAVING,
    (states.ABORT_UPLOAD, states.SAVING): states.QUEUED,
    (states.FINISH_UPLOAD, states.SAVING): states.ACTIVE,
    (states.KILL, states.SAVING): states.KILLED,
    (states.KILL, states.ACTIVE): states.KILLED,
    (states.KILL, states.DEACTIVATED): states.KILLED,
    (states.DEACTIVATE, states.ACTIVE): states.DEACTIVATED,
    (states.DEACTIVATE, states.DEACTIVATED): states.DEACTIVATED,
    (states.REACTIVATE, states.DEACTIVATED): states.ACTIVE,
    (states.REACTIVATE, states.ACTIVE): states.ACTIVE,
    **{
        (states.DELETE, status): states.DELETED for status in states.ALL if status != states.DELETED
    },
}
ILLEGAL = [
    (action, status)
    for action, status in itertools.product(states.TRANSITIONS, states.ALL)
    if (action, status) not in LEGAL
]


@pytest.mark.parametrize(("action", "status"), list(LEGAL))
def test_legal_transition_reaches_its_status(action, status):
    assert states.next_status(status, action) == LEGAL[(action, status)]


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
def test_illegal_transition_is_failed_precondition(action, status):
    with pytest.raises(FailedPrecondition) as info:
        states.next_status(status, action)
    assert info.value.reason == "IMAGE_STATUS_CONFLICT"
    assert info.value.metadata == {"status": status, "action": action}


def test_second_upload_of_a_saving_or_active_image_is_refused():
    for status in (states.SAVING, states.ACTIVE, states.KILLED, states.DEACTIVATED):
        with pytest.raises(FailedPrecondition):
            states.next_status(status, states.BEGIN_UPLOAD)


def test_killed_image_can_only_be_deleted():
    allowed = [a for a in states.TRANSITIONS if states.KILLED in states.sources(a)]
    assert allowed == [states.DELETE]


def test_deleted_image_allows_nothing():
    assert not [a for a in states.TRANSITIONS if states.DELETED in states.sources(a)]


def test_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError):
        states.next_status(states.QUEUED, "explode")


@pytest.mark.parametrize(
    ("status", "is_admin", "allowed"),
    [
        (states.ACTIVE, False, True),
        (states.ACTIVE, True, True),
        (states.DEACTIVATED, False, False),
        (states.DEACTIVATED, True, True),
        (states.QUEUED, True, False),
        (states.SAVING, True, False),
        (states.KILLED, True, False),
    ],
)
def test_download_needs_active_or_an_admin_for_deactivated(status, is_admin, allowed):
    assert states.can_download(status, is_admin) is allowed
