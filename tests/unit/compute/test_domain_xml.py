"""Golden tests of the domain XML: one per device function, one for a whole domain.

The golden files are compared exactly. To change the XML on purpose, run with
STRATUS_UPDATE_GOLDEN=1, then read the diff of tests/unit/compute/golden/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from components.compute import domain_xml
from components.compute.domain_xml import DomainSpec, NbdSource, Nic, VolumeDisk

GOLDEN = Path(__file__).parent / "golden"
INSTANCE_ID = "6f1c1a4e-3b7d-4c55-9a4e-0f2d7f0c8b11"
PORT = Nic(
    port_id="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", mac_address="fa:16:3e:12:34:56", mtu=1450
)
VOLUME = VolumeDisk(
    volume_id="d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70",
    path="/var/lib/stratus/volume/d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70.img",
    format="raw",
    device="vdb",
)
NBD_VOLUME = VolumeDisk(
    volume_id="f6a7b8c9-d0e1-4f2a-9b3c-4d5e6f7a8b92",
    path="",
    format="raw",
    device="vdb",
    nbd=NbdSource("10.251.7.30", 10809, "Xq3v9sKt2LmN8pR4", tls=True),
)
BRIDGE = "brq0a1b2c3d-4e"
INSTANCE_DIR = f"/var/lib/stratus/compute/host-1/instances/{INSTANCE_ID}"


def spec(**overrides) -> DomainSpec:
    values = dict(
        instance_id=INSTANCE_ID,
        display_name="web-1",
        host="host-1",
        project_id="9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
        flavor_name="m1.small",
        vcpus=2,
        memory_mib=2048,
        root_disk=f"{INSTANCE_DIR}/disk",
        console_log=f"{INSTANCE_DIR}/console.log",
        nics=[PORT, Nic("1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "fa:16:3e:ab:cd:ef")],
        volumes=[
            VOLUME,
            VolumeDisk("e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a81", "/srv/v2.qcow2", "qcow2", "vdc"),
        ],
    )
    values.update(overrides)
    return DomainSpec(**values)


def assert_golden(name: str, element) -> None:
    text = domain_xml.to_xml(element)
    path = GOLDEN / name
    if os.environ.get("STRATUS_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_root_disk_is_qcow2_overlay_on_virtio_vda_booted_first():
    assert_golden("root_disk.xml", domain_xml.root_disk(f"{INSTANCE_DIR}/disk"))


def test_volume_disk_uses_connection_path_format_and_volume_serial():
    assert_golden("volume_disk.xml", domain_xml.volume_disk(VOLUME))


def test_nic_ethernet_has_port_mac_tap_named_after_port_and_mtu():
    assert_golden("nic_ethernet.xml", domain_xml.nic(PORT))


def test_nic_user_mode_has_no_tap_and_no_mtu_when_unknown():
    assert_golden("nic_user.xml", domain_xml.nic(Nic(PORT.port_id, PORT.mac_address), "user"))


def test_serial_console_appends_to_the_instance_console_log():
    assert_golden("serial_console.xml", domain_xml.serial_console(f"{INSTANCE_DIR}/console.log"))


def test_metadata_names_instance_host_project_and_flavor():
    assert_golden("metadata.xml", domain_xml.metadata(spec()))


def test_whole_domain_has_every_device_in_order():
    assert_golden("domain.xml", domain_xml.domain(spec()))


def test_domain_without_nics_or_volumes_has_root_disk_and_console_only():
    assert_golden("domain_minimal.xml", domain_xml.domain(spec(nics=[], volumes=[])))


def test_os_disk_boot_is_hvm_from_the_boot_disk():
    assert_golden("os_disk_boot.xml", domain_xml.os_disk_boot())


def test_os_kernel_boot_names_kernel_ramdisk_and_command_line():
    element = domain_xml.os_kernel_boot(
        f"{INSTANCE_DIR}/kernel", f"{INSTANCE_DIR}/ramdisk", "console=ttyS0 quiet"
    )
    assert_golden("os_kernel_boot.xml", element)


def test_os_kernel_boot_without_ramdisk_or_arguments_has_kernel_only():
    element = domain_xml.os_kernel_boot(f"{INSTANCE_DIR}/kernel", "", "")
    assert [child.tag for child in element] == ["type", "kernel"]


def test_features_enable_acpi_for_the_power_button():
    assert_golden("features.xml", domain_xml.features())


def test_kernel_boot_domain_boots_the_kernel_and_not_the_root_disk():
    kernel_boot = spec(
        kernel=f"{INSTANCE_DIR}/kernel",
        ramdisk=f"{INSTANCE_DIR}/ramdisk",
        kernel_args="console=ttyS0",
        nics=[Nic(PORT.port_id, PORT.mac_address)],
        volumes=[VOLUME],
    )
    assert_golden("domain_kernel_boot.xml", domain_xml.domain(kernel_boot))


@pytest.mark.parametrize("nic_type", ["macvtap", "network"])
def test_unknown_nic_type_is_refused_naming_the_allowed_ones(nic_type):
    with pytest.raises(ValueError, match="nic_type must be one of ethernet, bridge, user"):
        domain_xml.nic(PORT, nic_type)


def test_nic_on_a_bridge_has_source_bridge_tap_named_after_port_and_mtu():
    port = Nic(PORT.port_id, PORT.mac_address, PORT.mtu, bridge=BRIDGE)
    assert_golden("nic_bridge.xml", domain_xml.nic(port, "bridge"))


def test_nic_on_a_bridge_without_one_is_refused():
    with pytest.raises(ValueError, match="no bridge"):
        domain_xml.nic(PORT, "bridge")


def test_nbd_volume_disk_is_a_network_disk_naming_export_host_port_and_tls():
    assert_golden("volume_disk_nbd.xml", domain_xml.volume_disk(NBD_VOLUME))


def test_nbd_volume_disk_without_tls_has_no_tls_attribute():
    export = NbdSource("10.251.7.30", 10810, "export-2")
    disk = domain_xml.volume_disk(VolumeDisk("v-2", "", "raw", "vdc", nbd=export))
    source = disk.find("source")
    assert source.attrib == {"protocol": "nbd", "name": "export-2"}
    assert source.find("host").attrib == {"name": "10.251.7.30", "port": "10810"}
    assert disk.get("type") == "network" and disk.find("driver").get("type") == "raw"


def test_nbd_volume_disk_on_an_ipv6_host_names_the_address_without_brackets():
    export = NbdSource("[fd00:251::30]", 10809, "export-3")
    disk = domain_xml.volume_disk(VolumeDisk("v-3", "", "raw", "vdb", nbd=export))
    assert disk.find("source/host").attrib == {"name": "fd00:251::30", "port": "10809"}


def test_domain_across_machines_has_bridge_nics_and_nbd_volumes():
    across = spec(
        nic_type="bridge",
        nics=[Nic(PORT.port_id, PORT.mac_address, PORT.mtu, bridge=BRIDGE)],
        volumes=[NBD_VOLUME],
    )
    assert_golden("domain_bridge_nbd.xml", domain_xml.domain(across))


@pytest.mark.parametrize(
    ("index", "name"),
    [(0, "vda"), (1, "vdb"), (25, "vdz"), (26, "vdaa"), (27, "vdab"), (52, "vdba")],
)
def test_disk_device_names_follow_the_linux_virtio_scheme(index, name):
    assert domain_xml.disk_device(index) == name


def test_config_drive_is_a_read_only_ide_cdrom_hdd():
    assert_golden(
        "config_drive_cdrom.xml", domain_xml.config_drive_cdrom(f"{INSTANCE_DIR}/disk.config")
    )


def test_domain_with_a_config_drive_has_the_cdrom_after_the_volumes():
    element = domain_xml.domain(spec(config_drive=f"{INSTANCE_DIR}/disk.config"))
    assert_golden("domain_config_drive.xml", element)
    devices = [d.get("device") for d in element.iter("disk")]
    assert devices == ["disk", "disk", "disk", "cdrom"]
    assert domain_xml.domain(spec()).find("devices/disk[@device='cdrom']") is None
