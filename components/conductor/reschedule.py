"""A build failed on a host: release its claim, try the next alternate, or give up.

nova's conductor does this on a ``build_instances`` cast from the failed host;
here the host casts InstanceBuildFailed. A build is tried on at most
``max_attempts`` hosts; after that the instance is ERROR with the last fault.
Claims on alternates use the allocation ratios the scheduler uses (the one
``[placement]`` table, placement_config.py).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from components.compute_db import claims, lifecycle, state_machine
from components.compute_db.models import ComputeNode, Instance, InstanceFault
from components.compute_db.placement_config import PlacementConfig
from components.compute_db.states import TaskState, VmState
from components.framework import CastFailed
from stratus.compute.v1 import compute_service_pb2 as compute_pb2

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Rescheduler:
    """What a reschedule needs: casts to compute hosts and the placement settings."""

    # A CastClient for stratus.compute.v1 (context() and cast()).
    compute_casts: Any
    placement: PlacementConfig

    def build_failed(self, context, message) -> None:
        """Handle one InstanceBuildFailed cast sent with ``context`` (its CastContext)."""
        instance = _failed_instance(message)
        if instance is None:
            return
        if message.retryable and instance.attempt < self.placement.max_attempts:
            instance = self._try_alternates(context, message, instance)
            if instance is None:
                return
        _give_up(instance, message)

    def _try_alternates(self, context, message, instance: Instance) -> Instance | None:
        """Hand the build to the first alternate that has room and answers; None once
        handed over (or the instance changed meanwhile), else the instance as it is now."""
        while True:
            node, claim, rest = _claim_alternate(instance, self.placement.ratios)
            if node is None:
                return instance
            if not _move(instance, node, claim.id, rest):
                claims.release(claim.id)
                return None
            build = compute_pb2.BuildAndRunInstance(
                instance_id=instance.id,
                claim_id=claim.id,
                attempt=instance.attempt + 1,
                alternates=rest,
            )
            try:
                onward = self.compute_casts.context(
                    auth_token=context.auth_token,
                    user_id=context.user_id,
                    project_id=context.project_id,
                )
                self.compute_casts.cast(node.address, onward, build_and_run_instance=build)
                log.info("rescheduled %s from %s to %s", instance.id, message.host, node.host)
                return None
            except CastFailed as exc:
                log.warning("host %s unreachable for reschedule: %s", node.host, exc)
                claims.release(claim.id)
                instance = Instance.get_by_id(instance.id)


def _failed_instance(message) -> Instance | None:
    """The instance the failure is about, its claim released; None if there is nothing
    more to do (gone, being deleted, or a stale report of an earlier attempt)."""
    instance = Instance.get_or_none(Instance.id == message.instance_id)
    if instance is None or instance.deleted_time is not None:
        claims.release(message.claim_id)
        return None
    if message.claim_id and message.claim_id != instance.claim_id:
        log.info("stale build failure for %s from %s dropped", instance.id, message.host)
        claims.release(message.claim_id)
        return None
    claims.release(instance.claim_id)
    if instance.task_state == TaskState.DELETING:
        return None
    return instance


def _claim_alternate(instance: Instance, ratios: claims.AllocationRatios):
    """The first alternate host that still has room: (node, claim, remaining alternates)."""
    wants = claims.Resources(instance.vcpus, instance.ram_mib, instance.disk_gib)
    alternates = list(instance.alternates)
    while alternates:
        host = alternates.pop(0)
        node = ComputeNode.get_or_none(ComputeNode.host == host)
        if node is None or not node.enabled:
            continue
        claim = claims.claim(node.id, instance.id, wants, ratios)
        if claim is not None:
            return node, claim, alternates
    return None, None, []


def _move(instance: Instance, node: ComputeNode, claim_id: str, rest: list[str]) -> bool:
    """Point the building instance at its new host, unless it changed meanwhile (a delete,
    the sweep failing it, another reschedule)."""
    return state_machine.move(
        instance.id,
        vm_state=VmState.BUILDING,
        task_state=TaskState.SCHEDULING,
        expected_vm=(VmState.BUILDING,),
        expected_task=state_machine.BUILD_TASKS,
        where=Instance.claim_id == instance.claim_id,
        host=node.host,
        availability_zone=node.availability_zone,
        claim_id=claim_id,
        attempt=Instance.attempt + 1,
        alternates=rest,
    )


def _give_up(instance: Instance, message) -> None:
    log.info(
        "instance %s failed on %s after %d attempt(s)", instance.id, message.host, instance.attempt
    )
    fault = message.fault
    lifecycle.set_error(
        instance.id,
        fault.code,
        fault.message or "Build failed",
        fault.details,
        record_fault=not _has_fault(instance.id, fault.message),
    )


def _has_fault(instance_id: str, message: str) -> bool:
    return (
        InstanceFault.select()
        .where((InstanceFault.instance == instance_id) & (InstanceFault.message == message))
        .exists()
    )
