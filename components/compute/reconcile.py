"""Bringing the conductor's records and this host's guests back in line.

Runs when the service starts and every reconcile interval:

* an instance left mid-build (a build task and nobody building it: the
  service restarted) is cleaned up, recorded as failed (fault, vm_state ERROR)
  and its claim handed back with InstanceBuildFailed (retryable=False); one
  left SCHEDULING longer than stale_task_seconds (its build cast was lost)
  likewise (the conductor's sweep usually gets there first);
* a build that failed here but is still building failure_resend_seconds
  later (the conductor never got the InstanceBuildFailed cast) is reported
  again;
* at start, the guests of settled instances are brought back as their records
  say (resume.py: a rebooted host starts what ran, defines what was stopped);
* what a failed build could not release (a service was down) is released once
  its instance is ERROR;
* an instance left DELETING (its TerminateInstance was lost) is finished;
* a guest of this host whose instance is deleted, unknown, or now on another
  host is destroyed with its files;
* the power state of every settled instance is synced with libvirt.

Each instance is reconciled on the host's cast executor, under its own key,
so it never overlaps a cast being handled for the same instance.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import logging

from google.rpc import code_pb2

from components.compute import disks, operations, resume
from components.compute.build import report_build_failure
from components.compute.conductor import Instance, InstanceChanged, PowerState, TaskState, VmState
from components.compute.faults import Fault
from components.compute.host import Host
from components.compute.libvirt_driver import power_state_of
from components.framework import (
    CastFailed,
    NotFound,
    StratusError,
    acting_as,
    new_request_id,
    utcnow,
)
from stratus.compute.v1 import compute_service_pb2 as pb2
from stratus.type.v1 import cast_pb2

log = logging.getLogger(__name__)

BUILD_TASKS = {
    TaskState.TASK_STATE_SPAWNING,
    TaskState.TASK_STATE_NETWORKING,
    TaskState.TASK_STATE_BLOCK_DEVICE_MAPPING,
}


def _service_context(host: Host) -> cast_pb2.CastContext:
    """A cast context for work the host starts itself: it acts with its own service token."""
    token = host.conductor.clients.service_token
    return cast_pb2.CastContext(
        request_id=new_request_id(), auth_token=token.get() if token is not None else ""
    )


def reconcile(host: Host, startup: bool = False) -> None:
    """Queue the reconciliation of every instance and leftover guest of this host."""
    listed = {instance.id for instance in host.conductor.host_instances()}
    host.forget_builds_except(listed)
    for instance_id in listed:
        host.executor.submit(
            instance_id, functools.partial(_guarded, reconcile_instance, host, instance_id, startup)
        )
    for domain in host.driver.list_domains():
        if domain.host == host.name and domain.instance_id and domain.instance_id not in listed:
            host.executor.submit(
                domain.instance_id,
                functools.partial(_guarded, reconcile_leftover, host, domain.instance_id),
            )


def _guarded(fn, host: Host, instance_id: str, *args) -> None:
    try:
        fn(host, instance_id, *args)
    except StratusError as exc:
        log.warning("reconciling instance %s failed: %s", instance_id, exc)


def reconcile_instance(host: Host, instance_id: str, startup: bool) -> None:
    try:
        instance = host.conductor.get_instance(instance_id)
    except NotFound:
        return
    if instance.host != host.name or instance.vm_state == VmState.VM_STATE_DELETED:
        reconcile_leftover(host, instance_id)
        return
    stale = _stale(host, instance)
    if instance.task_state == TaskState.TASK_STATE_DELETING:
        if startup or stale:
            _finish_deletion(host, instance)
    elif instance.vm_state == VmState.VM_STATE_BUILDING:
        if _build_abandoned(host, instance, startup, stale):
            fail_abandoned_build(host, instance)
        else:
            _resend_failure(host, instance)
    elif instance.task_state == TaskState.TASK_STATE_UNSPECIFIED:
        _reconcile_settled(host, instance, startup)


def _reconcile_settled(host: Host, instance: Instance, startup: bool) -> None:
    if startup and resume.resume_guest(host, instance):
        return
    if instance.vm_state == VmState.VM_STATE_ERROR and host.take_unreleased(instance.id):
        resume.release_unlaunched(host, instance)
        return
    sync_power_state(host, instance)


def _stale(host: Host, instance: Instance) -> bool:
    if not instance.HasField("update_time"):
        return False
    age = utcnow() - instance.update_time.ToDatetime()
    return age > datetime.timedelta(seconds=host.config.stale_task_seconds)


def _build_abandoned(host: Host, instance: Instance, startup: bool, stale: bool) -> bool:
    if instance.task_state == TaskState.TASK_STATE_SCHEDULING:
        return stale
    if instance.task_state not in BUILD_TASKS:
        return False
    # A build this process ran has ended (casts for one instance run one at a time).
    # If it failed, its outcome is with the conductor, which may be rescheduling it
    # right now (and is told again if it does not answer). If it stopped because the
    # instance changed under it, yet the instance is still mid-build here, nobody
    # will finish it.
    if host.build_was_handled(instance.id):
        return stale or not host.failed_here(instance.id, instance.claim_id)
    return startup or stale


def _resend_failure(host: Host, instance: Instance) -> None:
    """Report a build failure again if the conductor has not acted on it."""
    fault = host.failure_to_resend(instance.id, instance.claim_id)
    if fault is None:
        return
    log.warning("the failed build of %s is still unanswered; reporting it again", instance.id)
    host.remember_failure(instance.id, instance.claim_id, fault)
    try:
        host.conductor.build_failed(_service_context(host), instance.id, instance.claim_id, fault)
    except (CastFailed, StratusError) as exc:
        log.error("could not report the failed build of %s: %s", instance.id, exc)


def fail_abandoned_build(host: Host, instance: Instance) -> None:
    log.warning(
        "instance %s was left %s on this host; failing its build",
        instance.id,
        TaskState.Name(instance.task_state),
    )
    context = _service_context(host)
    with acting_as(context.auth_token):
        leftovers = operations.release(host, instance)
    fault = Fault(
        code=code_pb2.ABORTED,
        message=f"Build of instance {instance.id} on host {host.name} was interrupted "
        "(the compute service restarted or the build request was lost)",
        retryable=False,
    )
    if leftovers:
        log.error("instance %s: could not %s", instance.id, ", ".join(leftovers))
    try:
        host.conductor.update_instance(
            instance.id,
            vm_state=VmState.VM_STATE_ERROR,
            task_state=TaskState.TASK_STATE_UNSPECIFIED,
            power_state=PowerState.POWER_STATE_NOSTATE,
        )
    except InstanceChanged as exc:
        log.info("instance %s changed while failing its build: %s", instance.id, exc)
        return
    report_build_failure(host, context, instance, fault)


def _finish_deletion(host: Host, instance: Instance) -> None:
    log.info("finishing the deletion of instance %s", instance.id)
    request = pb2.TerminateInstance(instance_id=instance.id)
    operations.terminate_instance(host, _service_context(host), request)


def reconcile_leftover(host: Host, instance_id: str) -> None:
    """Destroy a guest of this host that no instance here owns any more."""
    try:
        instance = host.conductor.get_instance(instance_id)
        owned = instance.host == host.name and instance.vm_state != VmState.VM_STATE_DELETED
    except NotFound:
        owned = False
    if owned:
        return
    if host.driver.destroy(instance_id):
        log.warning("destroyed the leftover guest of instance %s", instance_id)
    disks.remove_instance_dir(host.instance_dir(instance_id))


def sync_power_state(host: Host, instance: Instance) -> None:
    """Record the power state libvirt reports; a guest that stopped by itself is STOPPED."""
    power = power_state_of(host.driver.state(instance.id))
    if power == instance.power_state:
        return
    fields: dict[str, object] = {"power_state": power}
    if instance.vm_state == VmState.VM_STATE_ACTIVE and power == PowerState.POWER_STATE_SHUTDOWN:
        fields["vm_state"] = VmState.VM_STATE_STOPPED
    log.info(
        "instance %s power state %s -> %s",
        instance.id,
        PowerState.Name(instance.power_state),
        PowerState.Name(power),
    )
    with contextlib.suppress(InstanceChanged):
        host.conductor.update_instance(
            instance.id, expected=TaskState.TASK_STATE_UNSPECIFIED, **fields
        )
