"""What the CLI reports when something goes wrong: one line, exit status 1.

A gRPC status becomes words a terminal user can act on ("Not found: ...",
"Cannot reach the image service at 127.0.0.1:9292"); the status code, the
ErrorInfo reason and the traceback are shown only with ``--debug``.
"""

from __future__ import annotations

import click
import grpc

from components.framework import error_info

# The first words of the line for each status code, in the user's terms.
WORDS = {
    grpc.StatusCode.NOT_FOUND: "Not found",
    grpc.StatusCode.INVALID_ARGUMENT: "Invalid request",
    grpc.StatusCode.ALREADY_EXISTS: "Already exists",
    grpc.StatusCode.FAILED_PRECONDITION: "Not possible in the current state",
    grpc.StatusCode.PERMISSION_DENIED: "Not allowed",
    grpc.StatusCode.UNAUTHENTICATED: "Not authenticated",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "Out of quota or capacity",
    grpc.StatusCode.ABORTED: "Conflict with a concurrent change, try again",
    grpc.StatusCode.OUT_OF_RANGE: "Out of range",
    grpc.StatusCode.CANCELLED: "Cancelled",
    grpc.StatusCode.DATA_LOSS: "Data lost",
    grpc.StatusCode.UNKNOWN: "Unknown error",
}


class CliError(click.ClickException):
    """A mistake or failure the user reads as one line; the command exits with status 1."""

    exit_code = 1


class Interrupted(CliError):
    """Ctrl-C: the command stopped, with exit status 130 (128 + SIGINT) as shells expect."""

    exit_code = 130


class RemoteError(CliError):
    """A call to a Stratus service answered with an error status."""

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str,
        *,
        reason: str = "",
        service: str = "",
        method: str = "",
        address: str = "",
        timeout: float | None = None,
    ) -> None:
        self.code = code
        self.details = " ".join((details or "").split())
        self.reason = reason
        self.service = service
        self.method = method
        self.address = address
        self.timeout = timeout
        super().__init__(self._words())

    def _words(self) -> str:
        where = f"the {self.service} service" if self.service else "the service"
        if self.address:
            where += f" at {self.address}"
        code = self.code
        if code == grpc.StatusCode.UNAVAILABLE:
            return f"Cannot reach {where}: {self.details or 'it is not answering'}"
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            limit = f" within {self.timeout:g} s" if self.timeout else " in time"
            return f"No answer from {where}{limit} ({self.method or 'call'})"
        if code == grpc.StatusCode.INTERNAL:
            return f"Internal error in {where}: {self.details} (its log has the details)"
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return f"{where[0].upper()}{where[1:]} does not implement {self.method}"
        if self.reason == "QUOTA_EXCEEDED":
            # The service's message usually says "quota exceeded" itself: say it once.
            if "quota exceeded" in self.details.lower():
                return self.details[:1].upper() + self.details[1:]
            return f"Quota exceeded: {self.details}"
        return f"{WORDS.get(code, code.name.replace('_', ' ').capitalize())}: {self.details}"

    def debug_line(self) -> str:
        """What --debug adds: the raw status, reason and call."""
        return (
            f"{self.method or '?'} on {self.service or '?'} {self.address}: "
            f"{self.code.name} reason={self.reason or '-'} details={self.details!r}"
        )


def from_rpc_error(
    exc: grpc.RpcError,
    *,
    service: str = "",
    method: str = "",
    address: str = "",
    timeout: float | None = None,
) -> RemoteError:
    """The :class:`RemoteError` for an error received from ``service``."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    details = exc.details() if hasattr(exc, "details") else str(exc)
    info = error_info(exc)
    return RemoteError(
        code,
        details or code.name,
        reason=info.reason if info is not None else "",
        service=service,
        method=method,
        address=address,
        timeout=timeout,
    )
