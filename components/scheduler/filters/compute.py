"""ComputeFilter: only hosts that are enabled and heartbeating."""

from __future__ import annotations

from components.scheduler.filters import BaseHostFilter
from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec


class ComputeFilter(BaseHostFilter):
    """An admin disabled the host, or it missed its heartbeats for service_down_time."""

    name = "ComputeFilter"

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return bool(host_state.enabled and host_state.is_up)
