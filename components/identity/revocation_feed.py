"""Revocations in the order they happened, for WatchRevocations.

Identity publishes one :class:`Revocation` per committed change that makes
tokens invalid; each watcher follows the feed with a resume token
``<epoch>.<sequence>``. The feed lives in the identity process's memory: a
resume token from another run (another epoch), or one older than the last
``capacity`` events, cannot be replayed, and the watcher is told to reset
(drop everything it cached) instead. That is always safe for a cache.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator

from components.framework import ResourceExhausted


@dataclasses.dataclass(frozen=True)
class Revocation:
    """Tokens matching every non-empty field stopped being valid (none set: all tokens)."""

    audit_id: str = ""
    user_id: str = ""
    project_id: str = ""
    domain_id: str = ""
    # Tokens issued at or after this time (ms since the epoch) are not covered; 0: all.
    issued_before_ms: int = 0
    revoke_ms: int = dataclasses.field(default_factory=lambda: int(time.time() * 1000))


@dataclasses.dataclass(frozen=True)
class Batch:
    """What one WatchRevocations response carries."""

    reset: bool
    events: list[Revocation]
    resume_token: str


class RevocationFeed:
    def __init__(self, capacity: int = 10_000) -> None:
        self.epoch = secrets.token_hex(8)
        self._events: deque[tuple[int, Revocation]] = deque(maxlen=capacity)
        self._sequence = 0
        self._changed = threading.Condition()
        self._closed = False
        self._watchers = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def publish(self, event: Revocation) -> None:
        with self._changed:
            self._sequence += 1
            self._events.append((self._sequence, event))
            self._changed.notify_all()

    def _token(self) -> str:
        return f"{self.epoch}.{self._sequence}"

    def _position(self, resume_token: str) -> int | None:
        """The sequence ``resume_token`` stands for, if the feed can continue from it."""
        epoch, _, text = resume_token.partition(".")
        if epoch != self.epoch or not text.isdigit():
            return None
        position = int(text)
        oldest = self._events[0][0] if self._events else self._sequence + 1
        if position > self._sequence or position + 1 < oldest:
            return None
        return position

    def _since(self, position: int) -> list[Revocation]:
        return [event for sequence, event in self._events if sequence > position]

    def start(self, resume_token: str) -> Batch:
        """The first batch: the events missed since ``resume_token``, or a reset."""
        return self.next(resume_token, timeout=0)

    def next(self, resume_token: str, timeout: float) -> Batch:
        """The events after ``resume_token`` once there are any (empty after ``timeout``),
        or a reset if the feed cannot continue from it."""
        with self._changed:
            position = self._position(resume_token)
            if position is None:
                return Batch(True, [], self._token())
            if position == self._sequence and not self._closed and timeout > 0:
                self._changed.wait(timeout)
            return Batch(False, self._since(position), self._token())

    def wake(self) -> None:
        """Let every waiting watcher look again (one of them was cancelled)."""
        with self._changed:
            self._changed.notify_all()

    def close(self) -> None:
        """Identity is stopping: every watcher returns now and its stream ends."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @contextlib.contextmanager
    def watching(self, limit: int) -> Iterator[None]:
        """Count one watcher for the block; refuse more than ``limit`` at once."""
        with self._changed:
            if self._watchers >= limit:
                raise ResourceExhausted(
                    f"identity already serves {limit} revocation watchers",
                    reason="TOO_MANY_WATCHERS",
                )
            self._watchers += 1
        try:
            yield
        finally:
            with self._changed:
                self._watchers -= 1
