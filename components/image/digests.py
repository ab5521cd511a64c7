"""The MD5 and SHA-512 of a byte stream, computed while it streams.

Each hash runs on its own thread: hashlib releases the GIL for large buffers,
so the two hashes, the receiving and the writing of the data overlap instead
of adding up (MD5 alone runs at well under 1 GB/s on one core).
"""

from __future__ import annotations

import hashlib
import queue
import threading

OS_HASH_ALGO = "sha512"
# Chunks waiting for each hash; bounds memory to this many chunks per hash.
_BACKLOG = 8
_STOP = None


class _HashThread:
    def __init__(self, name: str) -> None:
        self.hash = hashlib.new(name)
        self._queue: queue.Queue = queue.Queue(maxsize=_BACKLOG)
        self._thread = threading.Thread(target=self._run, name=f"image-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        update, get = self.hash.update, self._queue.get
        while (data := get()) is not _STOP:
            update(data)

    def put(self, data: bytes | memoryview) -> None:
        self._queue.put(data)

    def stop(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()


class StreamDigests:
    """Feed with :meth:`update`; :meth:`hexdigests` (or :meth:`close`) once at the end.

    The data passed to ``update`` must not change afterwards (bytes, or a view
    of an immutable buffer): it is hashed later, on another thread.
    """

    def __init__(self) -> None:
        self._md5 = _HashThread("md5")
        self._sha512 = _HashThread(OS_HASH_ALGO)
        self._closed = False

    def update(self, data: bytes | memoryview) -> None:
        self._md5.put(data)
        self._sha512.put(data)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._md5.stop()
            self._sha512.stop()

    def hexdigests(self) -> tuple[str, str]:
        """(md5, sha512) of everything fed, as lowercase hex."""
        self.close()
        return self._md5.hash.hexdigest(), self._sha512.hash.hexdigest()

    def __enter__(self) -> StreamDigests:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
