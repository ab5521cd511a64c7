"""An undo stack: each step of a build pushes how to take it back.

On failure the steps are undone newest first. An undo that fails is logged
and the rest still run: a leftover is better than stopping half way, and the
reconciler and ListDomains exist to find leftovers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from components.framework import StratusError

log = logging.getLogger(__name__)


class UndoStack:
    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], object]]] = []

    def push(self, description: str, undo: Callable[..., object], *args: object) -> None:
        self._steps.append((description, lambda: undo(*args)))

    def __len__(self) -> int:
        return len(self._steps)

    def run(self) -> list[str]:
        """Undo every step, newest first; returns what could not be undone."""
        failed = []
        while self._steps:
            description, undo = self._steps.pop()
            try:
                undo()
                log.info("undone: %s", description)
            except StratusError as exc:
                log.error("could not undo: %s: %s", description, exc)
                failed.append(description)
            except Exception:
                log.exception("could not undo: %s", description)
                failed.append(description)
        return failed

    def clear(self) -> None:
        """Keep everything: the work succeeded."""
        self._steps.clear()
