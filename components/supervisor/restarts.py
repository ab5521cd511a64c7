"""When run-all starts a component that exited again, and when it gives up on it.

The shape of systemd's ``Restart=`` with ``StartLimitBurst``/``StartLimitIntervalSec``:
a component that exits is started again after a delay that doubles with each
exit still inside the window (1, 2, 4, ... seconds, capped); one that exits
``max_failures`` times within ``window_seconds`` is left stopped. Exits older
than the window are forgotten, so a component that crashes now and then is
restarted for ever. Pure logic: the clock is injected.
"""

from __future__ import annotations

import collections
import dataclasses
import time
from collections.abc import Callable, Mapping

from components.framework import InvalidArgument, load_config


@dataclasses.dataclass(frozen=True)
class RestartPolicy:
    # A component that exits this many times within window_seconds is left stopped.
    max_failures: int = 5
    window_seconds: float = 60.0
    # The delay before the first restart in a window; it doubles with each further exit.
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError(f"max_failures must be at least 1, not {self.max_failures}")
        if self.window_seconds <= 0:
            raise ValueError(f"window_seconds must be positive, not {self.window_seconds}")
        if not 0 <= self.backoff_base_seconds <= self.backoff_max_seconds:
            raise ValueError("backoff needs 0 <= backoff_base_seconds <= backoff_max_seconds")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RestartPolicy:
        """The defaults, overridden by ``STRATUS_SUPERVISOR_MAX_FAILURES`` and friends
        (read as every component's settings are, by the framework's config loader)."""
        try:
            return load_config(cls, "supervisor", env=env)
        except InvalidArgument as exc:
            raise ValueError(exc.message) from None

    def delay(self, failures: int) -> float:
        """Seconds to wait before a restart, after ``failures`` exits within the window."""
        exponent = min(max(failures - 1, 0), 32)
        return min(self.backoff_max_seconds, self.backoff_base_seconds * 2**exponent)


class RestartBudget:
    """One component's exits within the policy's sliding window."""

    def __init__(self, policy: RestartPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._exits: collections.deque[float] = collections.deque()

    def exited(self) -> float | None:
        """Record an exit now: seconds to wait before restarting, or None to give up."""
        now = self._clock()
        self._exits.append(now)
        while self._exits[0] <= now - self.policy.window_seconds:
            self._exits.popleft()
        if len(self._exits) >= self.policy.max_failures:
            return None
        return self.policy.delay(len(self._exits))

    @property
    def failures(self) -> int:
        """Exits recorded within the window that ended at the last exit."""
        return len(self._exits)
