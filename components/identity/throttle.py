"""Throttling of failed logins: slows a password guesser without locking anyone out.

Two kinds of keys, both including the peer address, so an attacker can only
slow down logins from its own address:

* (user, peer): after ``user_free_failures`` failures for the user from that
  peer (typos), each further failure makes the next attempt for that user from
  that peer wait ``base * 2**(failures - free - 1)`` seconds, at most
  ``maximum``. A success resets it.
* peer: after ``peer_free_failures`` failures from a peer for any users (a
  password sprayer), every attempt from it waits the same way, except for
  users who logged in from that peer within ``trust_seconds`` (the service
  users of a host that shares its address with the attacker). It is not
  reset by a success (a sprayer owning one account could otherwise reset
  it), only forgotten once the peer has been quiet for twice the maximum
  delay.

A peer with no recent failures is never delayed. Attempts refused because of
the delay are not verified and do not count as failures. At most ``capacity``
keys are remembered (least recently failed forgotten first).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class LoginThrottle:
    def __init__(
        self,
        base: float = 0.5,
        maximum: float = 30.0,
        peer_free_failures: int = 5,
        user_free_failures: int = 3,
        capacity: int = 10_000,
        trust_seconds: float = 86_400.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.maximum = maximum
        self.peer_free_failures = peer_free_failures
        self.user_free_failures = user_free_failures
        self.capacity = capacity
        self.trust_seconds = trust_seconds
        self._clock = clock
        # key -> (failures, time of the last failure)
        self._failures: OrderedDict[tuple, tuple[int, float]] = OrderedDict()
        # (user, peer) -> time of the last successful login
        self._trusted: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.base > 0

    def _delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        return min(self.maximum, self.base * 2 ** min(failures - 1, 62))

    def _keys(self, user: str, peer: str) -> list[tuple[tuple, int]]:
        """Each key with the failures it forgives before delaying."""
        return [
            (("user", user, peer), self.user_free_failures),
            (("peer", peer), self.peer_free_failures),
        ]

    def _is_trusted(self, user: str, peer: str, now: float) -> bool:
        since = self._trusted.get((user, peer))
        return since is not None and now - since <= self.trust_seconds

    def retry_after(self, user: str, peer: str) -> float:
        """Seconds ``user`` must still wait before trying from ``peer`` (0: go ahead)."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        wait = 0.0
        with self._lock:
            trusted = self._is_trusted(user, peer, now)
            for key, free in self._keys(user, peer):
                if trusted and key[0] == "peer":
                    continue
                entry = self._failures.get(key)
                if entry is None:
                    continue
                failures, last = entry
                if now - last > 2 * self.maximum:
                    del self._failures[key]
                    continue
                wait = max(wait, last + self._delay(failures - free) - now)
        return max(0.0, wait)

    def failed(self, user: str, peer: str) -> None:
        if not self.enabled:
            return
        now = self._clock()
        with self._lock:
            for key, _ in self._keys(user, peer):
                failures, last = self._failures.pop(key, (0, now))
                if now - last > 2 * self.maximum:
                    failures = 0
                self._failures[key] = (failures + 1, now)
            while len(self._failures) > self.capacity:
                self._failures.popitem(last=False)

    def succeeded(self, user: str, peer: str) -> None:
        with self._lock:
            self._failures.pop(("user", user, peer), None)
            self._trusted.pop((user, peer), None)
            self._trusted[(user, peer)] = self._clock()
            while len(self._trusted) > self.capacity:
                self._trusted.popitem(last=False)

    def __len__(self) -> int:
        return len(self._failures)
