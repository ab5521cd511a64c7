"""The scheduler's settings, beyond those every component has."""

from __future__ import annotations

import dataclasses

from components.compute_db.claims import AllocationRatios
from components.compute_db.placement_config import PlacementConfig
from components.framework import Config


@dataclasses.dataclass
class SchedulerConfig(Config):
    # Allocation ratios and max_attempts: the [placement] table the conductor
    # reads too (it claims on alternate hosts).
    placement: PlacementConfig = dataclasses.field(default_factory=PlacementConfig)
    # Weigher multipliers: positive spreads (most free wins), negative stacks.
    ram_weight_multiplier: float = 1.0
    cpu_weight_multiplier: float = 1.0
    # A host whose last heartbeat is older than this is down.
    service_down_time_seconds: int = 60
    # Alternates handed on for reschedules when a request asks for 0 (at most
    # placement.max_attempts - 1).
    max_alternates: int = 2
    # Choose at random among this many best hosts, so that schedulers racing
    # for the same host spread out (nova's host_subset_size).
    host_subset_size: int = 1
    # How long a cast waits for a compute host that is not listening.
    cast_connect_timeout_seconds: float = 2.0

    @property
    def ratios(self) -> AllocationRatios:
        return self.placement.ratios

    def alternates_for(self, requested: int) -> int:
        """How many alternates a request gets: its own number or the default, capped."""
        wanted = requested or self.max_alternates
        return max(0, min(wanted, self.placement.max_attempts - 1))
