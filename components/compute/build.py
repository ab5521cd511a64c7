"""BuildAndRunInstance: the host's part of the boot flow (seed steps 9 to 19).

The instance is claimed with a compare-and-swap of its task state from
SCHEDULING to the first step there is work for, then, acting as the user: the
image is fetched into the cache (under that first state, so a bad image fails
before anything is allocated); ports are created or bound (NETWORKING);
volumes are reserved and attached (BLOCK_DEVICE_MAPPING); the overlay disk is
made, the config drive written if the guest gets one, and the domain defined
and started with every device (SPAWNING); the
ports are reported ACTIVE; and the instance is reported ACTIVE and RUNNING.
Each task state is reported once, in the order the work is done. Each step
pushes its undo. A failure undoes them newest first (domain, disk, volumes,
ports), records the fault and casts InstanceBuildFailed to the conductor,
which reschedules or sets ERROR.

Every task-state move is a compare-and-swap: if the instance changed under us
(the user deleted it while it was building), the build undoes what it did and
stops without reporting a failure; the TerminateInstance that follows finishes
the deletion.
"""

from __future__ import annotations

import logging

from components.compute import disks, instance_drive, spawn
from components.compute.conductor import Instance, InstanceChanged, PowerState, TaskState, VmState
from components.compute.domain_xml import disk_device
from components.compute.faults import fault_of
from components.compute.host import Host
from components.compute.network import PluggedPort
from components.compute.undo import UndoStack
from components.framework import (
    CastFailed,
    NotFound,
    StratusError,
    acting_as,
    timestamp,
    utcnow,
    validation,
)
from stratus.type.v1 import instance_pb2

log = logging.getLogger(__name__)


def build_and_run_instance(host: Host, context, request) -> None:
    """Handle one BuildAndRunInstance cast."""
    instance = _instance_to_build(host, request)
    if instance is None:
        return
    host.mark_build_handled(instance.id)
    Build(host, context, instance).run()


def _instance_to_build(host: Host, request) -> Instance | None:
    """The instance, if this message should build it; None (logged) if not."""
    instance_id = validation.uuid_str("instance_id", request.instance_id)
    try:
        instance = host.conductor.get_instance(instance_id)
    except NotFound:
        log.warning("build of unknown instance %s dropped", instance_id)
        return None
    reason = _why_not(host, instance, request.claim_id)
    if reason:
        log.info("build of instance %s ignored: %s", instance_id, reason)
        return None
    return instance


def _why_not(host: Host, instance: Instance, claim_id: str) -> str:
    if instance.vm_state == VmState.VM_STATE_DELETED or (
        instance.task_state == TaskState.TASK_STATE_DELETING
    ):
        return "it is being deleted"
    if instance.host != host.name:
        return f"it is assigned to host {instance.host!r}, not this one"
    if claim_id and instance.claim_id and claim_id != instance.claim_id:
        return "the message's claim is not the instance's current claim"
    if instance.vm_state != VmState.VM_STATE_BUILDING or (
        instance.task_state != TaskState.TASK_STATE_SCHEDULING
    ):
        return "it is already being built or running"
    return ""


class Build:
    """One build of one instance: its steps, what they made, and how to undo them."""

    def __init__(self, host: Host, context, instance: Instance) -> None:
        self.host = host
        self.context = context
        self.instance = instance
        self.task = TaskState.TASK_STATE_SCHEDULING
        self.undo = UndoStack()
        self.ports: list[PluggedPort] = []
        self.volumes: list[spawn.VolumeDisk] = []

    def run(self) -> None:
        try:
            self._move_to(self._first_task())
        except InstanceChanged as exc:
            log.info("build of instance %s abandoned before it began: %s", self.instance.id, exc)
            return
        with acting_as(self.context.auth_token):
            try:
                self._steps()
            except InstanceChanged as exc:
                log.info("build of instance %s stopped: %s", self.instance.id, exc)
                self.undo.run()
            except Exception as exc:
                self._fail(exc)

    def _first_task(self) -> int:
        """The task state of the first step there is work for (as _steps does them).

        A task state is reported only for a step there is work for: each report
        is a round trip to the conductor on the boot's critical path.
        """
        if self.instance.requested_networks:
            return TaskState.TASK_STATE_NETWORKING
        if self.instance.volume_ids:
            return TaskState.TASK_STATE_BLOCK_DEVICE_MAPPING
        return TaskState.TASK_STATE_SPAWNING

    def _steps(self) -> None:
        image, base = spawn.fetch_image(self.host, self.instance)
        if self.instance.requested_networks:
            self._move_to(TaskState.TASK_STATE_NETWORKING)
            self._plug_ports()
        if self.instance.volume_ids:
            self._move_to(TaskState.TASK_STATE_BLOCK_DEVICE_MAPPING)
            self._attach_volumes()
        self._move_to(TaskState.TASK_STATE_SPAWNING)
        self._spawn(image, base)
        self._report_active()
        self.undo.clear()
        log.info("instance %s is ACTIVE on %s", self.instance.id, self.host.name)

    def _move_to(self, task: int) -> None:
        if task == self.task:
            return  # the claim already reported it
        self.host.conductor.update_instance(self.instance.id, expected=self.task, task_state=task)
        self.task = task

    def _plug_ports(self) -> None:
        zone = self.instance.availability_zone or self.host.availability_zone
        owner = f"compute:{zone}"
        ports, instance_id, host = self.host.ports, self.instance.id, self.host.name
        for requested in self.instance.requested_networks:
            if requested.port_id:
                port = ports.bind(requested.port_id, instance_id, owner, host)
                self.undo.push(f"unbind port {port.id}", ports.unbind, port.id, instance_id)
            else:
                port = ports.create(requested.network_id, instance_id, owner, host)
                self.undo.push(f"delete port {port.id}", ports.delete, port.id)
            plugged = ports.plugged(port)
            self.ports.append(plugged)
            networks = self.host.networks
            self.undo.push(
                f"unplug port {port.id}", networks.unplug, port.network_id, port.mac_address
            )
            networks.plug(plugged)

    def _attach_volumes(self) -> None:
        volumes, instance_id = self.host.volumes, self.instance.id
        for index, volume_id in enumerate(self.instance.volume_ids, start=1):
            volumes.reserve(volume_id, instance_id)
            self.undo.push(
                f"unreserve volume {volume_id}", volumes.unreserve, volume_id, instance_id
            )
            device = disk_device(index)
            disk = spawn.attach_volume(self.host, self.instance, volume_id, device)
            self.undo.push(f"detach volume {volume_id}", volumes.detach, volume_id, instance_id)
            self.volumes.append(disk)

    def _spawn(self, image, base) -> None:
        directory = self.host.instance_dir(self.instance.id)
        self.undo.push(f"remove {directory}", disks.remove_instance_dir, directory)
        spawn.create_root_disk(self.host, self.instance, image, base)
        if instance_drive.wanted(self.host, self.instance):
            instance_drive.write(self.host, self.instance, self.ports)
        spawn.start_domain(self.host, self.instance, self.ports, self.volumes)
        self.undo.push("destroy the domain", self.host.driver.destroy, self.instance.id)
        for port in self.ports:
            self.host.ports.activate(port.port_id)

    def _report_active(self) -> None:
        self.host.conductor.update_instance(
            self.instance.id,
            expected=self.task,
            vm_state=VmState.VM_STATE_ACTIVE,
            power_state=PowerState.POWER_STATE_RUNNING,
            task_state=TaskState.TASK_STATE_UNSPECIFIED,
            launched_time=timestamp(utcnow()),
            addresses=[
                instance_pb2.Address(
                    network_id=p.network_id,
                    network_name=p.network_name,
                    port_id=p.port_id,
                    ip_address=p.ip_address,
                    mac_address=p.mac_address,
                )
                for p in self.ports
            ],
            volumes=[
                instance_pb2.AttachedVolume(volume_id=v.volume_id, device=v.device)
                for v in self.volumes
            ],
        )

    def _fail(self, exc: Exception) -> None:
        fault = fault_of(exc, f"Build of instance {self.instance.id} on host {self.host.name}")
        log.warning("%s; undoing %d steps", fault.message, len(self.undo))
        leftovers = self.undo.run()
        if leftovers:
            log.error("instance %s: could not undo %s", self.instance.id, ", ".join(leftovers))
            self.host.remember_unreleased(self.instance.id)
        report_build_failure(self.host, self.context, self.instance, fault)


def report_build_failure(host: Host, context, instance: Instance, fault) -> None:
    """Record the fault and hand the instance back to the conductor (claim release,
    reschedule or ERROR). Both are retried while the conductor restarts; if it stays
    unreachable, or the cast is lost, the reconciler reports the failure again."""
    host.remember_failure(instance.id, instance.claim_id, fault)
    try:
        host.conductor.add_fault(instance.id, fault)
    except StratusError as exc:
        log.error("could not record the fault of instance %s: %s", instance.id, exc)
    try:
        host.conductor.build_failed(context, instance.id, instance.claim_id, fault)
    except (CastFailed, StratusError) as exc:
        log.error("could not report the failed build of %s: %s", instance.id, exc)
