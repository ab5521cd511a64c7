"""IgnoreHostsFilter: never the hosts the caller named (ones that failed this server)."""

from __future__ import annotations

from components.scheduler.filters import BaseHostFilter
from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec


class IgnoreHostsFilter(BaseHostFilter):
    name = "IgnoreHostsFilter"

    def relevant(self, spec: RequestSpec) -> bool:
        return bool(spec.ignore_hosts)

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return host_state.host not in spec.ignore_hosts
