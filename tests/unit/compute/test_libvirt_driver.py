"""The libvirt driver against libvirt's built-in test hypervisor (test:///default)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import libvirt
import pytest

from components.compute import domain_xml
from components.compute.libvirt_driver import (
    RUNNING,
    SHUTOFF,
    HypervisorError,
    LibvirtDriver,
    domain_name,
    power_state_of,
)
from components.framework.errors import Unavailable
from stratus.type.v1.instance_state_pb2 import PowerState


class Driver(LibvirtDriver):
    """The driver under test, remembering the domains a test made so they are removed:
    the test hypervisor's state is shared by every connection in the process."""

    made: list[str]

    def define(self, host: str = "host-1") -> str:
        instance_id = str(uuid.uuid4())
        self.made.append(instance_id)
        self.define_and_start(xml_for(instance_id, host))
        return instance_id


@pytest.fixture
def driver():
    drv = Driver("test:///default")
    drv.made = []
    yield drv
    for instance_id in drv.made:
        drv.destroy(instance_id)
    drv.close()


def xml_for(instance_id: str, host: str = "host-1") -> str:
    spec = domain_xml.DomainSpec(
        instance_id=instance_id,
        display_name="vm",
        host=host,
        project_id="p-1",
        flavor_name="m1.tiny",
        vcpus=2,
        memory_mib=256,
        root_disk="/nonexistent/disk",
        console_log="/nonexistent/console.log",
        nics=[domain_xml.Nic(str(uuid.uuid4()), "fa:16:3e:00:00:01", 1500)],
    )
    return domain_xml.to_xml(domain_xml.domain(spec))


def test_define_and_start_runs_a_domain_named_after_the_instance(driver):
    instance_id = driver.define()
    found = driver.domain(instance_id)
    assert found.name == domain_name(instance_id) == f"instance-{instance_id}"
    assert found.uuid == instance_id
    assert found.state == RUNNING
    assert (found.vcpus, found.memory_mib) == (2, 256)


def test_metadata_names_instance_and_host(driver):
    instance_id = driver.define(host="host-9")
    found = driver.domain(instance_id)
    assert (found.instance_id, found.host) == (instance_id, "host-9")


def test_destroy_removes_the_domain_and_is_idempotent(driver):
    instance_id = driver.define()
    assert driver.destroy(instance_id) is True
    assert driver.domain(instance_id) is None
    assert driver.state(instance_id) is None
    assert driver.destroy(instance_id) is False


def test_destroy_undefines_a_stopped_domain(driver):
    instance_id = driver.define()
    driver.shutdown(instance_id, timeout=5)
    assert driver.destroy(instance_id) is True
    assert driver.domain(instance_id) is None


def test_shutdown_and_start_change_the_state(driver):
    instance_id = driver.define()
    driver.shutdown(instance_id, timeout=5)
    assert driver.state(instance_id) == SHUTOFF
    driver.shutdown(instance_id, timeout=5)  # already stopped: left as it is
    driver.start(instance_id)
    assert driver.state(instance_id) == RUNNING
    driver.start(instance_id)  # already running: left as it is
    assert driver.state(instance_id) == RUNNING


def test_acpi_shutdown_reports_whether_the_guest_stopped(driver):
    instance_id = driver.define()
    assert driver.acpi_shutdown(instance_id, timeout=5) is True
    assert driver.state(instance_id) == SHUTOFF
    assert driver.acpi_shutdown(instance_id, timeout=5) is True  # already off
    with pytest.raises(HypervisorError, match="no domain"):
        driver.acpi_shutdown(str(uuid.uuid4()), timeout=5)


def test_starting_a_missing_domain_is_a_hypervisor_error(driver):
    with pytest.raises(HypervisorError, match="no domain"):
        driver.start(str(uuid.uuid4()))


# Every virDomainState libvirt-python defines, by its own name, and what the
# conductor should record for it (nova's mapping).
EXPECTED_POWER_STATES = {
    "VIR_DOMAIN_NOSTATE": PowerState.POWER_STATE_NOSTATE,
    "VIR_DOMAIN_RUNNING": PowerState.POWER_STATE_RUNNING,
    "VIR_DOMAIN_BLOCKED": PowerState.POWER_STATE_RUNNING,
    "VIR_DOMAIN_PAUSED": PowerState.POWER_STATE_PAUSED,
    "VIR_DOMAIN_SHUTDOWN": PowerState.POWER_STATE_SHUTDOWN,
    "VIR_DOMAIN_SHUTOFF": PowerState.POWER_STATE_SHUTDOWN,
    "VIR_DOMAIN_CRASHED": PowerState.POWER_STATE_CRASHED,
    "VIR_DOMAIN_PMSUSPENDED": PowerState.POWER_STATE_SUSPENDED,
}


@pytest.mark.parametrize(("name", "expected"), EXPECTED_POWER_STATES.items())
def test_each_libvirt_state_has_its_power_state(name, expected):
    assert power_state_of(getattr(libvirt, name)) == expected


def test_no_domain_or_a_state_libvirt_may_add_later_is_nostate():
    assert power_state_of(None) == PowerState.POWER_STATE_NOSTATE
    assert power_state_of(99) == PowerState.POWER_STATE_NOSTATE


def test_the_real_state_of_a_running_and_a_stopped_guest_maps(driver):
    instance_id = driver.define()
    assert power_state_of(driver.state(instance_id)) == PowerState.POWER_STATE_RUNNING
    driver.shutdown(instance_id, timeout=5)
    assert power_state_of(driver.state(instance_id)) == PowerState.POWER_STATE_SHUTDOWN


def test_defining_a_conflicting_name_fails_and_leaves_nothing_new(driver):
    instance_id = driver.define()
    other = str(uuid.uuid4())
    clash = xml_for(instance_id).replace(f"<uuid>{instance_id}</uuid>", f"<uuid>{other}</uuid>")
    with pytest.raises(HypervisorError, match="define"):
        driver.define_and_start(clash)
    assert driver.domain(other) is None
    assert driver.domain(instance_id).state == RUNNING


def test_list_domains_is_ordered_by_name_and_includes_foreign_domains(driver):
    ids = [driver.define() for _ in range(3)]
    found = driver.list_domains()
    names = [d.name for d in found]
    assert names == sorted(names)
    assert {domain_name(i) for i in ids} <= set(names)
    # The test driver's own "test" domain was not made by Stratus.
    assert any(d.name == "test" and d.instance_id == "" for d in found)


def test_host_info_describes_the_hypervisor(driver):
    info = driver.host_info()
    assert info.uri == "test:///default"
    assert info.hypervisor_type == "TEST"
    assert info.vcpus >= 1 and info.memory_mib >= 1 and info.architecture


def test_unreachable_libvirt_is_unavailable():
    with pytest.raises(Unavailable):
        LibvirtDriver("qemu+tcp://127.0.0.1:1/system")


BRIDGE = "brq0a1b2c3d-4e"


def test_test_driver_defines_a_guest_with_a_bridge_nic_and_nbd_volumes(driver):
    """The XML of guests across machines is valid libvirt: a tap on a Linux bridge, and
    volumes served over NBD (with and without TLS, on IPv4 and IPv6 hosts)."""
    instance_id = str(uuid.uuid4())
    driver.made.append(instance_id)
    spec = domain_xml.DomainSpec(
        instance_id=instance_id,
        display_name="vm",
        host="host-1",
        project_id="p-1",
        flavor_name="m1.tiny",
        vcpus=1,
        memory_mib=256,
        root_disk="/nonexistent/disk",
        console_log="/nonexistent/console.log",
        nic_type="bridge",
        nics=[
            domain_xml.Nic(str(uuid.uuid4()), "fa:16:3e:00:00:02", 1450, bridge="brq0a1b2c3d-4e")
        ],
        volumes=[
            domain_xml.VolumeDisk(
                "v-1", "", "raw", "vdb", nbd=domain_xml.NbdSource("10.251.7.30", 10809, "e1", True)
            ),
            domain_xml.VolumeDisk(
                "v-2", "", "raw", "vdc", nbd=domain_xml.NbdSource("fd00::30", 10810, "e2")
            ),
        ],
    )
    driver.define_and_start(domain_xml.to_xml(domain_xml.domain(spec)))
    devices = ET.fromstring(driver.connection().lookupByUUIDString(instance_id).XMLDesc(0)).find(
        "devices"
    )
    nic = devices.find("interface")
    assert nic.get("type") == "bridge"
    assert nic.find("source").get("bridge") == BRIDGE
    sources = [d.find("source") for d in devices.findall("disk") if d.get("type") == "network"]
    assert [(s.get("protocol"), s.get("name"), s.get("tls")) for s in sources] == [
        ("nbd", "e1", "yes"),
        ("nbd", "e2", None),
    ]
    assert [s.find("host").attrib for s in sources] == [
        {"name": "10.251.7.30", "port": "10809"},
        {"name": "fd00::30", "port": "10810"},
    ]
    found = driver.domain(instance_id)
    assert found.interfaces == (("fa:16:3e:00:00:02", "bridge"),)
    # No file backs a network disk on this host.
    assert [d for d in found.disks if d[0] != "vda"] == [("vdb", "", "raw"), ("vdc", "", "raw")]
