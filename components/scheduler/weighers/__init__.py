"""Host weighers, nova style: one small class per file, each answering ``weigh``.

Each weigher's raw values are normalised across the hosts being weighed (the
lowest becomes 0, the highest 1), multiplied by the weigher's configured
multiplier and summed per host. Higher weights win; with positive multipliers
the emptiest host wins, so spreading is the default, and a negative multiplier
stacks servers onto the fullest host that still fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec


class BaseHostWeigher:
    """Scores hosts on one resource; ``multiplier`` says how much, and which way."""

    name = "BaseHostWeigher"

    def __init__(self, multiplier: float = 1.0) -> None:
        self.multiplier = multiplier

    def weigh(self, host_state: HostState, spec: RequestSpec) -> float:
        raise NotImplementedError


class WeighedHost(NamedTuple):
    weight: float
    host_state: HostState


def normalize(values: Sequence[float]) -> list[float]:
    """Scale to 0..1 (min..max); all equal gives all 0, as nova does."""
    if not values:
        return []
    low, high = min(values), max(values)
    span = high - low
    if span == 0:
        return [0.0] * len(values)
    return [(value - low) / span for value in values]


def weights(
    weighers: Sequence[BaseHostWeigher], hosts: Sequence[HostState], spec: RequestSpec
) -> list[float]:
    """Each host's total weight, in the hosts' order."""
    totals = [0.0] * len(hosts)
    for weigher in weighers:
        if weigher.multiplier == 0:
            continue
        raw = [weigher.weigh(host, spec) for host in hosts]
        multiplier = weigher.multiplier
        totals = [
            total + multiplier * value for total, value in zip(totals, normalize(raw), strict=True)
        ]
    return totals


def best_first(
    weighers: Sequence[BaseHostWeigher], hosts: Sequence[HostState], spec: RequestSpec
) -> list[HostState]:
    """The hosts ordered by weight, highest first; ties keep the hosts' order (by name)."""
    totals = weights(weighers, hosts, spec)
    return [hosts[i] for i in sorted(range(len(hosts)), key=totals.__getitem__, reverse=True)]


def weigh(
    weighers: Sequence[BaseHostWeigher], hosts: Sequence[HostState], spec: RequestSpec
) -> list[WeighedHost]:
    """The hosts with their weights, best first (for reading; best_first is cheaper)."""
    totals = weights(weighers, hosts, spec)
    order = sorted(range(len(hosts)), key=totals.__getitem__, reverse=True)
    return [WeighedHost(totals[i], hosts[i]) for i in order]
