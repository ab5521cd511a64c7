"""What the filters and weighers know of a compute host, read from ComputeNode rows.

Free capacity is ``capacity * allocation ratio - used``, the same sum the
claim's compare-and-swap checks. With thousands of hosts the states are read by
one query that selects only these columns and lets the database do the sums
and the heartbeat check; ``from_node`` computes the same thing from one row.
"""

from __future__ import annotations

import datetime
from typing import Any, NamedTuple

import peewee

from components.compute_db.claims import AllocationRatios
from components.compute_db.models import ComputeNode
from components.framework import db, utcnow


class HostState(NamedTuple):
    id: str
    host: str
    address: str
    availability_zone: str
    hypervisor_type: str
    architecture: str
    enabled: bool
    # Heartbeat within the service down time when the state was read.
    is_up: bool
    free_vcpus: float
    free_ram_mib: float
    free_disk_gib: float


def free(capacity: Any, used: Any, ratio: float) -> Any:
    """Room left on a resource; works on numbers and on column expressions alike."""
    return capacity * ratio - used


def heartbeat_cutoff(down_time_seconds: float, now: datetime.datetime | None = None):
    """The oldest heartbeat that still counts as up."""
    return (now or utcnow()) - datetime.timedelta(seconds=down_time_seconds)


def from_node(
    node: ComputeNode,
    ratios: AllocationRatios,
    down_time_seconds: float,
    now: datetime.datetime | None = None,
) -> HostState:
    beat = node.last_heartbeat
    return HostState(
        id=node.id,
        host=node.host,
        address=node.address,
        availability_zone=node.availability_zone,
        hypervisor_type=node.hypervisor_type,
        architecture=node.architecture,
        enabled=bool(node.enabled),
        is_up=beat is not None and beat >= heartbeat_cutoff(down_time_seconds, now),
        free_vcpus=free(node.vcpus, node.vcpus_used, ratios.cpu),
        free_ram_mib=free(node.ram_mib, node.ram_mib_used, ratios.ram),
        free_disk_gib=free(node.disk_gib, node.disk_gib_used, ratios.disk),
    )


def _ratio(value: float) -> peewee.Value:
    """A ratio as a query parameter; peewee would pass it through the integer column's
    converter (1.5 becomes 1) if given as a bare number next to the column."""
    return peewee.Value(value, converter=False)


def load(ratios: AllocationRatios, down_time_seconds: float) -> list[HostState]:
    """Every registered host, ordered by name, in one query.

    The rows come straight from the database cursor: converting ten thousand
    rows field by field through the ORM costs more than the whole scheduling
    decision.
    """
    node = ComputeNode
    query = node.select(
        node.id,
        node.host,
        node.address,
        node.availability_zone,
        node.hypervisor_type,
        node.architecture,
        node.enabled,
        node.last_heartbeat >= heartbeat_cutoff(down_time_seconds),
        free(node.vcpus, node.vcpus_used, _ratio(ratios.cpu)),
        free(node.ram_mib, node.ram_mib_used, _ratio(ratios.ram)),
        free(node.disk_gib, node.disk_gib_used, _ratio(ratios.disk)),
    ).order_by(node.host)
    cursor = db.execute(query)
    try:
        return list(map(HostState._make, cursor.fetchall()))
    finally:
        cursor.close()
