"""CPUWeigher: the more virtual CPUs free, the higher the weight (times cpu_weight_multiplier)."""

from __future__ import annotations

from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec
from components.scheduler.weighers import BaseHostWeigher


class CPUWeigher(BaseHostWeigher):
    name = "CPUWeigher"

    def weigh(self, host_state: HostState, spec: RequestSpec) -> float:
        return float(host_state.free_vcpus)
