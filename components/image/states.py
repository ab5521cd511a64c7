"""An image's status machine, as in Glance.

queued → saving → active is the upload path; a failed upload goes back from
saving to queued (so it can be retried); killed means the data was lost or
could not be stored consistently; admins move active ⇄ deactivated; any image
can be deleted. Pure: callers apply the returned status with a
compare-and-set on the record.
"""

from __future__ import annotations

from components.framework import FailedPrecondition

QUEUED = "queued"
SAVING = "saving"
ACTIVE = "active"
KILLED = "killed"
DELETED = "deleted"
DEACTIVATED = "deactivated"

ALL = (QUEUED, SAVING, ACTIVE, KILLED, DELETED, DEACTIVATED)

BEGIN_UPLOAD = "begin_upload"
ABORT_UPLOAD = "abort_upload"
FINISH_UPLOAD = "finish_upload"
KILL = "kill"
DEACTIVATE = "deactivate"
REACTIVATE = "reactivate"
DELETE = "delete"

# action -> {from status: to status}
TRANSITIONS: dict[str, dict[str, str]] = {
    BEGIN_UPLOAD: {QUEUED: SAVING},
    ABORT_UPLOAD: {SAVING: QUEUED},
    FINISH_UPLOAD: {SAVING: ACTIVE},
    KILL: {SAVING: KILLED, ACTIVE: KILLED, DEACTIVATED: KILLED},
    # Deactivating twice (and reactivating twice) changes nothing and succeeds.
    DEACTIVATE: {ACTIVE: DEACTIVATED, DEACTIVATED: DEACTIVATED},
    REACTIVATE: {DEACTIVATED: ACTIVE, ACTIVE: ACTIVE},
    DELETE: {status: DELETED for status in ALL if status != DELETED},
}

_WHY = {
    BEGIN_UPLOAD: "an image accepts data only while queued",
    FINISH_UPLOAD: "only an image being uploaded can become active",
    ABORT_UPLOAD: "only an image being uploaded can go back to queued",
    KILL: "only an image with data (or being uploaded) can be killed",
    DEACTIVATE: "only an active image can be deactivated",
    REACTIVATE: "only a deactivated image can be reactivated",
    DELETE: "the image is already deleted",
}


def next_status(current: str, action: str) -> str:
    """The status after ``action``; FailedPrecondition if ``current`` does not allow it."""
    try:
        allowed = TRANSITIONS[action]
    except KeyError:
        raise ValueError(f"unknown image action {action!r}") from None
    if current not in allowed:
        raise FailedPrecondition(
            f"cannot {action.replace('_', ' ')} an image that is {current}: {_WHY[action]}",
            reason="IMAGE_STATUS_CONFLICT",
            status=current,
            action=action,
        )
    return allowed[current]


def sources(action: str) -> tuple[str, ...]:
    """The statuses ``action`` may start from."""
    return tuple(TRANSITIONS[action])


def can_download(status: str, is_admin: bool) -> bool:
    """Active images to everyone who can see them; deactivated ones to admins only."""
    return status == ACTIVE or (status == DEACTIVATED and is_admin)
