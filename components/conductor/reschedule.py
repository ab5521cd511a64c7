"""A build failed on a host: release its claim, try the next alternate, or give up.

nova's conductor does this on a ``build_instances`` cast from the failed host;
here the host casts InstanceBuildFailed. A build is tried on at most
``max_attempts`` hosts; after that the instance is ERROR with the last fault.
"""

from __future__ import annotations

import logging

from components.compute_db import claims, lifecycle
from components.compute_db.models import ComputeNode, Instance, InstanceFault
from components.compute_db.states import TaskState, VmState
from components.framework.casts import CastFailed
from components.framework.database import database, utcnow

log = logging.getLogger(__name__)


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
    """Point the instance at its new host, unless it changed meanwhile (a delete)."""
    with database.atomic():
        return (
            Instance.update(
                host=node.host,
                availability_zone=node.availability_zone,
                claim_id=claim_id,
                attempt=Instance.attempt + 1,
                alternates=rest,
                vm_state=VmState.BUILDING,
                task_state=TaskState.SCHEDULING,
                update_time=utcnow(),
            )
            .where(
                (Instance.id == instance.id)
                & (Instance.claim_id == instance.claim_id)
                & Instance.deleted_time.is_null()
                & (Instance.task_state != TaskState.DELETING)
            )
            .execute()
            == 1
        )


def build_failed(context, message, compute_casts, compute_pb2, ratios, max_attempts: int):
    """Handle one InstanceBuildFailed cast."""
    instance = Instance.get_or_none(Instance.id == message.instance_id)
    if instance is None or instance.deleted_time is not None:
        claims.release(message.claim_id)
        return
    if message.claim_id and message.claim_id != instance.claim_id:
        log.info("stale build failure for %s from %s dropped", instance.id, message.host)
        claims.release(message.claim_id)
        return
    claims.release(instance.claim_id)
    if instance.task_state == TaskState.DELETING:
        return
    fault = message.fault
    if message.retryable and instance.attempt < max_attempts:
        while True:
            node, claim, rest = _claim_alternate(instance, ratios)
            if node is None:
                break
            if not _move(instance, node, claim.id, rest):
                claims.release(claim.id)
                return
            build = compute_pb2.BuildAndRunInstance(
                instance_id=instance.id,
                claim_id=claim.id,
                attempt=instance.attempt + 1,
                alternates=rest,
            )
            try:
                onward = compute_casts.context(
                    auth_token=context.auth_token,
                    user_id=context.user_id,
                    project_id=context.project_id,
                )
                compute_casts.cast(node.address, onward, build_and_run_instance=build)
                log.info("rescheduled %s from %s to %s", instance.id, message.host, node.host)
                return
            except CastFailed as exc:
                log.warning("host %s unreachable for reschedule: %s", node.host, exc)
                claims.release(claim.id)
                instance = Instance.get_by_id(instance.id)
    log.info(
        "instance %s failed on %s after %d attempt(s)", instance.id, message.host, instance.attempt
    )
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
