"""A small thread-safe cache whose entries expire."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """Maps keys to values for at most ``ttl`` seconds, least recently used out first.

    ``put`` may shorten an entry's life below ``ttl`` (a token that expires sooner).
    """

    def __init__(
        self, ttl: float, maxsize: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= self._clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def put(self, key: str, value: V, ttl: float | None = None) -> None:
        life = self.ttl if ttl is None else min(ttl, self.ttl)
        if life <= 0:
            return
        with self._lock:
            self._data[key] = (self._clock() + life, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def drop_where(self, predicate: Callable[[V], bool]) -> int:
        """Drop every entry whose value ``predicate`` accepts; returns how many."""
        with self._lock:
            doomed = [key for key, (_, value) in self._data.items() if predicate(value)]
            for key in doomed:
                del self._data[key]
            return len(doomed)

    def pop(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
