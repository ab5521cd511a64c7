"""Libvirt domain XML for an instance, one small function per device (kubevirt style).

Each device function turns one plain description into one ``<devices>`` child;
:func:`domain` puts them together with memory, vCPUs, OS and the Stratus
metadata (instance id and host, read back by the reconciler and ListDomains).
Every device is in the XML at define time: the libvirt test driver cannot
hot-plug, and a guest that boots with all its disks and NICs needs no
follow-up calls that could fail half way.

NICs are ``<interface type='ethernet'>`` with a tap device named after the port
("tap" + the first 11 characters of its id, as nova names them) for a network
agent to plug; ``nic_type="bridge"`` has libvirt create that tap on the Linux
bridge of the port's network (nova's Linux-bridge VIF; the host makes the
bridge and its VXLAN segment first, segments.py); ``nic_type="user"`` gives
unprivileged user-mode networking instead. The libvirt test driver accepts all
three.

A volume is a file the host opens (``file`` connections) or an NBD export on
the storage machine that QEMU reaches over the network (``nbd``: a
``<disk type='network'>``, with ``tls='yes'`` when the export demands the
client certificate libvirt's qemu.conf names); the host never opens it.

The guest boots from its root disk, or, when its image names a kernel and a
ramdisk (Glance's ``kernel_id``/``ramdisk_id``), from those directly
(:func:`os_kernel_boot`). A config drive (OpenStack's ``config-2`` ISO) is a
read-only CD-ROM (:func:`config_drive_cdrom`). ``<features><acpi/>`` lets the guest power itself off
and hear the ACPI power button that a stop or a soft reboot presses.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from components.compute.libvirt_driver import METADATA_NS, domain_name

ET.register_namespace("stratus", METADATA_NS)
NIC_TYPES = ("ethernet", "bridge", "user")
# The NIC types whose tap is named after the port.
TAP_NIC_TYPES = ("ethernet", "bridge")


@dataclasses.dataclass(frozen=True)
class Nic:
    port_id: str
    mac_address: str
    # 0: leave the MTU to the hypervisor.
    mtu: int = 0
    # The Linux bridge of the port's network (nic_type "bridge" only).
    bridge: str = ""


@dataclasses.dataclass(frozen=True)
class NbdSource:
    """An NBD export serving a volume's contents (connection info type "nbd")."""

    # The export's address: a name, an IPv4 or an IPv6 address (without brackets).
    host: str
    port: int
    # The export's name, a secret.
    export_name: str
    # Whether the export demands TLS with a client certificate.
    tls: bool = False


@dataclasses.dataclass(frozen=True)
class VolumeDisk:
    volume_id: str
    # From the volume service's connection info: the file ("file" connections;
    # empty for "nbd") and the format of the data QEMU reads.
    path: str
    format: str
    # Guest device name without /dev/, e.g. "vdb".
    device: str
    # Where the data is served over the network ("nbd" connections), instead of path.
    nbd: NbdSource | None = None


@dataclasses.dataclass(frozen=True)
class DomainSpec:
    instance_id: str
    display_name: str
    host: str
    project_id: str
    flavor_name: str
    vcpus: int
    memory_mib: int
    root_disk: str
    console_log: str
    domain_type: str = "qemu"
    nic_type: str = "ethernet"
    nics: Sequence[Nic] = ()
    volumes: Sequence[VolumeDisk] = ()
    # Direct kernel boot: the kernel and ramdisk files and the kernel's command
    # line; empty kernel means booting from the root disk.
    kernel: str = ""
    ramdisk: str = ""
    kernel_args: str = ""
    # The config drive's ISO image, attached as a read-only CD-ROM; empty: none.
    config_drive: str = ""


def disk_device(index: int) -> str:
    """The virtio disk name of the index-th disk: 0 → vda, 1 → vdb, ..., 26 → vdaa."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return f"vd{letters}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def root_disk(path: str, bootable: bool = True) -> ET.Element:
    """The instance's qcow2 overlay over the cached image, vda, booted from unless the
    guest boots a kernel directly."""
    disk = ET.Element("disk", {"type": "file", "device": "disk"})
    _sub(disk, "driver", name="qemu", type="qcow2")
    _sub(disk, "source", file=path)
    _sub(disk, "target", dev=disk_device(0), bus="virtio")
    if bootable:
        _sub(disk, "boot", order="1")
    return disk


def volume_disk(volume: VolumeDisk) -> ET.Element:
    """One attached volume as vdb, vdc, ...: the file the volume service exported, or
    its NBD export."""
    kind = "network" if volume.nbd else "file"
    disk = ET.Element("disk", {"type": kind, "device": "disk"})
    _sub(disk, "driver", name="qemu", type=volume.format)
    if volume.nbd:
        disk.append(nbd_source(volume.nbd))
    else:
        _sub(disk, "source", file=volume.path)
    _sub(disk, "target", dev=volume.device, bus="virtio")
    # The guest sees the volume id as the disk serial (/dev/disk/by-id), as in nova.
    _sub(disk, "serial", volume.volume_id[:20])
    return disk


def config_drive_cdrom(path: str) -> ET.Element:
    """The config drive as a read-only IDE CD-ROM ``hdd``, as nova attaches it on x86
    (the domain's default machine type, i440fx, has IDE; q35 would need SATA)."""
    disk = ET.Element("disk", {"type": "file", "device": "cdrom"})
    _sub(disk, "driver", name="qemu", type="raw")
    _sub(disk, "source", file=path)
    _sub(disk, "target", dev="hdd", bus="ide")
    _sub(disk, "readonly")
    return disk


def nbd_source(export: NbdSource) -> ET.Element:
    """``<source protocol='nbd'>`` naming the export and its address; ``tls='yes'`` makes
    QEMU present the client certificate that qemu.conf's nbd_tls_x509_cert_dir holds."""
    attrs = {"protocol": "nbd", "name": export.export_name}
    if export.tls:
        attrs["tls"] = "yes"
    source = ET.Element("source", attrs)
    _sub(source, "host", name=export.host.strip("[]"), port=str(export.port))
    return source


def nic(port: Nic, nic_type: str = "ethernet") -> ET.Element:
    """One guest NIC with the MAC the network service allocated for its port."""
    if nic_type not in NIC_TYPES:
        raise ValueError(f"nic_type must be one of {', '.join(NIC_TYPES)}, not {nic_type!r}")
    if nic_type == "bridge" and not port.bridge:
        raise ValueError(f"port {port.port_id} has no bridge to join")
    interface = ET.Element("interface", {"type": nic_type})
    _sub(interface, "mac", address=port.mac_address)
    if nic_type == "bridge":
        _sub(interface, "source", bridge=port.bridge)
    if nic_type in TAP_NIC_TYPES:
        _sub(interface, "target", dev=f"tap{port.port_id[:11]}")
    _sub(interface, "model", type="virtio")
    if port.mtu:
        _sub(interface, "mtu", size=str(port.mtu))
    return interface


def serial_console(log_path: str) -> ET.Element:
    """The serial console, written to a log file that GetConsoleOutput reads."""
    serial = ET.Element("serial", {"type": "file"})
    _sub(serial, "source", path=log_path, append="on")
    _sub(serial, "target", port="0")
    return serial


def os_disk_boot() -> ET.Element:
    """Boot as a PC does: firmware, then the first bootable disk."""
    os_element = ET.Element("os")
    _sub(os_element, "type", "hvm")
    return os_element


def os_kernel_boot(kernel: str, ramdisk: str, kernel_args: str) -> ET.Element:
    """Direct kernel boot (nova's kernel_id/ramdisk_id images): QEMU loads the kernel
    and ramdisk itself; no bootloader on the disk is needed."""
    os_element = os_disk_boot()
    _sub(os_element, "kernel", kernel)
    if ramdisk:
        _sub(os_element, "initrd", ramdisk)
    if kernel_args:
        _sub(os_element, "cmdline", kernel_args)
    return os_element


def features() -> ET.Element:
    """ACPI: the power button (stop, soft reboot) and the guest's own poweroff."""
    element = ET.Element("features")
    _sub(element, "acpi")
    return element


def metadata(spec: DomainSpec) -> ET.Element:
    """Which instance and host the domain belongs to, read back from libvirt."""
    outer = ET.Element("metadata")
    instance = _sub(outer, f"{{{METADATA_NS}}}instance")
    _sub(instance, f"{{{METADATA_NS}}}id", spec.instance_id)
    _sub(instance, f"{{{METADATA_NS}}}host", spec.host)
    _sub(instance, f"{{{METADATA_NS}}}project", spec.project_id)
    _sub(instance, f"{{{METADATA_NS}}}flavor", spec.flavor_name)
    return outer


def domain(spec: DomainSpec) -> ET.Element:
    """The whole domain: identity, metadata, sizing, OS, then every device."""
    root = ET.Element("domain", {"type": spec.domain_type})
    _sub(root, "name", domain_name(spec.instance_id))
    _sub(root, "uuid", spec.instance_id)
    _sub(root, "title", spec.display_name)
    root.append(metadata(spec))
    _sub(root, "memory", str(spec.memory_mib), unit="MiB")
    _sub(root, "vcpu", str(spec.vcpus))
    if spec.kernel:
        root.append(os_kernel_boot(spec.kernel, spec.ramdisk, spec.kernel_args))
    else:
        root.append(os_disk_boot())
    root.append(features())
    _sub(root, "on_poweroff", "destroy")
    _sub(root, "on_reboot", "restart")
    _sub(root, "on_crash", "destroy")
    devices = _sub(root, "devices")
    devices.append(root_disk(spec.root_disk, bootable=not spec.kernel))
    devices.extend(volume_disk(volume) for volume in spec.volumes)
    if spec.config_drive:
        devices.append(config_drive_cdrom(spec.config_drive))
    devices.extend(nic(port, spec.nic_type) for port in spec.nics)
    devices.append(serial_console(spec.console_log))
    return root


def to_xml(element: ET.Element) -> str:
    """The element as indented XML text (what libvirt is given and what golden files hold)."""
    element = _copy(element)
    ET.indent(element, space="  ")
    return ET.tostring(element, encoding="unicode") + "\n"


def _copy(element: ET.Element) -> ET.Element:
    return ET.fromstring(ET.tostring(element))
