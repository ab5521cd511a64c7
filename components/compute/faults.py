"""What a failure on this host is reported as: a fault, and whether another host might do better."""

from __future__ import annotations

import dataclasses
import traceback

from google.rpc import code_pb2

from components.framework import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    StratusError,
    Unauthenticated,
)

# A user's or the cloud's mistake that follows the instance to any host: a
# missing or corrupt image, a missing network, a full subnet, a volume in use.
_NOT_RETRYABLE = (
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    PermissionDenied,
    Unauthenticated,
    ResourceExhausted,
)


@dataclasses.dataclass(frozen=True)
class Fault:
    # A google.rpc.Code (code_pb2) number.
    code: int
    # Shown to the instance's owner.
    message: str
    # A traceback, shown to admins only.
    details: str = ""
    retryable: bool = True


def fault_of(exc: BaseException, doing: str) -> Fault:
    """The fault for ``exc`` raised while ``doing`` (e.g. "Build of instance X on host h")."""
    if isinstance(exc, StratusError):
        code = getattr(code_pb2, exc.code.name)
        message = exc.message
    else:
        code = code_pb2.INTERNAL
        message = str(exc) or type(exc).__name__
    return Fault(
        code=code,
        message=f"{doing} failed: {message}",
        details="".join(traceback.format_exception(exc)),
        retryable=not isinstance(exc, _NOT_RETRYABLE),
    )
