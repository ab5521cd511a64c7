"""Allocation ratios and max_attempts: one [placement] table, read by the scheduler and
the conductor alike, so a reschedule admits exactly what the scheduler admits."""

from __future__ import annotations

import types

import pytest
from google.rpc import code_pb2

import components.compute_db
from components.compute_db.models import Claim, ComputeNode, Instance
from components.compute_db.states import TaskState, VmState
from components.conductor.__main__ import COMPONENT as CONDUCTOR
from components.conductor.reschedule import Rescheduler
from components.framework import database as db
from components.framework.config import load_config
from components.framework.errors import InvalidArgument
from components.scheduler import host_state
from components.scheduler.__main__ import COMPONENT as SCHEDULER
from tests.unit.compute_db import rows
from tests.unit.compute_db.rows import RecordingCasts

PLACEMENT = (
    "[placement]\ncpu_allocation_ratio = 4.0\nram_allocation_ratio = {ram}\nmax_attempts = 5\n"
)


def _configs(tmp_path, text: str, env: dict[str, str]):
    """The scheduler's and the conductor's configs, as each loads its own at start."""
    path = tmp_path / "stratus.toml"
    path.write_text(text)
    return tuple(
        load_config(component.config_cls, component.name, path, env=env)
        for component in (SCHEDULER, CONDUCTOR)
    )


def test_scheduler_and_conductor_read_one_placement_table(tmp_path):
    scheduler, conductor = _configs(tmp_path, PLACEMENT.format(ram=1.0), env={})
    assert scheduler.placement == conductor.placement
    assert scheduler.ratios == conductor.placement.ratios
    assert (conductor.placement.ratios.cpu, conductor.placement.ratios.ram) == (4.0, 1.0)
    assert scheduler.alternates_for(10) == 4  # max_attempts - 1


def test_the_environment_sets_placement_for_both(tmp_path):
    env = {"STRATUS_RAM_ALLOCATION_RATIO": "2.0", "STRATUS_PLACEMENT_DISK_ALLOCATION_RATIO": "3"}
    scheduler, conductor = _configs(tmp_path, "", env=env)
    for config in (scheduler, conductor):
        assert (config.placement.ram_allocation_ratio, config.placement.disk_allocation_ratio) == (
            2.0,
            3.0,
        )


@pytest.mark.parametrize(
    "table", ["[scheduler]\nram_allocation_ratio = 2.0\n", "[conductor]\nmax_attempts = 1\n"]
)
def test_a_component_table_cannot_set_placement(tmp_path, table):
    with pytest.raises(InvalidArgument, match="unknown configuration keys"):
        _configs(tmp_path, table, env={})


# -- the ratios in use: the scheduler's view of a host and a reschedule's claim on it ----


@pytest.fixture
def database(tmp_path):
    db.connect(f"sqlite:///{tmp_path / 'compute.sqlite'}", components.compute_db.MIGRATIONS)
    yield
    db.close()


def _failed_build(node: ComputeNode) -> types.SimpleNamespace:
    """An instance of 1200 MiB whose build failed on another host, ``node`` its alternate."""
    instance = rows.instance(
        ram_mib=1200,
        task_state=TaskState.SPAWNING,
        host="failed-host",
        attempt=1,
        alternates=[node.host],
    )
    fault = types.SimpleNamespace(code=code_pb2.INTERNAL, message="Build failed: boom", details="")
    return types.SimpleNamespace(
        instance_id=instance.id, claim_id="", host="failed-host", retryable=True, fault=fault
    )


@pytest.mark.parametrize(("ram_ratio", "fits"), [(1.0, False), (1.5, True)])
def test_reschedule_and_scheduler_use_the_same_ratios(tmp_path, database, ram_ratio, fits):
    scheduler, conductor = _configs(tmp_path, PLACEMENT.format(ram=ram_ratio), env={})
    node = rows.node("alternate", ram_mib=1000)
    (seen,) = host_state.load(scheduler.ratios, scheduler.service_down_time_seconds)
    assert (seen.free_ram_mib >= 1200) is fits

    casts = RecordingCasts()
    message = _failed_build(node)
    context = types.SimpleNamespace(auth_token="t", user_id="u", project_id="p")
    Rescheduler(compute_casts=casts, placement=conductor.placement).build_failed(context, message)

    after = Instance.get_by_id(message.instance_id)
    assert bool(casts.sent) is fits
    assert Claim.select().where(Claim.instance_id == after.id).exists() is fits
    if fits:
        assert (after.host, after.vm_state, after.task_state) == (
            "alternate",
            VmState.BUILDING,
            TaskState.SCHEDULING,
        )
    else:
        assert (after.vm_state, after.task_state) == (VmState.ERROR, TaskState.NONE)
