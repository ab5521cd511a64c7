"""Guests after the host starts again (nova's ``resume_guests_state_on_host_boot``).

A host that restarts (the machine rebooted, or its hypervisor lost its
guests) finds, for each settled instance the conductor says it runs:

* a guest that is still defined and running, or that powered itself off:
  nothing to do (its power state is synced: off is STOPPED);
* a guest that is defined but off for another reason (the machine rebooted,
  libvirtd or QEMU died) while its instance was ACTIVE and RUNNING: its NICs
  plugged again (their bridges), then started;
* no guest, but its root disk under the instance directory: the domain is
  defined again from the conductor's record (flavor, recorded ports plugged
  again, recorded volumes attached again, each volume's file or NBD export as
  the volume service answers it; no new port, no new volume) and
  started if the instance is ACTIVE, left off and recorded SHUTDOWN if it is
  STOPPED;
* no guest and no root disk: the instance goes ERROR with a fault naming the
  missing disk (its ports and volumes stay, shown on the server, until it is
  deleted).

An ERROR instance that never became ACTIVE (no recorded addresses or volumes,
no guest) gives back whatever a build interrupted with the host left bound to
it: its ports, volume reservations and files.
"""

from __future__ import annotations

import logging

from google.rpc import code_pb2

from components.compute import disks, operations, spawn
from components.compute.conductor import Instance, InstanceChanged, PowerState, TaskState, VmState
from components.compute.faults import Fault, fault_of
from components.compute.host import Host
from components.compute.libvirt_driver import SHUTOFF
from components.framework import StratusError

log = logging.getLogger(__name__)


def resume_guest(host: Host, instance: Instance) -> bool:
    """Bring one settled instance's guest back as its record says; False if there was
    nothing to do (the guest is there), so the caller syncs its power state."""
    state = host.driver.state(instance.id)
    if state is not None:
        return _restart_if_left_off(host, instance, state)
    if instance.vm_state == VmState.VM_STATE_ERROR:
        release_unlaunched(host, instance)
        return True
    if instance.vm_state not in (VmState.VM_STATE_ACTIVE, VmState.VM_STATE_STOPPED):
        return False
    disk = host.instance_dir(instance.id) / disks.DISK_FILE
    if not disk.exists():
        _lost(
            host,
            instance,
            Fault(
                code=code_pb2.DATA_LOSS,
                message=f"The disk of instance {instance.id} is missing on host {host.name} "
                f"({disk}): its guest cannot be started again",
                retryable=False,
            ),
        )
        return True
    running = instance.vm_state == VmState.VM_STATE_ACTIVE
    try:
        redefine(host, instance, start=running)
    except Exception as exc:
        _lost(host, instance, fault_of(exc, f"Resuming instance {instance.id} on {host.name}"))
        return True
    log.info("instance %s: guest defined again (%s)", instance.id, "running" if running else "off")
    power = PowerState.POWER_STATE_RUNNING if running else PowerState.POWER_STATE_SHUTDOWN
    _update(host, instance, power_state=power)
    return True


def _restart_if_left_off(host: Host, instance: Instance, state: int) -> bool:
    """A guest that ran when the host went away and is off now for a reason other than
    powering itself off (the machine rebooted, libvirtd or QEMU died) is started again."""
    if not (
        instance.vm_state == VmState.VM_STATE_ACTIVE
        and instance.power_state == PowerState.POWER_STATE_RUNNING
        and state == SHUTOFF
        and not host.driver.stopped_by_guest(instance.id)
    ):
        return False
    try:
        # The machine's reboot took the guest's bridges with it.
        operations.replug(host, instance)
        host.driver.start(instance.id)
    except Exception as exc:
        log.warning("instance %s: could not start its guest again: %s", instance.id, exc)
        return False  # the power state sync records it as stopped
    log.info("instance %s: guest started again after the host restarted", instance.id)
    return True


def redefine(host: Host, instance: Instance, start: bool) -> None:
    """Define the guest from the record, with its recorded ports and volumes."""
    ports = [host.ports.plugged(host.ports.get(a.port_id)) for a in instance.addresses]
    for port in ports:
        host.networks.plug(port)
    volumes = [spawn.attach_volume(host, instance, v.volume_id, v.device) for v in instance.volumes]
    spawn.start_domain(host, instance, ports, volumes, start=start)


def _lost(host: Host, instance: Instance, fault: Fault) -> None:
    log.error("%s", fault.message)
    try:
        host.conductor.add_fault(instance.id, fault)
    except StratusError as exc:
        log.error("could not record the fault of instance %s: %s", instance.id, exc)
    _update(
        host, instance, vm_state=VmState.VM_STATE_ERROR, power_state=PowerState.POWER_STATE_NOSTATE
    )


def _update(host: Host, instance: Instance, **fields: object) -> None:
    try:
        host.conductor.update_instance(
            instance.id, expected=TaskState.TASK_STATE_UNSPECIFIED, **fields
        )
    except InstanceChanged as exc:
        log.info("instance %s changed while resuming it: %s", instance.id, exc)


def release_unlaunched(host: Host, instance: Instance) -> None:
    """A build that failed with the host gone (the conductor failed it), or whose undo
    could not reach a service, leaves what it bound behind: give it back, since the
    server shows none of it."""
    if instance.HasField("launched_time") or instance.addresses or instance.volumes:
        return
    if not host.ports.of_instance(instance.id) and not host.instance_dir(instance.id).exists():
        return
    leftovers = operations.release(host, instance)
    if leftovers:
        log.error("instance %s: could not %s", instance.id, ", ".join(leftovers))
        host.remember_unreleased(instance.id)
    else:
        log.info("released what the failed build of instance %s left", instance.id)
