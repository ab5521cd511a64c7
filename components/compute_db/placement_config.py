"""How far hosts may be overcommitted and how many hosts one build may try.

One table, ``[placement]`` (or ``STRATUS_PLACEMENT_<SETTING>``, or
``STRATUS_<SETTING>``), read by both components that claim resources: the
scheduler (which chooses a host and its alternates) and the conductor (which
claims on an alternate when a build fails). Two copies of these settings could
disagree, and a reschedule would then admit what the scheduler refused; so
neither component's own table has them (setting one there is refused at start).
"""

from __future__ import annotations

import dataclasses

from components.compute_db.claims import AllocationRatios


@dataclasses.dataclass(frozen=True)
class PlacementConfig:
    # Overcommit per resource (nova's defaults): a host offers capacity * ratio.
    cpu_allocation_ratio: float = 16.0
    ram_allocation_ratio: float = 1.5
    disk_allocation_ratio: float = 1.0
    # Hosts one build may be tried on (nova's scheduler.max_attempts): the
    # scheduler hands on at most max_attempts - 1 alternates, the conductor
    # reschedules until a build has been tried max_attempts times.
    max_attempts: int = 3

    @property
    def ratios(self) -> AllocationRatios:
        return AllocationRatios(
            cpu=self.cpu_allocation_ratio,
            ram=self.ram_allocation_ratio,
            disk=self.disk_allocation_ratio,
        )
