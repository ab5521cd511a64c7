"""One-way casts over long-lived client streams (OpenStack's ``rpc.cast``).

The sender keeps one client-streaming call open per receiver and writes each
cast into it. :meth:`CastSender.send` returns once gRPC has taken the message
for the wire, or raises :class:`CastFailed` when the stream to that receiver is
broken and cannot be reopened, so the caller can pick another host or fail the
work instead of losing it silently. Like ``rpc.cast`` a cast is delivered at
most once; a receiver that dies after taking a message is covered by its own
reconciliation on restart.

The receiver reads the stream and hands each message to a handler on a worker
pool without blocking the stream. Messages with the same key (an instance id)
are handled one after another in arrival order; different keys in parallel.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from typing import Any

import grpc

from components.framework.logs import request_id_var

log = logging.getLogger(__name__)

_CLOSE = object()


class CastFailed(Exception):
    """The cast could not be handed to its receiver."""


class _Stream:
    """One open client-streaming call and the queue feeding it."""

    def __init__(self, open_call: Callable[[Iterator[Any]], grpc.Future]) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.error: str | None = None
        self.future = open_call(self._requests())
        self.future.add_done_callback(self._done)

    def _requests(self) -> Iterator[Any]:
        while True:
            item = self._queue.get()
            if item is _CLOSE:
                return
            message, taken = item
            if taken is not None:
                taken.set()
            yield message

    def _done(self, future: grpc.Future) -> None:
        if future.cancelled():
            self.error = "cancelled"
        elif future.exception() is not None:
            exc = future.exception()
            self.error = f"{exc.code().name}: {exc.details()}" if hasattr(exc, "code") else str(exc)
        else:
            self.error = "closed by the receiver"

    @property
    def alive(self) -> bool:
        return not self.future.done()

    def put(self, message: Any, timeout: float | None) -> None:
        taken = threading.Event() if timeout is not None else None
        self._queue.put((message, taken))
        if taken is None:
            return
        deadline = timeout
        while not taken.wait(min(0.05, deadline)):
            deadline -= 0.05
            if not self.alive:
                raise CastFailed(f"stream broken: {self.error}")
            if deadline <= 0:
                raise CastFailed(f"receiver did not take the cast within {timeout:.1f}s")

    def close(self) -> Any:
        self._queue.put(_CLOSE)
        return self.future


class CastSender:
    """Keeps one stream per receiver address and writes casts into it.

    ``open_call(address, requests)`` starts the stream-unary call (usually
    ``stub.Casts.future``); ``connect_timeout`` bounds the wait for a receiver
    that is not listening.
    """

    def __init__(
        self,
        open_call: Callable[[str, Iterator[Any]], grpc.Future],
        ready: Callable[[str, float], bool],
        connect_timeout: float = 2.0,
        send_timeout: float = 5.0,
    ) -> None:
        self._open_call = open_call
        self._ready = ready
        self.connect_timeout = connect_timeout
        self.send_timeout = send_timeout
        self._streams: dict[str, _Stream] = {}
        self._lock = threading.Lock()

    def _stream(self, address: str) -> _Stream:
        with self._lock:
            stream = self._streams.get(address)
            if stream is not None and stream.alive:
                return stream
            if stream is not None:
                log.warning("cast stream to %s broke (%s); reconnecting", address, stream.error)
            if not self._ready(address, self.connect_timeout):
                self._streams.pop(address, None)
                raise CastFailed(f"receiver {address} is not reachable")
            stream = _Stream(lambda requests: self._open_call(address, requests))
            self._streams[address] = stream
            return stream

    def send(self, address: str, message: Any, wait: bool = True) -> None:
        """Hand ``message`` to the receiver at ``address``; raises :class:`CastFailed`."""
        stream = self._stream(address)
        try:
            stream.put(message, self.send_timeout if wait else None)
        except CastFailed:
            with self._lock:
                if self._streams.get(address) is stream:
                    del self._streams[address]
            raise

    def broken(self, address: str) -> bool:
        stream = self._streams.get(address)
        return stream is not None and not stream.alive

    def close(self, timeout: float = 5.0) -> dict[str, Any]:
        """Close every stream; returns each receiver's summary (or the error)."""
        with self._lock:
            streams, self._streams = self._streams, {}
        results: dict[str, Any] = {}
        for address, stream in streams.items():
            future = stream.close()
            try:
                results[address] = future.result(timeout=timeout)
            except (grpc.RpcError, futures.TimeoutError) as exc:
                results[address] = exc
        return results


class KeyedExecutor:
    """A worker pool that runs tasks with the same key one after another, in order."""

    def __init__(self, max_workers: int = 16, name: str = "cast") -> None:
        self._pool = futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._pending: dict[str, collections.deque] = {}
        self._lock = threading.Lock()

    def submit(self, key: str, fn: Callable[[], None]) -> None:
        with self._lock:
            waiting = self._pending.get(key)
            if waiting is not None:
                waiting.append(fn)
                return
            self._pending[key] = collections.deque()
        self._pool.submit(self._run, key, fn)

    def _run(self, key: str, fn: Callable[[], None]) -> None:
        while True:
            try:
                fn()
            except Exception:
                log.exception("cast handler failed")
            with self._lock:
                waiting = self._pending[key]
                if not waiting:
                    del self._pending[key]
                    return
                fn = waiting.popleft()

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)


Handler = Callable[[Any, Any], None]


class CastReceiver:
    """Reads a cast stream and dispatches each message by its ``oneof`` case.

    ``handlers`` maps the oneof field name (``build_and_run_instance``) to
    ``handler(context, payload)``; ``key(payload)`` picks the ordering key.
    """

    def __init__(
        self,
        handlers: dict[str, Handler],
        key: Callable[[Any], str] = lambda payload: getattr(payload, "instance_id", ""),
        oneof: str = "cast",
        executor: KeyedExecutor | None = None,
    ) -> None:
        self.handlers = handlers
        self.key = key
        self.oneof = oneof
        self.executor = executor or KeyedExecutor()

    def receive(self, messages: Iterable[Any]) -> int:
        """Dispatch every message of one stream; returns how many arrived."""
        received = 0
        for message in messages:
            received += 1
            kind = message.WhichOneof(self.oneof)
            handler = self.handlers.get(kind or "")
            if handler is None:
                log.warning("cast of unknown kind %r ignored", kind)
                continue
            payload = getattr(message, kind)
            self.executor.submit(self.key(payload), self._task(handler, message, payload))
        return received

    @staticmethod
    def _task(handler: Handler, message: Any, payload: Any) -> Callable[[], None]:
        context = message.context

        def run() -> None:
            reset = request_id_var.set(context.request_id or "-")
            try:
                handler(context, payload)
            finally:
                request_id_var.reset(reset)

        return run
