"""Image data between a file and a gRPC stream, with the work spread over threads.

An upload reads the file and hashes it (MD5) while gRPC sends the previous
chunk; a download hashes and writes each chunk while the next one arrives.
Done one after the other, as the CLI did, reading, hashing, sending and writing
add up (profiled with py-spy: a 512 MiB download spent 1.0 s in MD5 and 1.0 s in
write() on the main thread). File I/O, hashlib (on large buffers) and gRPC all
release the GIL, so the stages overlap on separate cores. Each queue holds at
most ``DEPTH`` chunks, which bounds the memory used to DEPTH MiB per stage.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

DEPTH = 4
_END = object()
_POLL_SECONDS = 0.1


class _Stage:
    """One thread applying ``work`` to every item put, in order; errors come back."""

    def __init__(self, work: Callable[[bytes], object], name: str) -> None:
        self._work = work
        self._items: queue.Queue = queue.Queue(maxsize=DEPTH)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._items.get()) is not _END:
            if self._error is None:
                try:
                    self._work(item)
                except BaseException as exc:  # handed to the caller by put()/close()
                    self._error = exc

    def put(self, item: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._items.put(item)

    def close(self) -> None:
        """Wait until every item is done; raise what the work raised."""
        self._items.put(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error


@contextlib.contextmanager
def behind(work: Callable[[bytes], object], name: str = "stratus-stage") -> Iterator:
    """``put(chunk)`` hands ``chunk`` to ``work`` on a thread of its own, in order.

    Leaving the block waits for the work to finish and raises its error, if any.
    """
    stage = _Stage(work, name)
    try:
        yield stage.put
    except BaseException:
        with contextlib.suppress(BaseException):
            stage.close()
        raise
    stage.close()


def read_ahead(path: Path, chunk_bytes: int, on_chunk: Callable[[bytes], object]) -> Iterator:
    """The chunks of ``path``, read (and passed to ``on_chunk``) by a thread ahead of use.

    Closing the iterator early (a failed upload) stops the thread.
    """
    chunks: queue.Queue = queue.Queue(maxsize=DEPTH)
    stop = threading.Event()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            with open(path, "rb", buffering=0) as data:
                while chunk := data.read(chunk_bytes):
                    on_chunk(chunk)
                    if not offer(chunk):
                        return
            offer(_END)
        except BaseException as exc:  # raised in the consumer
            offer(exc)

    reader = threading.Thread(target=produce, name="stratus-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := chunks.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()
