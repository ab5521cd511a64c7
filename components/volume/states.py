"""The volume status machine, as Cinder's: which operation may move which status where.

Pure data and one function; the domain code applies the result with a
compare-and-swap UPDATE (``WHERE status = <current>``) so two calls racing on
one volume cannot both win.
"""

from __future__ import annotations

import enum

from components.framework import FailedPrecondition


class Status(enum.StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ATTACHING = "attaching"
    IN_USE = "in_use"
    DETACHING = "detaching"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"
    EXTENDING = "extending"


class Op(enum.StrEnum):
    FINISH_CREATE = "finish_create"
    FAIL_CREATE = "fail_create"
    RESERVE = "reserve"
    UNRESERVE = "unreserve"
    ATTACH = "attach"
    FINISH_ATTACH = "finish_attach"
    # A failed attach returns the volume to where it came from.
    FAIL_ATTACH = "fail_attach"
    FAIL_RESERVED_ATTACH = "fail_reserved_attach"
    DETACH = "detach"
    FINISH_DETACH = "finish_detach"
    FAIL_DETACH = "fail_detach"
    EXTEND = "extend"
    FINISH_EXTEND = "finish_extend"
    FAIL_EXTEND = "fail_extend"
    DELETE = "delete"
    FAIL_DELETE = "fail_delete"


S = Status
TRANSITIONS: dict[Op, dict[Status, Status]] = {
    Op.FINISH_CREATE: {S.CREATING: S.AVAILABLE},
    Op.FAIL_CREATE: {S.CREATING: S.ERROR},
    Op.RESERVE: {S.AVAILABLE: S.RESERVED},
    Op.UNRESERVE: {S.RESERVED: S.AVAILABLE},
    Op.ATTACH: {S.AVAILABLE: S.ATTACHING, S.RESERVED: S.ATTACHING},
    Op.FINISH_ATTACH: {S.ATTACHING: S.IN_USE},
    Op.FAIL_ATTACH: {S.ATTACHING: S.AVAILABLE},
    Op.FAIL_RESERVED_ATTACH: {S.ATTACHING: S.RESERVED},
    # DETACHING -> DETACHING: a detach interrupted half way may be repeated.
    Op.DETACH: {S.IN_USE: S.DETACHING, S.DETACHING: S.DETACHING},
    Op.FINISH_DETACH: {S.DETACHING: S.AVAILABLE},
    Op.FAIL_DETACH: {S.DETACHING: S.IN_USE},
    Op.EXTEND: {S.AVAILABLE: S.EXTENDING},
    Op.FINISH_EXTEND: {S.EXTENDING: S.AVAILABLE},
    Op.FAIL_EXTEND: {S.EXTENDING: S.ERROR},
    Op.DELETE: {S.AVAILABLE: S.DELETING, S.ERROR: S.DELETING, S.ERROR_DELETING: S.DELETING},
    Op.FAIL_DELETE: {S.DELETING: S.ERROR_DELETING},
}

# Statuses in which a volume holds an attachment record.
ATTACHED = frozenset({S.ATTACHING, S.IN_USE, S.DETACHING})


def allowed(current: Status | str, op: Op | str) -> bool:
    return Status(current) in TRANSITIONS[Op(op)]


def transition(current: Status | str, op: Op | str) -> Status:
    """The status ``op`` moves a volume in ``current`` to.

    Raises FailedPrecondition (reason INVALID_VOLUME_STATUS, naming the status and
    the operation) when the machine does not allow it.
    """
    current, op = Status(current), Op(op)
    target = TRANSITIONS[op].get(current)
    if target is None:
        raise FailedPrecondition(
            f"cannot {op.value.replace('_', ' ')} a volume that is {current.value}",
            reason="INVALID_VOLUME_STATUS",
            status=current.value,
            operation=op.value,
        )
    return target
