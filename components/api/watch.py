"""WatchServer: follow a server until it settles."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from components.compute_db.models import Instance, InstanceFault
from components.compute_db.states import TERMINAL_STATUSES, TaskState, status


def _version(row: Instance) -> tuple:
    faults = InstanceFault.select().where(InstanceFault.instance == row.id).count()
    return (
        row.vm_state,
        row.task_state,
        row.power_state,
        row.update_time,
        faults,
        row.deleted_time,
    )


def settled(row: Instance) -> bool:
    return status(row.vm_state, row.task_state) in TERMINAL_STATUSES and (
        row.task_state == TaskState.NONE
    )


def follow(first: Instance, active: Callable[[], bool], poll: float) -> Iterator[Instance]:
    """The current state, then each change, until a settled state (or the client leaves)."""
    row, seen = first, None
    while True:
        version = _version(row)
        if version != seen:
            seen = version
            yield row
            if settled(row):
                return
        time.sleep(poll)
        if not active():
            return
        row = Instance.get_by_id(first.id)
