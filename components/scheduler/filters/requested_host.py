"""RequestedHostFilter: only the host an admin pinned the server to ("ZONE:HOST").

Nova skips its filters for a forced host; Stratus keeps them, so a pinned server
that does not fit its host gets NO_VALID_HOST instead of an overcommitted host.
"""

from __future__ import annotations

from components.scheduler.filters import BaseHostFilter
from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec


class RequestedHostFilter(BaseHostFilter):
    name = "RequestedHostFilter"

    def relevant(self, spec: RequestSpec) -> bool:
        return bool(spec.requested_host)

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return host_state.host == spec.requested_host
