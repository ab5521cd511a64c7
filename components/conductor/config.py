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
    # Used when a reschedule claims resources on an alternate host; the same
    # settings (STRATUS_CPU_ALLOCATION_RATIO, ...) apply to the scheduler.
    cpu_allocation_ratio: float = 16.0
    ram_allocation_ratio: float = 1.5
    disk_allocation_ratio: float = 1.0
