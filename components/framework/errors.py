"""Domain errors and their one mapping to gRPC status codes.

Domain code raises these; the server interceptor turns them into a status with
a ``google.rpc.ErrorInfo`` detail (reason in UPPER_SNAKE, domain
``stratus.<component>``, metadata such as the offending field). Clients turn a
received status back into the same class with :func:`from_rpc_error`, so an
error crosses a component boundary with its meaning intact.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status


class StratusError(Exception):
    """Base of every error a caller is meant to see."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    reason: str = "UNKNOWN"

    def __init__(self, message: str, *, reason: str | None = None, **metadata: object) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata = {k: str(v) for k, v in metadata.items() if v is not None}


class InvalidArgument(StratusError):
    """The request itself is wrong: a missing, malformed or out-of-range field."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"


class NotFound(StratusError):
    """The named resource does not exist (or is not visible to the caller)."""

    code = grpc.StatusCode.NOT_FOUND
    reason = "NOT_FOUND"


class AlreadyExists(StratusError):
    """A resource with the same unique name or id exists."""

    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"


Conflict = AlreadyExists


class FailedPrecondition(StratusError):
    """The resource is not in a state that allows the operation."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"


class PermissionDenied(StratusError):
    """The caller is known but may not do this."""

    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"


class Unauthenticated(StratusError):
    """No credentials, or credentials that are not valid."""

    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


class ResourceExhausted(StratusError):
    """A quota or a pool (addresses, host capacity) has run out."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "RESOURCE_EXHAUSTED"


class QuotaExceeded(ResourceExhausted):
    reason = "QUOTA_EXCEEDED"


class NoValidHost(ResourceExhausted):
    reason = "NO_VALID_HOST"


class Unavailable(StratusError):
    """A component this call depends on cannot be reached; retrying may help."""

    code = grpc.StatusCode.UNAVAILABLE
    reason = "UNAVAILABLE"


class DeadlineExceeded(StratusError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    reason = "DEADLINE_EXCEEDED"


class Internal(StratusError):
    code = grpc.StatusCode.INTERNAL
    reason = "INTERNAL"


_BY_CODE: dict[grpc.StatusCode, type[StratusError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        PermissionDenied,
        Unauthenticated,
        ResourceExhausted,
        Unavailable,
        DeadlineExceeded,
        Internal,
    )
}


# A status travels in the trailers, which gRPC caps at 8 KiB by default: a
# larger one reaches the client as RESOURCE_EXHAUSTED instead of the error. The
# message goes twice (grpc-message, percent-encoded, and inside the
# base64-encoded details), so these bounds keep the whole under about 4 KiB
# whatever an error quotes.
MESSAGE_MAX_BYTES = 512
METADATA_KEY_MAX_BYTES = 64
METADATA_VALUE_MAX_BYTES = 128
METADATA_MAX_BYTES = 1024


def to_status(error: StratusError, domain: str) -> grpc.Status:
    """The rich status for ``error``: code, message and one ErrorInfo, bounded in size."""
    info = error_details_pb2.ErrorInfo(
        reason=_bounded(error.reason, METADATA_KEY_MAX_BYTES),
        domain=domain,
        metadata=_bounded_metadata(error.metadata),
    )
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(
        code=getattr(code_pb2, error.code.name),
        message=_bounded(error.message, MESSAGE_MAX_BYTES),
        details=[detail],
    )
    return rpc_status.to_status(status)


def _bounded(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, marked with "…" when cut."""
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max_bytes - 3].decode("utf-8", "ignore") + "…"


def _bounded_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """Each key and value bounded; entries past the total budget are left out."""
    kept: dict[str, str] = {}
    used = 0
    for key, value in metadata.items():
        key = _bounded(key, METADATA_KEY_MAX_BYTES)
        value = _bounded(value, METADATA_VALUE_MAX_BYTES)
        size = len(key.encode()) + len(value.encode())
        if used + size > METADATA_MAX_BYTES:
            break
        kept[key] = value
        used += size
    return kept


def error_info(rpc_error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo carried by a received error, if any."""
    try:
        status = rpc_status.from_call(rpc_error)
    except (ValueError, AttributeError):
        return None
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def from_rpc_error(rpc_error: grpc.RpcError) -> StratusError:
    """The domain error equivalent to an error received from another component."""
    code = rpc_error.code() if hasattr(rpc_error, "code") else grpc.StatusCode.UNKNOWN
    message = rpc_error.details() if hasattr(rpc_error, "details") else str(rpc_error)
    cls = _BY_CODE.get(code, StratusError)
    info = error_info(rpc_error)
    error = cls(message or code.name, reason=info.reason if info else None)
    if info is not None:
        error.metadata = dict(info.metadata)
    if cls is StratusError:
        error.code = code
    return error
