"""WatchServer and WatchServers: follow servers until they settle.

The state is written by the conductor, another process, so the api polls the
database. One thread polls for every follower at once (one query per tick for
all watched servers, reading only what tells a change), and wakes the
followers whose server changed: the cost of a tick does not grow with the
number of watches, and the full row is read only when something changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import peewee

from components.compute_db.models import Instance, InstanceFault
from components.compute_db.states import TERMINAL_STATUSES, TaskState, status

log = logging.getLogger(__name__)

# A follower re-checks its client at least this often even when nothing changes.
IDLE_CHECK_SECONDS = 1.0


def _faults():
    return InstanceFault.select(peewee.fn.COUNT(InstanceFault.id)).where(
        InstanceFault.instance == Instance.id
    )


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


class Poller:
    """Reads the version of every watched server once per ``poll`` seconds."""

    def __init__(self, poll: float) -> None:
        self.poll = poll
        self._lock = threading.Lock()
        self._watched: dict[str, dict[int, tuple[tuple, threading.Event]]] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def wait_for_any(self, seen: dict[str, tuple], timeout: float) -> None:
        """Until the version of any server in ``seen`` differs from its own (or ``timeout``)."""
        changed = threading.Event()
        key = id(changed)
        with self._lock:
            for instance_id, version in seen.items():
                self._watched.setdefault(instance_id, {})[key] = (version, changed)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="watch", daemon=True)
                self._thread.start()
            self._wake.set()
        try:
            changed.wait(timeout)
        finally:
            with self._lock:
                for instance_id in seen:
                    waiting = self._watched.get(instance_id, {})
                    waiting.pop(key, None)
                    if not waiting:
                        self._watched.pop(instance_id, None)

    def _run(self) -> None:
        while True:
            with self._lock:
                ids = list(self._watched)
                if not ids:
                    self._wake.clear()
            if not ids:
                self._wake.wait()
                continue
            try:
                current_versions = versions(ids)
            except peewee.PeeweeException:
                log.exception("reading the watched servers failed")
                current_versions = {}
            with self._lock:
                for instance_id, waiting in self._watched.items():
                    current = current_versions.get(instance_id)
                    for seen, changed in waiting.values():
                        if current is None or current != seen:
                            changed.set()
            time.sleep(self.poll)


def versions(ids: list[str]) -> dict[str, tuple]:
    """What tells a change of each of these servers (as ``_version``), in one query."""
    query = Instance.select(
        Instance.id,
        Instance.vm_state,
        Instance.task_state,
        Instance.power_state,
        Instance.update_time,
        _faults(),
        Instance.deleted_time,
    ).where(Instance.id.in_(ids))
    # The count comes back typed like the column it is compared with (a string).
    return {
        str(id_): (vm, task, power, updated, int(faults), deleted)
        for id_, vm, task, power, updated, faults, deleted in query.tuples()
    }


def follow(first: Instance, active: Callable[[], bool], poller: Poller) -> Iterator[Instance]:
    """The current state, then each change, until a settled state (or the client leaves)."""
    for row in follow_many({str(first.id): first}, active, poller):
        if isinstance(row, str):  # purged meanwhile
            return
        yield row


def follow_many(
    firsts: dict[str, Instance | None], active: Callable[[], bool], poller: Poller
) -> Iterator[Instance | str]:
    """Each server's current state (in the order of ``firsts``), then each change of any,
    until every one has settled.

    Yields rows, or the id of a server that has no row (None in ``firsts``, or
    purged meanwhile; nothing more comes for it). One query per tick tells
    which servers changed; only their rows are read again.
    """
    rows = dict(firsts)
    seen: dict[str, tuple] = {}
    changed = list(rows)
    while True:
        for instance_id in changed:
            row = rows[instance_id]
            if row is None:
                del rows[instance_id]
                yield instance_id
                continue
            seen[instance_id] = _version(row)
            yield row
            if settled(row):
                del rows[instance_id]
        if not rows:
            return
        poller.wait_for_any({i: seen[i] for i in rows}, IDLE_CHECK_SECONDS)
        if not active():
            return
        current = versions(list(rows))
        changed = [i for i in rows if current.get(i) != seen[i]]
        fresh = {str(r.id): r for r in Instance.select().where(Instance.id.in_(changed))}
        rows.update({i: fresh.get(i) for i in changed})
