"""The server interceptor: request id, one log line per RPC, auth and policy, errors.

Every RPC of every component passes through :class:`ServerInterceptor` once.
It takes (or makes) the request id, validates the token and applies the
method's policy rule, refuses a request whose enum fields hold undefined
values (:mod:`components.framework.enums`; each message of a client stream as
it is read), runs the servicer with the caller set (once per ``request_id``
of the request message when the component keeps
:class:`~components.framework.idempotency.Replies`), maps a
:class:`~components.framework.errors.StratusError` to its status and anything
unexpected to ``INTERNAL`` with a generic message (the traceback goes to the
log), and logs ``method code ms`` once the call ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import grpc

from components.framework import auth, enums, errors, tls
from components.framework.logs import REQUEST_ID_HEADER, new_request_id, request_id_var

if TYPE_CHECKING:  # a component without a database does not load the database layer
    from components.framework.idempotency import Replies

log = logging.getLogger("stratus.rpc")

MAX_REQUEST_ID = 128


class _Call:
    """State of one RPC as it passes through the interceptor."""

    def __init__(self, interceptor: ServerInterceptor, method: str, metadata: dict[str, str]):
        self.interceptor = interceptor
        self.method = method
        self.metadata = metadata
        rid = metadata.get(REQUEST_ID_HEADER, "")
        self.request_id = rid if 0 < len(rid) <= MAX_REQUEST_ID else new_request_id()
        self.code = grpc.StatusCode.OK
        self.started = time.perf_counter()
        self._rid_token = None
        self._caller_token = None

    def enter(self, context: grpc.ServicerContext) -> None:
        self._rid_token = request_id_var.set(self.request_id)
        context.send_initial_metadata(((REQUEST_ID_HEADER, self.request_id),))
        who = self.interceptor.authenticate(self.method, self.metadata, context)
        self._caller_token = auth.set_caller(who)

    def fail(self, exc: BaseException, context: grpc.ServicerContext):
        domain = f"stratus.{self.interceptor.component}"
        if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
            exc = errors.from_rpc_error(exc)
        if isinstance(exc, errors.StratusError):
            self.code = exc.code
            context.abort_with_status(errors.to_status(exc, domain))
        self.code = grpc.StatusCode.INTERNAL
        log.error("%s failed unexpectedly", self.method, exc_info=exc)
        context.abort_with_status(
            errors.to_status(
                errors.Internal(f"internal error (request id {self.request_id})"), domain
            )
        )

    def leave(self) -> None:
        ms = (time.perf_counter() - self.started) * 1000
        log.info("%s %s %.1fms", self.method, self.code.name, ms)
        if self._caller_token is not None:
            auth.reset_caller(self._caller_token)
        if self._rid_token is not None:
            request_id_var.reset(self._rid_token)


class ServerInterceptor(grpc.ServerInterceptor):
    """Applied to every RPC except health and reflection."""

    def __init__(
        self,
        component: str,
        policy: auth.Policy,
        validator: auth.TokenValidator | None,
        replies: Replies | None = None,
        mutual_tls: bool = False,
    ) -> None:
        self.component = component
        self.policy = policy
        self.validator = validator
        # None: no database to keep replies in (a test's fake); every call runs.
        self.replies = replies
        # Served over TLS: a service token counts only with a verified client certificate.
        self.mutual_tls = mutual_tls

    def authenticate(
        self, method: str, metadata: dict[str, str], context: grpc.ServicerContext | None = None
    ) -> auth.Caller | None:
        if self.policy.is_public(method):
            return None
        token = metadata.get(auth.TOKEN_HEADER, "")
        if not token:
            raise errors.Unauthenticated("missing x-auth-token metadata", reason="TOKEN_MISSING")
        if self.validator is None:
            raise errors.Unavailable("no token validator is configured")
        who = self.validator.validate(token)
        if self.mutual_tls and auth.SERVICE in who.roles:
            problem = tls.service_certificate_problem(who.user_name, context)
            if problem:
                raise errors.Unauthenticated(problem, reason="SERVICE_CERTIFICATE_REQUIRED")
        self.policy.check(method, who)
        return who

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.lstrip("/").split("/")[0] in auth.OPEN_SERVICES:
            return handler
        metadata = {
            k: v for k, v in handler_call_details.invocation_metadata or () if isinstance(v, str)
        }
        checked = _enums_checked(handler.request_streaming)
        if handler.response_streaming:
            behavior = self._streaming(method, metadata, _behavior_of(handler), checked)
        else:
            behavior = self._unary(method, metadata, _behavior_of(handler), checked)
        return _handler_like(handler, behavior)

    def _unary(self, method: str, metadata: dict[str, str], inner: Callable, checked: Callable):
        def behavior(request, context):
            call = _Call(self, method, metadata)
            try:
                call.enter(context)
                return self._once(method, checked(request), context, inner)
            except Exception as exc:
                call.fail(exc, context)
            finally:
                call.leave()

        return behavior

    def _streaming(self, method: str, metadata: dict[str, str], inner: Callable, checked: Callable):
        def behavior(request, context) -> Iterator:
            call = _Call(self, method, metadata)
            try:
                call.enter(context)
                yield from inner(checked(request), context)
            except Exception as exc:
                if context.is_active():
                    call.fail(exc, context)
            finally:
                call.leave()

        return behavior

    def _once(self, method: str, request, context, inner: Callable):
        """The servicer's reply, or the stored first reply to this request_id."""
        if self.replies is None or not self.replies.keyed(method):
            return inner(request, context)
        who = auth.optional_caller()
        project = who.project_id if who is not None else ""
        if hasattr(request, "__next__"):  # a client stream
            return self.replies.run_stream(method, project, request, lambda r: inner(r, context))
        return self.replies.run(method, project, request, lambda r: inner(r, context))


def _enums_checked(request_streaming: bool) -> Callable:
    """How a request reaches the servicer: with every enum field holding a defined value."""
    if request_streaming:
        return enums.check_stream

    def checked(request):
        enums.check(request)
        return request

    return checked


def _behavior_of(handler: grpc.RpcMethodHandler) -> Callable:
    return (
        handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream
    )


def _handler_like(handler: grpc.RpcMethodHandler, behavior: Callable) -> grpc.RpcMethodHandler:
    factory = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }[(handler.request_streaming, handler.response_streaming)]
    return factory(
        behavior,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
