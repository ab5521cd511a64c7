"""AvailabilityZoneFilter: only hosts in the zone the server asked for."""

from __future__ import annotations

from components.scheduler.filters import BaseHostFilter
from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec


class AvailabilityZoneFilter(BaseHostFilter):
    name = "AvailabilityZoneFilter"

    def relevant(self, spec: RequestSpec) -> bool:
        return bool(spec.availability_zone)

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        zone = spec.availability_zone
        return not zone or host_state.availability_zone == zone
