"""Making a guest from an instance record: its image, its root disk, its domain.

Shared by a build and by a hard reboot (which rebuilds the domain from the
conductor's record). Image calls are made with whatever token the caller is
acting as.

An image whose properties name a kernel and a ramdisk (Glance's ``kernel_id``
and ``ramdisk_id``) boots them directly: both are cached like any image and,
as nova does, linked into the instance directory with the kernel command line
(``os_command_line``), so a hard reboot needs no image call. A config drive
written by the build (guest_drive.py) is found there the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from components.compute import disks, domain_xml, volumes
from components.compute.conductor import Instance
from components.compute.domain_xml import NbdSource, VolumeDisk
from components.compute.host import Host
from components.compute.network import PluggedPort
from components.compute.volumes import Connection
from components.framework import FailedPrecondition, Image

log = logging.getLogger(__name__)

# nova's default for a kernel image without os_command_line, less the
# root=/dev/vda that only a guest with its root file system on vda wants.
DEFAULT_KERNEL_ARGS = "console=tty0 console=ttyS0"


def fetch_image(host: Host, instance: Instance) -> tuple[Image, Path]:
    """The instance's image, described with the user's token and cached on this host."""
    image = host.images.describe(instance.image_id)
    _check_disk_fits(instance, image)
    base = _cache(host, image)
    for part_id in (image.kernel_id, image.ramdisk_id):
        if part_id:
            _cache(host, host.images.describe(part_id))
    return image, base


def _cache(host: Host, image: Image) -> Path:
    return host.cache.fetch(image, lambda: host.images.chunks(image.id))


def _check_disk_fits(instance: Instance, image: Image) -> None:
    disk_gib = instance.flavor.disk_gib
    if disk_gib and disk_gib * disks.GIB < image.virtual_size_bytes:
        raise FailedPrecondition(
            f"flavor {instance.flavor.name} has a {disk_gib} GiB disk, smaller than the "
            f"{image.virtual_size_bytes} bytes of image {image.id}",
            reason="FLAVOR_DISK_TOO_SMALL",
        )


def create_root_disk(host: Host, instance: Instance, image: Image, base: Path) -> Path:
    """The instance directory with its console log, a qcow2 overlay over ``base`` and,
    for a kernel image, the kernel, ramdisk and command line it boots with."""
    directory = host.instance_dir(instance.id)
    disks.prepare_instance_dir(directory)
    disks.create_overlay(
        base, image.disk_format, directory / disks.DISK_FILE, instance.flavor.disk_gib
    )
    if image.kernel_id:
        disks.link(host.cache.path(image.kernel_id), directory / disks.KERNEL_FILE)
        if image.ramdisk_id:
            disks.link(host.cache.path(image.ramdisk_id), directory / disks.RAMDISK_FILE)
        args = image.kernel_args or DEFAULT_KERNEL_ARGS
        (directory / disks.KERNEL_ARGS_FILE).write_text(args)
    return directory


def _kernel_boot(directory: Path) -> dict[str, str]:
    """The DomainSpec fields of a direct kernel boot, from the instance directory."""
    kernel = directory / disks.KERNEL_FILE
    if not kernel.exists():
        return {}
    ramdisk = directory / disks.RAMDISK_FILE
    args = directory / disks.KERNEL_ARGS_FILE
    return {
        "kernel": str(kernel),
        "ramdisk": str(ramdisk) if ramdisk.exists() else "",
        "kernel_args": args.read_text().strip() if args.exists() else DEFAULT_KERNEL_ARGS,
    }


def _config_drive(directory: Path) -> dict[str, str]:
    """The DomainSpec field of the config drive, if the instance directory has one (a
    hard reboot or a restarted host finds it there, as the build left it)."""
    drive = directory / disks.CONFIG_DRIVE_FILE
    return {"config_drive": str(drive)} if drive.exists() else {}


def domain_spec(
    host: Host, instance: Instance, ports: Sequence[PluggedPort], volumes: Sequence[VolumeDisk]
) -> domain_xml.DomainSpec:
    flavor = instance.flavor
    if flavor.vcpus < 1 or flavor.ram_mib < 1:
        raise FailedPrecondition(
            f"instance {instance.id} has a flavor without vcpus or memory", reason="BAD_FLAVOR"
        )
    directory = host.instance_dir(instance.id)
    return domain_xml.DomainSpec(
        instance_id=instance.id,
        # libvirt titles are one line.
        display_name=" ".join(instance.name.split()),
        host=host.name,
        project_id=instance.project_id,
        flavor_name=flavor.name,
        vcpus=flavor.vcpus,
        memory_mib=flavor.ram_mib,
        root_disk=str(directory / disks.DISK_FILE),
        console_log=str(directory / disks.CONSOLE_LOG),
        domain_type=host.domain_type,
        nic_type=host.config.nic_type,
        nics=[host.networks.nic(p) for p in ports],
        volumes=list(volumes),
        **_kernel_boot(directory),
        **_config_drive(directory),
    )


def start_domain(
    host: Host,
    instance: Instance,
    ports: Sequence[PluggedPort],
    volumes: Sequence[VolumeDisk],
    start: bool = True,
) -> None:
    """Define the domain with every device and (unless ``start`` is False) start it."""
    xml = domain_xml.to_xml(domain_xml.domain(domain_spec(host, instance, ports, volumes)))
    if not start:
        host.driver.define(xml)
        log.info("domain for instance %s defined", instance.id)
        return
    host.driver.define_and_start(xml)
    log.info("domain for instance %s started", instance.id)


def attach_volume(host: Host, instance: Instance, volume_id: str, device: str) -> VolumeDisk:
    """Attach one volume (idempotent for this instance) as guest disk ``device`` ("vdb").

    A build, a hard reboot and a restarted host all come here: the volume service
    answers an attached volume's connection info again, so a disk rebuilt from the
    record reaches the same file or NBD export."""
    connection = host.volumes.attach(volume_id, instance.id, host.name, f"/dev/{device}")
    return volume_disk(volume_id, connection, device)


def volume_disk(volume_id: str, connection: Connection, device: str) -> VolumeDisk:
    """The domain's disk for a volume's connection."""
    if connection.kind == volumes.NBD:
        export = NbdSource(connection.host, connection.port, connection.export_name, connection.tls)
        return VolumeDisk(volume_id, "", connection.format, device, nbd=export)
    return VolumeDisk(volume_id, connection.path, connection.format, device)
