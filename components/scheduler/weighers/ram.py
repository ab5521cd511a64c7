"""RAMWeigher: the more memory free, the higher the weight (times ram_weight_multiplier)."""

from __future__ import annotations

from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec
from components.scheduler.weighers import BaseHostWeigher


class RAMWeigher(BaseHostWeigher):
    name = "RAMWeigher"

    def weigh(self, host_state: HostState, spec: RequestSpec) -> float:
        # float(): MySQL answers the free-capacity sum as a Decimal.
        return float(host_state.free_ram_mib)
