"""Compute database rows for unit tests, and a cast sender that records builds."""

from __future__ import annotations

import uuid

from components.compute_db.models import ComputeNode, Instance
from tests.contract.scheduler_fakes import add_instance, add_node


def instance(**fields) -> Instance:
    """An instance of 1 vCPU, 1024 MiB, 10 GiB, waiting to be scheduled unless told."""
    return add_instance(str(uuid.uuid4()), "u", **fields)


def node(name: str, **fields) -> ComputeNode:
    """A compute host that has just reported (4 vCPUs, 4096 MiB, 100 GiB unless told)."""
    return add_node(name, f"{name}:8782", **{"vcpus": 4, "ram_mib": 4096, **fields})


class RecordingCasts:
    """A compute cast client that records (address, BuildAndRunInstance) and sends nothing."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []

    def context(self, **fields):
        return fields

    def cast(self, address, context, **payload) -> None:
        self.sent.append((address, payload["build_and_run_instance"]))
