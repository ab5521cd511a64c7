"""Typed clients for calling other components.

``Clients.stub(ImagesStub, "image")`` gives a stub whose every call has a
deadline, carries the request id and a token, retries ``UNAVAILABLE`` only for
idempotent methods (Get*, List*, Validate*, Download*), and reaches the
component's address from the identity catalog unless one is configured.

``call(fn, request, retry=Retry(30))`` retries ``UNAVAILABLE`` for a bounded
time with exponential backoff and jitter, for any method: the caller makes the
request safe to repeat (a ``request_id`` the server replays, or a read).

The token sent is, in order: the one given to :func:`acting_as` (a compute
host working for a user from a cast), else the token of the caller whose RPC is
being served (so the user's token travels with the request), else the
component's own service token. ``stub(..., as_service=True)`` always sends the
service token.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import dataclasses
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TypeVar

import grpc

from components.framework import auth, errors, targets, tls
from components.framework.logs import REQUEST_ID_HEADER, current_request_id, new_request_id

log = logging.getLogger(__name__)

S = TypeVar("S")
IDEMPOTENT_PREFIXES = ("Get", "List", "Validate", "Download", "Watch")
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.enable_retries", 1),
    # A peer that restarts is reached again within a second or two, not after
    # gRPC's default reconnect backoff (up to two minutes).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
)

_acting: contextvars.ContextVar[str | None] = contextvars.ContextVar("acting_token", default=None)


@contextlib.contextmanager
def acting_as(token: str) -> Iterator[None]:
    """Send ``token`` on every onward call made inside the block."""
    reset = _acting.set(token)
    try:
        yield
    finally:
        _acting.reset(reset)


def retry_service_config(pb2: ModuleType) -> str:
    """A gRPC service config retrying UNAVAILABLE for the idempotent methods of ``pb2``."""
    names = [
        {"service": svc.full_name, "method": method.name}
        for svc in pb2.DESCRIPTOR.services_by_name.values()
        for method in svc.methods
        if method.name.startswith(IDEMPOTENT_PREFIXES) and not method.client_streaming
    ]
    config = {
        # A target listing several replicas ("ipv4:a:p,b:p") spreads calls over them all.
        "loadBalancingConfig": targets.LOAD_BALANCING,
        "methodConfig": [
            {
                "name": names,
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
        if names
        else [],
    }
    return json.dumps(config)


class _Metadata(
    collections.namedtuple(
        "_Metadata",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    pass


class _ClientInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds the deadline, request id and token to every outgoing call."""

    def __init__(self, timeout: float, token: Callable[[], str | None]):
        self.timeout = timeout
        self.token = token

    def _details(self, details: grpc.ClientCallDetails, streaming: bool) -> grpc.ClientCallDetails:
        metadata = list(details.metadata or ())
        keys = {k for k, _ in metadata}
        if REQUEST_ID_HEADER not in keys:
            rid = current_request_id()
            metadata.append((REQUEST_ID_HEADER, rid if rid != "-" else new_request_id()))
        if auth.TOKEN_HEADER not in keys:
            token = self.token()
            if token:
                metadata.append((auth.TOKEN_HEADER, token))
        timeout = details.timeout
        if timeout is None and not streaming:
            timeout = self.timeout
        return _Metadata(
            details.method,
            timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details, False), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details, True), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._details(details, True), request_iterator)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._details(details, True), request_iterator)


class ServiceToken:
    """The component's own token, issued by identity and renewed before it expires."""

    def __init__(self, issue: Callable[[], tuple[str, float]], renew_before: float = 300.0) -> None:
        """``issue()`` returns a new token and its expiry as seconds since the epoch."""
        self._issue = issue
        self._renew_before = renew_before
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or time.time() > self._expires - self._renew_before:
                self._token, self._expires = self._issue()
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None


class Clients:
    """Channels and stubs to other components, one channel per address and contract."""

    def __init__(
        self,
        resolve: Callable[[str], str],
        service_token: ServiceToken | None = None,
        timeout: float = 10.0,
        security: tls.Tls | None = None,
    ) -> None:
        self._resolve = resolve
        self.service_token = service_token
        self.timeout = timeout
        # The CA peers are verified against and the certificate presented (None: plaintext).
        self.tls = security
        self._channels: dict[tuple[str, str, bool], grpc.Channel] = {}
        self._lock = threading.Lock()

    def _user_token(self) -> str | None:
        acting = _acting.get()
        if acting:
            return acting
        who = auth.optional_caller()
        if who is not None and who.token:
            return who.token
        return self._service_token()

    def _service_token(self) -> str | None:
        return self.service_token.get() if self.service_token is not None else None

    def address(self, service_type: str) -> str:
        """The address of ``service_type`` (configured endpoint or catalog)."""
        return self._resolve(service_type)

    def channel(self, address: str, pb2: ModuleType, as_service: bool = False) -> grpc.Channel:
        key = (address, pb2.__name__, as_service)
        with self._lock:
            channel = self._channels.get(key)
            if channel is None:
                raw = tls.channel(
                    address,
                    self.tls,
                    (*CHANNEL_OPTIONS, ("grpc.service_config", retry_service_config(pb2))),
                    server_name=tls.service_name(pb2.DESCRIPTOR.package),
                )
                token = self._service_token if as_service else self._user_token
                channel = grpc.intercept_channel(raw, _ClientInterceptor(self.timeout, token))
                self._channels[key] = channel
            return channel

    def stub(
        self,
        stub_cls: type[S],
        service_type: str,
        *,
        address: str | None = None,
        as_service: bool = False,
    ) -> S:
        """A stub for ``service_type`` (catalog type such as ``image``) or ``address``."""
        pb2 = _pb2_of(stub_cls)
        return stub_cls(self.channel(address or self._resolve(service_type), pb2, as_service))

    def close(self) -> None:
        with self._lock:
            for channel in self._channels.values():
                channel.close()
            self._channels.clear()


def _pb2_of(stub_cls: type) -> ModuleType:
    import importlib

    module = stub_cls.__module__
    return importlib.import_module(module.removesuffix("_grpc"))


@dataclasses.dataclass(frozen=True)
class Retry:
    """Retry a call refused with one of ``codes`` for at most ``budget_seconds``.

    Backoff doubles from ``initial_seconds`` up to ``max_seconds``; each wait is
    between half and all of it (jitter), so many callers retrying together
    spread out. Only for requests that are safe to repeat.
    """

    budget_seconds: float = 30.0
    initial_seconds: float = 0.1
    max_seconds: float = 2.0
    codes: frozenset = frozenset({grpc.StatusCode.UNAVAILABLE})

    def delays(self) -> Iterator[float]:
        """The waits before each retry; ends when the next would overrun the budget."""
        deadline = time.monotonic() + self.budget_seconds
        backoff = self.initial_seconds
        while True:
            delay = random.uniform(backoff / 2, backoff)
            if time.monotonic() + delay > deadline:
                return
            yield delay
            backoff = min(backoff * 2, self.max_seconds)

    def run(self, fn: Callable[[], S], retryable: Callable[[Exception], bool], what: str) -> S:
        """``fn()``, made again after each backoff while it raises an exception
        ``retryable`` accepts; the last one is raised once the budget is spent."""
        delays, told = self.delays(), False
        while True:
            try:
                return fn()
            except Exception as exc:
                if not retryable(exc):
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                if not told:
                    reason = exc.code().name if isinstance(exc, grpc.RpcError) else exc
                    budget = self.budget_seconds
                    log.warning("%s: %s; retrying for up to %.0fs", what, reason, budget)
                    told = True
                time.sleep(delay)


def call(fn: Callable[..., S], *args, retry: Retry | None = None, **kwargs) -> S:
    """Make a call, turning a received error into the matching domain error.

    With ``retry``, a call refused with one of its codes is made again (the same
    request) until it gets another answer or the retry budget is spent."""
    try:
        if retry is None:
            return fn(*args, **kwargs)
        return retry.run(
            lambda: fn(*args, **kwargs),
            lambda exc: isinstance(exc, grpc.RpcError) and exc.code() in retry.codes,
            _name(fn),
        )
    except grpc.RpcError as exc:
        raise errors.from_rpc_error(exc) from None


def _name(fn: Callable) -> str:
    method = getattr(fn, "_method", None)
    if isinstance(method, bytes):
        return method.decode()
    return str(method or getattr(fn, "__name__", fn))
