"""The scheduler's settings, beyond those every component has."""

from __future__ import annotations

import dataclasses

from components.compute_db.claims import AllocationRatios
from components.framework.config import Config


@dataclasses.dataclass
class SchedulerConfig(Config):
    # Overcommit per resource (nova's defaults); the conductor reads the same
    # settings when it claims on an alternate host.
    cpu_allocation_ratio: float = 16.0
    ram_allocation_ratio: float = 1.5
    disk_allocation_ratio: float = 1.0
    # Weigher multipliers: positive spreads (most free wins), negative stacks.
    ram_weight_multiplier: float = 1.0
    cpu_weight_multiplier: float = 1.0
    # A host whose last heartbeat is older than this is down.
    service_down_time_seconds: int = 60
    # Alternates handed on for reschedules when a request asks for 0.
    max_alternates: int = 2
    # Hosts one build may be tried on (the conductor's setting of the same name);
    # caps the alternates at max_attempts - 1.
    max_attempts: int = 3
    # Choose at random among this many best hosts, so that schedulers racing
    # for the same host spread out (nova's host_subset_size).
    host_subset_size: int = 1
    # How long a cast waits for a compute host that is not listening.
    cast_connect_timeout_seconds: float = 2.0

    @property
    def ratios(self) -> AllocationRatios:
        return AllocationRatios(
            cpu=self.cpu_allocation_ratio,
            ram=self.ram_allocation_ratio,
            disk=self.disk_allocation_ratio,
        )

    def alternates_for(self, requested: int) -> int:
        """How many alternates a request gets: its own number or the default, capped."""
        wanted = requested or self.max_alternates
        return max(0, min(wanted, self.max_attempts - 1))
