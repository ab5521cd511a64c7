"""The conductor's sweep: builds that nobody will finish are failed, whatever their host.

A compute host fails its own interrupted builds when it starts again and
reports its failures, but a host can be gone for good, and a build cast can
be lost on the way to a host. Every sweep interval the conductor fails:

* a build still SCHEDULING ``build_start_timeout_seconds`` after it was
  handed to a host (or after it was created, if no host took it): its build
  request was lost;
* a build in a host's hands (SPAWNING, NETWORKING, BLOCK_DEVICE_MAPPING) on a
  host that has not reported for ``host_down_seconds`` (or is unknown). Not
  before this conductor has itself been up that long: hosts cannot report
  to a conductor that is down, and are not down for that.

Each goes ERROR with a fault that says why, and its claim is given back. The
write is a compare-and-swap on the same conditions, so a host that moves the
build on (or a user who deletes it) meanwhile wins. A host that comes back
later finds the instance ERROR and releases what the build left (resume.py).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging

import peewee
from google.rpc import code_pb2

from components.compute_db import lifecycle
from components.compute_db.models import ComputeNode, Instance
from components.compute_db.states import TaskState, VmState
from components.framework import utcnow

log = logging.getLogger(__name__)

HOST_TASKS = (TaskState.SPAWNING, TaskState.NETWORKING, TaskState.BLOCK_DEVICE_MAPPING)


@dataclasses.dataclass(frozen=True)
class Bounds:
    build_start_timeout_seconds: float
    host_down_seconds: float
    # When this conductor started (hosts' reports count from then).
    started: datetime.datetime = dataclasses.field(default_factory=utcnow)


def sweep(bounds: Bounds) -> list[str]:
    """Fail every build stuck beyond its bound; the ids of the instances failed."""
    now = utcnow()
    failed = []
    start_cutoff = now - datetime.timedelta(seconds=bounds.build_start_timeout_seconds)
    never_started = Instance.update_time < start_cutoff
    for row in Instance.select().where(_building(TaskState.SCHEDULING) & never_started):
        message = (
            f"Build of instance {row.id} was not started by host {row.host} within "
            f"{bounds.build_start_timeout_seconds:.0f}s (the build request was lost)"
            if row.host
            else f"Instance {row.id} was not scheduled within "
            f"{bounds.build_start_timeout_seconds:.0f}s"
        )
        if _fail(
            row.id, (TaskState.SCHEDULING,), never_started, code_pb2.DEADLINE_EXCEEDED, message
        ):
            failed.append(row.id)
    down_cutoff = now - datetime.timedelta(seconds=bounds.host_down_seconds)
    if down_cutoff < bounds.started:
        return failed
    alive = ComputeNode.select(ComputeNode.host).where(ComputeNode.last_heartbeat >= down_cutoff)
    orphaned = Instance.host.not_in(alive) & (Instance.update_time < down_cutoff)
    for row in Instance.select().where(_building(*HOST_TASKS) & orphaned):
        message = (
            f"Build of instance {row.id} was interrupted: host {row.host} has not reported "
            f"for {bounds.host_down_seconds:.0f}s"
        )
        if _fail(row.id, HOST_TASKS, orphaned, code_pb2.UNAVAILABLE, message):
            failed.append(row.id)
    return failed


def _building(*tasks: int) -> peewee.Expression:
    return (
        (Instance.vm_state == VmState.BUILDING)
        & Instance.task_state.in_(list(tasks))
        & Instance.deleted_time.is_null()
    )


def _fail(
    instance_id: str, tasks: tuple[int, ...], still: peewee.Expression, code: int, message: str
) -> bool:
    """ERROR with a fault and the claim released, if the instance is still building in one
    of ``tasks`` and ``still`` holds (a host or a user who moved it meanwhile wins)."""
    if not lifecycle.set_error(
        instance_id,
        code,
        message,
        expected_vm=(VmState.BUILDING,),
        expected_task=tasks,
        where=still,
    ):
        return False
    log.warning("%s; instance is ERROR", message)
    return True
