"""A failed build's reschedule: onto an alternate that has room, never over a state
another writer (a delete, the sweep) has moved the instance to meanwhile."""

from __future__ import annotations

import types

import pytest
from google.rpc import code_pb2

import components.compute_db
from components.compute_db import claims
from components.compute_db.models import Claim, Instance
from components.compute_db.placement_config import PlacementConfig
from components.compute_db.states import TaskState, VmState
from components.conductor.reschedule import Rescheduler
from components.framework import database as db
from tests.unit.compute_db import rows
from tests.unit.compute_db.rows import RecordingCasts

CONTEXT = types.SimpleNamespace(auth_token="t", user_id="u", project_id="p")


@pytest.fixture
def nodes(tmp_path):
    db.connect(f"sqlite:///{tmp_path / 'compute.sqlite'}", components.compute_db.MIGRATIONS)
    yield {name: rows.node(name) for name in ("host-a", "host-b")}
    db.close()


def _failed_on_host_a(nodes, vm_state=VmState.BUILDING, task_state=TaskState.SPAWNING):
    """An instance whose build on host-a failed (host-b its alternate), and the report."""
    instance = rows.instance(
        vm_state=vm_state, task_state=task_state, host="host-a", attempt=1, alternates=["host-b"]
    )
    held = claims.claim(
        nodes["host-a"].id, instance.id, claims.Resources(1, 1024, 10), PlacementConfig().ratios
    )
    Instance.update(claim_id=held.id).where(Instance.id == instance.id).execute()
    fault = types.SimpleNamespace(code=code_pb2.INTERNAL, message="libvirt said no", details="")
    report = types.SimpleNamespace(
        instance_id=instance.id, claim_id=held.id, host="host-a", retryable=True, fault=fault
    )
    return instance.id, report


def test_a_retryable_failure_moves_the_build_to_the_alternate(nodes):
    instance_id, report = _failed_on_host_a(nodes)
    casts = RecordingCasts()
    Rescheduler(compute_casts=casts, placement=PlacementConfig()).build_failed(CONTEXT, report)
    ((address, build),) = casts.sent
    moved = Instance.get_by_id(instance_id)
    assert (address, build.instance_id, build.claim_id) == (
        "host-b:8782",
        instance_id,
        moved.claim_id,
    )
    assert (moved.host, moved.attempt, moved.vm_state, moved.task_state) == (
        "host-b",
        2,
        VmState.BUILDING,
        TaskState.SCHEDULING,
    )


def test_max_attempts_ends_the_build_in_error(nodes):
    instance_id, report = _failed_on_host_a(nodes)
    casts = RecordingCasts()
    once = PlacementConfig(max_attempts=1)
    Rescheduler(compute_casts=casts, placement=once).build_failed(CONTEXT, report)
    assert casts.sent == []
    assert Instance.get_by_id(instance_id).vm_state == VmState.ERROR
    assert Claim.select().count() == 0


def test_a_failure_reported_after_the_sweep_failed_the_build_leaves_it_in_error(nodes):
    # The sweep gave up on the build (its host went silent) before the host's report came.
    instance_id, report = _failed_on_host_a(nodes, VmState.ERROR, TaskState.NONE)
    casts = RecordingCasts()
    Rescheduler(compute_casts=casts, placement=PlacementConfig()).build_failed(CONTEXT, report)
    after = Instance.get_by_id(instance_id)
    assert casts.sent == []
    assert (after.vm_state, after.host, after.attempt) == (VmState.ERROR, "host-a", 1)
    assert Claim.select().count() == 0
