"""Host states read from ComputeNode rows: free = capacity * ratio - used; up = recent heartbeat."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

import components.compute_db
from components.compute_db.claims import AllocationRatios
from components.compute_db.models import ComputeNode
from components.framework import database as db
from components.framework.clock import utcnow
from components.scheduler import host_state

MIGRATIONS = Path(components.compute_db.__file__).parent / "migrations"


@pytest.fixture
def nodes(tmp_path):
    db.connect(f"sqlite:///{tmp_path / 'compute.sqlite'}", MIGRATIONS)
    now = utcnow()
    ComputeNode.create(
        host="b-fresh",
        address="b:1",
        vcpus=8,
        ram_mib=4096,
        disk_gib=100,
        vcpus_used=10,
        ram_mib_used=1024,
        disk_gib_used=40,
        last_heartbeat=now - datetime.timedelta(seconds=5),
    )
    ComputeNode.create(
        host="a-stale",
        address="a:1",
        vcpus=4,
        ram_mib=2048,
        disk_gib=10,
        enabled=False,
        last_heartbeat=now - datetime.timedelta(seconds=120),
    )
    ComputeNode.create(host="c-never", address="c:1", vcpus=1, ram_mib=1, disk_gib=1)
    yield
    db.close()


def test_free_is_capacity_times_ratio_minus_used():
    assert host_state.free(8, 10, 16.0) == 118.0
    assert host_state.free(4096, 1024, 1.5) == 5120.0


def test_load_reads_every_host_by_name_with_free_capacity_and_heartbeat(nodes):
    ratios = AllocationRatios(cpu=16.0, ram=1.5, disk=1.0)
    states = host_state.load(ratios, down_time_seconds=60)
    assert [s.host for s in states] == ["a-stale", "b-fresh", "c-never"]
    stale, fresh, never = states
    assert (fresh.free_vcpus, fresh.free_ram_mib, fresh.free_disk_gib) == (118, 5120, 60)
    assert fresh.is_up and fresh.enabled and fresh.address == "b:1"
    assert not stale.is_up and not stale.enabled
    assert not never.is_up


def test_load_and_from_node_agree(nodes):
    ratios = AllocationRatios(cpu=2.0, ram=1.0, disk=1.0)
    loaded = host_state.load(ratios, 60)
    built = [
        host_state.from_node(n, ratios, 60) for n in ComputeNode.select().order_by(ComputeNode.host)
    ]
    for a, b in zip(loaded, built, strict=True):
        assert a.host == b.host
        assert bool(a.is_up) == b.is_up and bool(a.enabled) == b.enabled
        assert (a.free_vcpus, a.free_ram_mib, a.free_disk_gib) == (
            b.free_vcpus,
            b.free_ram_mib,
            b.free_disk_gib,
        )
