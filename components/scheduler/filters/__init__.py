"""Host filters, nova style: one small class per file, each answering ``host_passes``.

A filter removes the hosts that cannot take the server; :func:`run` applies
them in order and counts what each removed, which is what an operator needs to
read when no host is left ("RamFilter removed 3 of 3 hosts").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec


class BaseHostFilter:
    """Keeps the hosts for which ``host_passes`` is true."""

    name = "BaseHostFilter"

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        raise NotImplementedError

    def relevant(self, spec: RequestSpec) -> bool:
        """False when the request asks nothing of this filter: every host passes."""
        return True

    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        if not self.relevant(spec):
            return hosts
        passes = self.host_passes
        return [host for host in hosts if passes(host, spec)]


@dataclasses.dataclass(frozen=True)
class FilterReport:
    """How many hosts one filter saw and how many it removed."""

    name: str
    before: int
    removed: int


def run(
    filters: Sequence[BaseHostFilter], hosts: list[HostState], spec: RequestSpec
) -> tuple[list[HostState], list[FilterReport]]:
    """The hosts passing every filter, and what each filter removed."""
    reports = []
    for host_filter in filters:
        kept = host_filter.filter_all(hosts, spec)
        reports.append(FilterReport(host_filter.name, len(hosts), len(hosts) - len(kept)))
        hosts = kept
    return hosts, reports


def summary(total: int, reports: Sequence[FilterReport]) -> str:
    """One sentence for a fault: which filters took the hosts away."""
    if total == 0:
        return "There are no compute hosts."
    removed = ", ".join(f"{r.name} removed {r.removed}" for r in reports if r.removed)
    return f"Filters left none of {total} hosts: {removed}."
