"""Conductor settings."""

from __future__ import annotations

import dataclasses

from components.framework.config import Config


@dataclasses.dataclass
class ConductorConfig(Config):
    # Hosts one build may be tried on (nova's scheduler.max_attempts).
    max_attempts: int = 3
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
    # Used when a reschedule claims resources on an alternate host; the same
    # settings (STRATUS_CPU_ALLOCATION_RATIO, ...) apply to the scheduler.
    cpu_allocation_ratio: float = 16.0
    ram_allocation_ratio: float = 1.5
    disk_allocation_ratio: float = 1.0
