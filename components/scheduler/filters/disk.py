"""DiskFilter: only hosts with the server's root disk free (after overcommit)."""

from __future__ import annotations

from components.scheduler.filters import BaseHostFilter
from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec


class DiskFilter(BaseHostFilter):
    name = "DiskFilter"

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return host_state.free_disk_gib >= spec.disk_gib
