"""RamFilter: only hosts with the server's memory free (after overcommit)."""

from __future__ import annotations

from components.scheduler.filters import BaseHostFilter
from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec


class RamFilter(BaseHostFilter):
    name = "RamFilter"

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return host_state.free_ram_mib >= spec.ram_mib
