"""Terminate, stop, start and reboot: what the host does to an instance it already runs.

Each handler reads the instance from the conductor, acts through libvirt (and,
for terminate and hard reboot, the network and volume services with the
user's token), then reports the outcome with UpdateInstance. A failed action
records a fault; the instance goes to ERROR only if its guest is gone.
"""

from __future__ import annotations

import logging

from google.rpc import code_pb2

from components.compute import disks, instance_drive, spawn
from components.compute.conductor import Instance, InstanceChanged, PowerState, TaskState, VmState
from components.compute.faults import Fault, fault_of
from components.compute.host import Host
from components.compute.libvirt_driver import RUNNING, HypervisorError, power_state_of
from components.compute.undo import UndoStack
from components.framework import CastFailed, NotFound, StratusError, acting_as, validation
from stratus.compute.v1 import compute_service_pb2 as pb2

log = logging.getLogger(__name__)

SOFT = pb2.RebootInstance.REBOOT_TYPE_SOFT
HARD = pb2.RebootInstance.REBOOT_TYPE_HARD


def known_instance(host: Host, instance_id: str) -> Instance | None:
    """The instance a cast names, or None (logged) if the conductor does not know it."""
    instance_id = validation.uuid_str("instance_id", instance_id)
    try:
        return host.conductor.get_instance(instance_id)
    except NotFound:
        log.warning("cast for unknown instance %s dropped", instance_id)
        return None


# -- terminate --------------------------------------------------------------------------


def terminate_instance(host: Host, context, request) -> None:
    instance = known_instance(host, request.instance_id)
    if instance is None:
        return
    with acting_as(context.auth_token):
        leftovers = release(host, instance)
    if leftovers:
        deletion_failed(host, instance, leftovers)
        return
    try:
        host.conductor.instance_deleted(context, instance.id)
        log.info("instance %s deleted from %s", instance.id, host.name)
    except (CastFailed, StratusError) as exc:
        log.error("could not report instance %s deleted: %s", instance.id, exc)


def release(host: Host, instance: Instance) -> list[str]:
    """Release everything the instance may hold, whatever state a build left it in:
    domain, instance directory, volumes, then ports. Returns what could not be released."""
    steps = UndoStack()
    # Pushed in the reverse of the order they run in.
    steps.push("release its ports", _release_ports, host, instance)
    steps.push("release its volumes", _release_volumes, host, instance)
    steps.push("remove its files", disks.remove_instance_dir, host.instance_dir(instance.id))
    steps.push("destroy its domain", host.driver.destroy, instance.id)
    return steps.run()


def _release_volumes(host: Host, instance: Instance) -> None:
    recorded = [v.volume_id for v in instance.volumes]
    for volume_id in dict.fromkeys([*instance.volume_ids, *recorded]):
        host.volumes.release(volume_id, instance.id)


def _release_ports(host: Host, instance: Instance) -> None:
    """Delete the ports the host created; unbind the ones the user passed in."""
    given = {r.port_id for r in instance.requested_networks if r.port_id}
    bound_ports = list(host.ports.of_instance(instance.id))
    _unplug(host, instance, bound_ports)
    bound = [port.id for port in bound_ports]
    recorded = [a.port_id for a in instance.addresses]
    for port_id in dict.fromkeys([*bound, *recorded]):
        if port_id not in given:
            host.ports.delete(port_id)
        elif port_id in bound:
            host.ports.unbind(port_id, instance.id)


def _unplug(host: Host, instance: Instance, bound_ports) -> None:
    """Take the guest's NICs off their networks (a bridge goes with its last one)."""
    nics = {(a.network_id, a.mac_address) for a in instance.addresses}
    nics |= {(port.network_id, port.mac_address) for port in bound_ports}
    for network_id, mac_address in sorted(nics):
        host.networks.unplug(network_id, mac_address)


def deletion_failed(host: Host, instance: Instance, leftovers: list[str]) -> None:
    fault = Fault(
        code=code_pb2.INTERNAL,
        message=f"Deletion of instance {instance.id} on host {host.name} failed: "
        f"could not {', '.join(leftovers)}",
    )
    log.error("%s", fault.message)
    # The deletion is over (it failed): clearing the task lets its owner delete again.
    _record(
        host,
        instance,
        fault,
        vm_state=VmState.VM_STATE_ERROR,
        task_state=TaskState.TASK_STATE_UNSPECIFIED,
    )


# -- stop, start, reboot ----------------------------------------------------------------


def stop_instance(host: Host, context, request) -> None:
    instance = _actionable(host, request.instance_id)
    if instance is None:
        return
    try:
        host.driver.shutdown(instance.id, host.config.shutdown_timeout_seconds)
    except HypervisorError as exc:
        _action_failed(host, instance, "Stop", exc)
        return
    _report(host, instance, VmState.VM_STATE_STOPPED, PowerState.POWER_STATE_SHUTDOWN)


def start_instance(host: Host, context, request) -> None:
    instance = _actionable(host, request.instance_id)
    if instance is None:
        return
    try:
        with acting_as(context.auth_token):
            replug(host, instance)
        host.driver.start(instance.id)
    except (HypervisorError, StratusError) as exc:
        _action_failed(host, instance, "Start", exc)
        return
    _report(host, instance, VmState.VM_STATE_ACTIVE, PowerState.POWER_STATE_RUNNING)


def replug(host: Host, instance: Instance) -> None:
    """Plug the guest's NICs again before it starts: its networks (bridges) may have gone
    with a restart of the host (nova's power-on rebuilds the guest for the same reason)."""
    if not host.networks.enabled:
        return
    for address in instance.addresses:
        host.networks.plug(host.ports.plugged(host.ports.get(address.port_id)))


def reboot_instance(host: Host, context, request) -> None:
    if request.reboot_type not in (SOFT, HARD):
        log.warning("reboot of %s without a reboot type dropped", request.instance_id)
        return
    instance = _actionable(host, request.instance_id)
    if instance is None:
        return
    try:
        if request.reboot_type == HARD or not _soft_reboot(host, instance):
            with acting_as(context.auth_token):
                _hard_reboot(host, instance)
    except Exception as exc:
        _action_failed(host, instance, "Reboot", exc)
        return
    _report(host, instance, VmState.VM_STATE_ACTIVE, PowerState.POWER_STATE_RUNNING)


def _soft_reboot(host: Host, instance: Instance) -> bool:
    """As nova does: the guest powers itself off (ACPI power button), then it is powered
    on again. False if it is not running or has not stopped in time (reboot it hard).

    Not libvirt's reboot: QEMU's is the same button press with a reset instead of the
    power-off, and nothing tells whether the guest heard it."""
    if host.driver.state(instance.id) != RUNNING:
        log.info("soft reboot of %s: the guest is not running; rebooting hard", instance.id)
        return False
    try:
        stopped = host.driver.acpi_shutdown(instance.id, host.config.reboot_timeout_seconds)
    except HypervisorError as exc:
        log.info("soft reboot of %s refused (%s); rebooting hard", instance.id, exc)
        return False
    if not stopped:
        log.warning("%s did not power off for a soft reboot; rebooting hard", instance.id)
        return False
    host.driver.start(instance.id)
    return True


def _hard_reboot(host: Host, instance: Instance) -> None:
    """Power the guest off and define it again from the conductor's record (with a new
    root disk and config drive if the instance directory lost them)."""
    host.driver.destroy(instance.id)
    directory = host.instance_dir(instance.id)
    if not (directory / disks.DISK_FILE).exists():
        image, base = spawn.fetch_image(host, instance)
        spawn.create_root_disk(host, instance, image, base)
    ports = [host.ports.plugged(host.ports.get(a.port_id)) for a in instance.addresses]
    if instance_drive.wanted(host, instance) and not (directory / disks.CONFIG_DRIVE_FILE).exists():
        instance_drive.write(host, instance, ports)
    for port in ports:
        host.networks.plug(port)
    volumes = [spawn.attach_volume(host, instance, v.volume_id, v.device) for v in instance.volumes]
    spawn.start_domain(host, instance, ports, volumes)


def _actionable(host: Host, instance_id: str) -> Instance | None:
    instance = known_instance(host, instance_id)
    if instance is None:
        return None
    if instance.task_state == TaskState.TASK_STATE_DELETING or instance.vm_state in (
        VmState.VM_STATE_DELETED,
        VmState.VM_STATE_BUILDING,
    ):
        log.info("action on instance %s ignored: it is being built or deleted", instance.id)
        return None
    return instance


def _report(host: Host, instance: Instance, vm_state: int, power_state: int) -> None:
    """Report the outcome and end the task the api set (POWERING_OFF, REBOOTING, ...),
    unless the instance moved on meanwhile (a deletion)."""
    try:
        host.conductor.update_instance(
            instance.id,
            expected=instance.task_state,
            vm_state=vm_state,
            power_state=power_state,
            task_state=TaskState.TASK_STATE_UNSPECIFIED,
        )
    except InstanceChanged as exc:
        log.info("instance %s changed while acting on it: %s", instance.id, exc)


def _action_failed(host: Host, instance: Instance, action: str, exc: Exception) -> None:
    fault = fault_of(exc, f"{action} of instance {instance.id} on host {host.name}")
    log.warning("%s", fault.message)
    state = host.driver.state(instance.id)
    fields = {"power_state": power_state_of(state), "task_state": TaskState.TASK_STATE_UNSPECIFIED}
    if state is None:
        fields["vm_state"] = VmState.VM_STATE_ERROR
    _record(host, instance, fault, **fields)


def _record(host: Host, instance: Instance, fault: Fault, **fields: object) -> None:
    try:
        host.conductor.add_fault(instance.id, fault)
        host.conductor.update_instance(instance.id, **fields)
    except InstanceChanged as exc:
        log.info("instance %s changed while recording a fault: %s", instance.id, exc)
    except StratusError as exc:
        log.error("could not record the fault of instance %s: %s", instance.id, exc)
