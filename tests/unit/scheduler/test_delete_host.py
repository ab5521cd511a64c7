"""Removing a compute host: only one that is down and holds nothing, checked atomically."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path

import pytest

import components.compute_db
from components.compute_db import claims
from components.compute_db.models import ComputeNode
from components.compute_db.placement_config import PlacementConfig
from components.framework import database as db
from components.framework.clock import utcnow
from components.framework.errors import FailedPrecondition, NotFound
from components.scheduler import hosts

MIGRATIONS = Path(components.compute_db.__file__).parent / "migrations"
DOWN_TIME = 60.0


@pytest.fixture
def gone(tmp_path):
    """A host that last reported ten minutes ago."""
    db.connect(f"sqlite:///{tmp_path / 'compute.sqlite'}", MIGRATIONS)
    node = ComputeNode.create(
        host="gone",
        address="gone:8782",
        vcpus=8,
        ram_mib=4096,
        disk_gib=100,
        last_heartbeat=utcnow() - datetime.timedelta(minutes=10),
    )
    yield node
    db.close()


def still_there() -> bool:
    return ComputeNode.get_or_none(ComputeNode.host == "gone") is not None


def test_a_down_empty_host_is_removed(gone):
    hosts.delete_host("gone", DOWN_TIME)
    assert not still_there()
    with pytest.raises(NotFound):
        hosts.delete_host("gone", DOWN_TIME)


def test_a_host_is_up_until_its_heartbeat_is_older_than_the_down_time(gone):
    with pytest.raises(FailedPrecondition) as info:
        hosts.delete_host("gone", 3600)
    assert info.value.reason == "HOST_UP" and still_there()


def test_a_heartbeat_between_the_checks_and_the_delete_keeps_the_host(gone, monkeypatch):
    check = hosts._check_removable

    def check_then_heartbeat(node, cutoff):
        check(node, cutoff)
        ComputeNode.update(last_heartbeat=utcnow()).where(ComputeNode.id == node.id).execute()

    monkeypatch.setattr(hosts, "_check_removable", check_then_heartbeat)
    with pytest.raises(FailedPrecondition) as info:
        hosts.delete_host("gone", DOWN_TIME)
    assert info.value.reason == "HOST_UP" and still_there()


def test_a_claim_between_the_checks_and_the_delete_keeps_the_host_and_the_claim(gone, monkeypatch):
    check = hosts._check_removable
    held = []

    def check_then_claim(node, cutoff):
        check(node, cutoff)
        wants = claims.Resources(1, 512, 1)
        held.append(claims.claim(node.id, str(uuid.uuid4()), wants, PlacementConfig().ratios))

    monkeypatch.setattr(hosts, "_check_removable", check_then_claim)
    with pytest.raises(FailedPrecondition):
        hosts.delete_host("gone", DOWN_TIME)
    assert still_there() and held[0] is not None
    assert ComputeNode.get(ComputeNode.host == "gone").instances_used == 1
