"""Choosing a host for one server: filter, weigh, claim, hand over.

nova's FilterScheduler in small: every registered host is read once, the
filters drop the ones that cannot take the server, the weighers order the rest
best first, and the best host that can still be claimed gets the claim and the
BuildAndRunInstance cast. A host that another scheduler filled meanwhile is
skipped; a host whose compute service cannot be reached gives its claim back
and the next alternate is tried.

A repeated request for an instance already placed and still waiting for its
host casts the build to that host again: the request that placed it may have
died between its claim and its cast (the api then asks another scheduler),
and the host ignores a build it has begun. If that host cannot be reached
now, its claim is given back and the instance is placed anew elsewhere.
"""

from __future__ import annotations

import logging
import random

from google.rpc import code_pb2

from components.compute_db import lifecycle
from components.compute_db.models import ComputeNode, Instance
from components.compute_db.states import TaskState, VmState
from components.framework import (
    CastFailed,
    FailedPrecondition,
    InvalidArgument,
    NoValidHost,
    StratusError,
    Unavailable,
)
from components.scheduler import filters, host_state, placement, weighers
from components.scheduler.config import SchedulerConfig
from components.scheduler.dispatch import BuildCaster, OnBehalfOf
from components.scheduler.filters.availability_zone import AvailabilityZoneFilter
from components.scheduler.filters.compute import ComputeFilter
from components.scheduler.filters.core import CoreFilter
from components.scheduler.filters.disk import DiskFilter
from components.scheduler.filters.ignore_hosts import IgnoreHostsFilter
from components.scheduler.filters.image_properties import ImagePropertiesFilter
from components.scheduler.filters.ram import RamFilter
from components.scheduler.filters.requested_host import RequestedHostFilter
from components.scheduler.host_state import HostState
from components.scheduler.placement import Placement
from components.scheduler.request_spec import RequestSpec
from components.scheduler.weighers.cpu import CPUWeigher
from components.scheduler.weighers.ram import RAMWeigher

log = logging.getLogger(__name__)


def default_filters() -> list[filters.BaseHostFilter]:
    """Every request goes through these, the cheapest and most selective first."""
    return [
        RequestedHostFilter(),
        ComputeFilter(),
        IgnoreHostsFilter(),
        AvailabilityZoneFilter(),
        ImagePropertiesFilter(),
        RamFilter(),
        CoreFilter(),
        DiskFilter(),
    ]


def default_weighers(config: SchedulerConfig) -> list[weighers.BaseHostWeigher]:
    return [
        RAMWeigher(config.ram_weight_multiplier),
        CPUWeigher(config.cpu_weight_multiplier),
    ]


def order_hosts(
    hosts: list[HostState],
    spec: RequestSpec,
    host_filters: list[filters.BaseHostFilter],
    host_weighers: list[weighers.BaseHostWeigher],
) -> tuple[list[HostState], list[filters.FilterReport]]:
    """The hosts that pass every filter, best first, and what each filter removed."""
    passing, reports = filters.run(host_filters, hosts, spec)
    return weighers.best_first(host_weighers, passing, spec), reports


class Scheduler:
    def __init__(
        self,
        config: SchedulerConfig,
        caster: BuildCaster,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.caster = caster
        self.filters = default_filters()
        self.weighers = default_weighers(config)
        self.rng = rng or random.Random()

    def select_destinations(
        self, instance_id: str, spec: RequestSpec, max_alternates: int, who: OnBehalfOf
    ) -> Placement:
        """Place the instance, claim its resources and cast the build to the host."""
        instance = placement.schedulable(instance_id)
        if instance.project_id != spec.project_id:
            raise InvalidArgument(
                "spec.project_id is not the project of the instance", field="spec.project_id"
            )
        # A pinned server has one candidate and nowhere else to go.
        alternates = 0 if spec.requested_host else self.config.alternates_for(max_alternates)
        earlier = placement.existing(instance)
        if earlier is not None:
            return self._cast_again(instance, spec, earlier, alternates, who)
        ordered = self._candidates(instance_id, spec)
        return self._place(instance, spec, ordered, alternates, who)

    def _cast_again(
        self,
        instance: Instance,
        spec: RequestSpec,
        earlier: Placement,
        alternates: int,
        who: OnBehalfOf,
    ) -> Placement:
        """A repeated request for a placed instance still SCHEDULING: cast its build again,
        or, if its host cannot be reached, release the claim and place it anew elsewhere."""
        log.info("instance %s is already placed on %s; casting again", instance.id, earlier.host)
        node = ComputeNode.get_or_none(ComputeNode.host == earlier.host)
        try:
            if node is None:
                raise CastFailed(f"host {earlier.host} is no longer registered")
            self.caster.build(node.address, instance.id, earlier, who)
        except CastFailed as exc:
            log.warning(
                "host %s is unreachable (%s); releasing claim %s",
                earlier.host,
                exc,
                earlier.claim_id,
            )
            if not placement.undo(instance.id, earlier):
                # The host began the build meanwhile (an earlier cast got there).
                log.info("instance %s: its build began on %s after all", instance.id, earlier.host)
                return earlier
            instance = placement.schedulable(instance.id)
            meanwhile = placement.existing(instance)
            if meanwhile is not None:  # a concurrent request placed it (and cast)
                return meanwhile
            ordered = self._candidates(instance.id, spec)
            return self._place(instance, spec, ordered, alternates, who, [earlier.host])
        return earlier

    def _candidates(self, instance_id: str, spec: RequestSpec) -> list[HostState]:
        hosts = host_state.load(self.config.ratios, self.config.service_down_time_seconds)
        ordered, reports = order_hosts(hosts, spec, self.filters, self.weighers)
        if not ordered:
            for report in reports:
                log.info(
                    "instance %s: %s removed %d of %d hosts",
                    instance_id,
                    report.name,
                    report.removed,
                    report.before,
                )
            message = (
                "No valid host was found. " + _pinned(spec) + filters.summary(len(hosts), reports)
            )
            raise _give_up(
                instance_id,
                NoValidHost(message, instance_id=instance_id),
                code_pb2.RESOURCE_EXHAUSTED,
            )
        return self._subset_first(ordered)

    def _subset_first(self, ordered: list[HostState]) -> list[HostState]:
        """Start with a random one of the best host_subset_size hosts (nova's race breaker)."""
        size = min(self.config.host_subset_size, len(ordered))
        if size <= 1:
            return ordered
        chosen = self.rng.randrange(size)
        return [ordered[chosen], *ordered[:chosen], *ordered[chosen + 1 :]]

    def _place(
        self,
        instance: Instance,
        spec: RequestSpec,
        ordered: list[HostState],
        alternates: int,
        who: OnBehalfOf,
        unreachable: list[str] | None = None,
    ) -> Placement:
        """Claim on the first host of ``ordered`` that has room and cast to it; hosts in
        ``unreachable`` (found so already) are skipped and named if none is left."""
        expected_claim = instance.claim_id
        unreachable = list(unreachable or ())
        ordered = [host for host in ordered if host.host not in unreachable]
        for index, host in enumerate(ordered):
            rest = [h.host for h in ordered[index + 1 : index + 1 + alternates]]
            try:
                placed = placement.claim_and_record(
                    instance.id, expected_claim, host, spec.resources, self.config.ratios, rest
                )
            except placement.InstanceChanged:
                return self._placed_meanwhile(instance.id)
            if placed is None:
                log.info("host %s filled up before the claim; trying the next", host.host)
                continue
            if self._hand_over(instance.id, host, placed, who):
                return placed
            expected_claim = ""
            unreachable.append(host.host)
            if len(unreachable) > alternates:
                break
        raise self._exhausted(instance.id, len(ordered), unreachable, spec)

    def _hand_over(
        self, instance_id: str, host: HostState, placed: Placement, who: OnBehalfOf
    ) -> bool:
        """Cast the build; on a broken stream give the claim back and say so."""
        try:
            self.caster.build(host.address, instance_id, placed, who)
        except CastFailed as exc:
            log.warning(
                "host %s is unreachable (%s); releasing claim %s", host.host, exc, placed.claim_id
            )
            placement.undo(instance_id, placed)
            return False
        log.info(
            "instance %s placed on %s (claim %s, alternates %s)",
            instance_id,
            placed.host,
            placed.claim_id,
            ", ".join(placed.alternates) or "none",
        )
        return True

    def _placed_meanwhile(self, instance_id: str) -> Placement:
        """The instance changed under us: deleted, or placed by a concurrent request."""
        earlier = placement.existing(placement.schedulable(instance_id))
        if earlier is None:
            raise FailedPrecondition(
                f"instance {instance_id} changed while it was being scheduled",
                reason="INSTANCE_NOT_SCHEDULING",
            )
        return earlier

    def _exhausted(
        self, instance_id: str, fitting: int, unreachable: list[str], spec: RequestSpec
    ) -> StratusError:
        if unreachable:
            message = (
                "No reachable host was found. The compute service of "
                f"{', '.join(unreachable)} could not be reached."
            )
            error = Unavailable(message, reason="NO_REACHABLE_HOST", instance_id=instance_id)
            return _give_up(instance_id, error, code_pb2.UNAVAILABLE)
        message = (
            f"No valid host was found. {_pinned(spec)}{fitting} hosts passed the filters but "
            "none had room left when claimed."
        )
        error = NoValidHost(message, instance_id=instance_id)
        return _give_up(instance_id, error, code_pb2.RESOURCE_EXHAUSTED)


def _pinned(spec: RequestSpec) -> str:
    """The sentence a NO_VALID_HOST message opens with for a pinned server, else nothing."""
    if not spec.requested_host:
        return ""
    return f"The requested host {spec.requested_host} could not take the server. "


def _give_up(instance_id: str, error: StratusError, code: int) -> StratusError:
    """Put the instance in ERROR with the error's message as its fault (``code`` a
    google.rpc code, as the answer's status); returns the error."""
    log.warning("instance %s: %s", instance_id, error.message)
    # A compare-and-swap: a delete that arrived meanwhile wins and is not overwritten.
    lifecycle.set_error(
        instance_id,
        code,
        error.message,
        expected_vm=(VmState.BUILDING,),
        expected_task=(TaskState.SCHEDULING,),
    )
    return error
