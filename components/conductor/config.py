"""Conductor settings."""

from __future__ import annotations

import dataclasses

from components.compute_db.placement_config import PlacementConfig
from components.framework import Config


@dataclasses.dataclass
class ConductorConfig(Config):
    # Allocation ratios (for claims on alternate hosts) and max_attempts (hosts
    # one build may be tried on): the [placement] table the scheduler reads too.
    placement: PlacementConfig = dataclasses.field(default_factory=PlacementConfig)
    # How often compute hosts should report (told to them in ReportComputeNode).
    report_interval_seconds: int = 10
    # The sweep (sweep.py) runs every sweep_interval_seconds and fails a build
    # still SCHEDULING build_start_timeout_seconds after it was handed to a
    # host, and one in a host's hands on a host silent for host_down_seconds
    # (three missed reports). With the defaults every stuck build is ERROR
    # within 70 s. 0 turns the sweep off.
    sweep_interval_seconds: float = 10.0
    build_start_timeout_seconds: float = 60.0
    host_down_seconds: float = 30.0
