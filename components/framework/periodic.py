"""A background task that runs now and then every interval, until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from components.framework.errors import StratusError

log = logging.getLogger(__name__)


class Periodic:
    """Runs ``task()`` at once and then every ``interval`` seconds on its own thread.

    ``task`` may return a new interval (the conductor tells hosts how often to
    report). An exception is logged and the next run happens on schedule.
    """

    def __init__(self, name: str, interval: float, task: Callable[[], float | None]) -> None:
        self.name = name
        self.interval = interval
        self.task = task
        self._stop = threading.Event()
        self._delay = 0.0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self, delay: float = 0.0) -> None:
        """Run now, or first after ``delay`` seconds."""
        self._delay = delay
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        if self._stop.wait(self._delay):
            return
        while not self._stop.is_set():
            try:
                interval = self.task()
                if interval:
                    self.interval = interval
            except StratusError as exc:
                log.warning("%s failed: %s; trying again in %.0fs", self.name, exc, self.interval)
            except Exception:
                log.exception("%s failed; trying again in %.0fs", self.name, self.interval)
            self._stop.wait(self.interval)
