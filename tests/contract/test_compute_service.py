"""Contract tests of stratus.compute.v1: one real compute host (real libvirt test driver,
real qemu-img) against recording fakes of the conductor, image, network and volume services."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import io
import json
import shutil
import subprocess
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import grpc
import pycdlib
import pytest

from components.compute import domain_xml, reconcile
from components.compute.__main__ import COMPONENT
from components.compute.config import ComputeConfig
from components.compute.libvirt_driver import RUNNING, SHUTOFF, LibvirtDriver, domain_name
from components.framework import errors
from components.framework.clock import utcnow
from components.framework.convert import timestamp
from stratus.compute.v1 import compute_service_pb2 as pb2
from stratus.compute.v1 import compute_service_pb2_grpc as pb2_grpc
from stratus.conductor.v1 import conductor_service_pb2 as cond_pb2
from stratus.type.v1 import cast_pb2, instance_state_pb2
from tests.contract.compute_fakes import PROJECT, SERVICE_TOKEN, USER_TOKEN, Fakes, serving_fakes
from tests.harness import StaticValidator, caller, metadata, serving_component

Instance = cond_pb2.InstanceInfo
IMAGE_DATA = bytes(range(256)) * 4096  # 1 MiB

# Which test exercises each error case the proto comments name (test_conformance.py).
CONTRACT_CASES = {
    "stratus.compute.v1.Compute/Casts": {
        "PERMISSION_DENIED": "test_every_rpc_refuses_a_member",
    },
    "stratus.compute.v1.Compute/GetConsoleOutput": {
        "INVALID_ARGUMENT": "test_console_output_bad_requests_are_invalid_argument",
        "NOT_FOUND": "test_console_output_of_an_instance_not_on_this_host_is_not_found",
        "PERMISSION_DENIED": "test_every_rpc_refuses_a_member",
    },
    "stratus.compute.v1.Compute/GetHostStatus": {
        "PERMISSION_DENIED": "test_every_rpc_refuses_a_member",
    },
    "stratus.compute.v1.Compute/ListDomains": {
        "INVALID_ARGUMENT": "test_list_domains_bad_paging_is_invalid_argument",
        "PERMISSION_DENIED": "test_every_rpc_refuses_a_member",
    },
}
VALIDATOR = StaticValidator(
    {
        SERVICE_TOKEN: caller(["service"], project_id="service", token=SERVICE_TOKEN),
        "admin-token": caller(["admin"], project_id="admin", token="admin-token"),
        "member-token": caller(["member"], project_id=PROJECT, token="member-token"),
    }
)


@dataclasses.dataclass
class Cloud:
    """The compute host under test, its fakes, and helpers to drive it."""

    fakes: Fakes
    runtime: object
    stub: pb2_grpc.ComputeStub
    host_name: str

    @property
    def host(self):
        return self.runtime.state["host"]

    @property
    def conductor(self):
        return self.fakes.conductor

    def instance(self, networks=(), ports=(), volumes=(), image_id=None, **fields) -> Instance:
        image_id = image_id or self.fakes.images.add(IMAGE_DATA)
        requested = [cond_pb2.RequestedNetwork(network_id=n) for n in networks]
        requested += [cond_pb2.RequestedNetwork(port_id=p) for p in ports]
        values = dict(
            id=str(uuid.uuid4()),
            name="web-1",
            project_id=PROJECT,
            user_id="u-1",
            host=self.host_name,
            availability_zone="nova",
            flavor=cond_pb2.InstanceFlavor(name="m1.tiny", vcpus=1, ram_mib=128, disk_gib=1),
            image_id=image_id,
            requested_networks=requested,
            volume_ids=list(volumes),
            vm_state=instance_state_pb2.VM_STATE_BUILDING,
            task_state=instance_state_pb2.TASK_STATE_SCHEDULING,
            claim_id=str(uuid.uuid4()),
            attempt=1,
        )
        values.update(fields)
        return self.conductor.add(Instance(**values))

    def cast(self, **payload) -> None:
        message = pb2.ComputeCast(
            context=cast_pb2.CastContext(
                request_id=f"req-{uuid.uuid4()}",
                auth_token=USER_TOKEN,
                user_id="u-1",
                project_id=PROJECT,
            ),
            **payload,
        )
        summary = self.stub.Casts(iter([message]), metadata=metadata(SERVICE_TOKEN))
        assert summary.received == 1

    def build(self, instance: Instance) -> None:
        self.cast(
            build_and_run_instance=pb2.BuildAndRunInstance(
                instance_id=instance.id, claim_id=instance.claim_id, attempt=1
            )
        )

    def drain(self, instance_id: str) -> None:
        """Wait until every cast already received for the instance has been handled
        (they run one at a time per instance, in order)."""
        done = threading.Event()
        self.host.executor.submit(instance_id, done.set)
        assert done.wait(10), "casts for the instance are still running"

    def wait_until(self, predicate, timeout: float = 10.0):
        return self.fakes.journal.wait_for(predicate, timeout)

    def wait_active(self, instance: Instance) -> Instance:
        self.wait_until(
            lambda: (
                self.conductor.get(instance.id).vm_state == instance_state_pb2.VM_STATE_ACTIVE
                or self.conductor.casts_of("instance_build_failed", instance.id)
            )
        )
        found = self.conductor.get(instance.id)
        assert found.vm_state == instance_state_pb2.VM_STATE_ACTIVE, self.failure(instance)
        return found

    def wait_failed(self, instance: Instance) -> cond_pb2.InstanceBuildFailed:
        self.wait_until(lambda: self.conductor.casts_of("instance_build_failed", instance.id))
        return self.conductor.casts_of("instance_build_failed", instance.id)[0]

    def wait_deleted(self, instance: Instance) -> None:
        self.wait_until(lambda: self.conductor.casts_of("instance_deleted", instance.id))

    def failure(self, instance: Instance) -> str:
        failed = self.conductor.casts_of("instance_build_failed", instance.id)
        return failed[0].fault.message if failed else "no failure reported"

    def domain_xml(self, instance_id: str) -> ET.Element:
        conn = self.host.driver.connection()
        return ET.fromstring(conn.lookupByUUIDString(instance_id).XMLDesc())

    def instance_dir(self, instance_id: str) -> Path:
        return self.host.instance_dir(instance_id)


def md(token: str | None = SERVICE_TOKEN):
    return metadata(token)


@contextlib.contextmanager
def compute_host(fakes: Fakes, tmp_path: Path, host_name: str | None = None, **settings):
    host_name = host_name or f"host-{uuid.uuid4().hex[:8]}"
    config = ComputeConfig(
        component="compute",
        host_name=host_name,
        data_dir=str(tmp_path / "data"),
        endpoints=dict(fakes.endpoints),
        report_interval_seconds=settings.pop("report_interval_seconds", 60.0),
        reconcile_interval_seconds=settings.pop("reconcile_interval_seconds", 600.0),
        shutdown_timeout_seconds=2.0,
        reboot_timeout_seconds=2.0,
        **settings,
    )
    try:
        with serving_component(
            COMPONENT, VALIDATOR, config=config, endpoints=dict(fakes.endpoints)
        ) as (runtime, channel):
            cloud = Cloud(fakes, runtime, pb2_grpc.ComputeStub(channel), host_name)
            # The host has registered and its start-up reconciliation has begun.
            cloud.wait_until(
                lambda: (
                    fakes.conductor.calls("ReportComputeNode")
                    and fakes.conductor.calls("ListHostInstances")
                )
            )
            yield cloud
    finally:
        _destroy_domains_of(host_name)


def _destroy_domains_of(host_name: str) -> None:
    """The test driver's state outlives the component: leave no domain behind."""
    driver = LibvirtDriver("test:///default")
    for domain in driver.list_domains():
        if domain.host == host_name:
            driver.destroy(domain.uuid)
    driver.close()


@pytest.fixture
def fakes(tmp_path):
    volume_dir = tmp_path / "volumes"
    volume_dir.mkdir()
    with serving_fakes(volume_dir) as served:
        yield served


@pytest.fixture
def cloud(fakes, tmp_path):
    with compute_host(fakes, tmp_path) as started:
        yield started


def fails(fn, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    return info.value


def qemu_img_info(path: Path) -> dict:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", str(path)], check=True, capture_output=True
    )
    return json.loads(out.stdout)


def built(cloud: Cloud, with_volume: bool = True) -> tuple[Instance, str, str | None]:
    """An instance built with one created port and (optionally) one volume."""
    network_id = cloud.fakes.network.add_network()
    volume_id = cloud.fakes.volumes.add() if with_volume else None
    instance = cloud.instance(networks=[network_id], volumes=[volume_id] if volume_id else [])
    cloud.build(instance)
    return cloud.wait_active(instance), network_id, volume_id


# -- BuildAndRunInstance ----------------------------------------------------------------


def test_build_defines_a_running_domain_with_overlay_volume_and_nic(cloud):
    instance, network_id, volume_id = built(cloud)
    assert cloud.host.driver.domain(instance.id).state == RUNNING
    port = cloud.fakes.network.calls("CreatePort")[0]
    mac = next(iter(cloud.fakes.network.ports.values())).mac_address
    xml = cloud.domain_xml(instance.id)
    disks = {d.find("target").get("dev"): d for d in xml.iter("disk")}
    root = Path(disks["vda"].find("source").get("file"))
    assert root == cloud.instance_dir(instance.id) / "disk" and root.exists()
    info = qemu_img_info(root)
    assert info["format"] == "qcow2" and info["virtual-size"] == 1024**3
    assert info["backing-filename"] == str(cloud.host.root.resolve() / "_base" / instance.image_id)
    volume_file = Path(disks["vdb"].find("source").get("file"))
    assert volume_file == cloud.fakes.volumes.directory / volume_id
    assert [i.find("mac").get("address") for i in xml.iter("interface")] == [mac]
    assert xml.find("devices/serial/source").get("path").endswith("/console.log")
    assert port.network_id == network_id


def test_build_reports_active_running_with_addresses_and_volumes(cloud):
    instance, network_id, volume_id = built(cloud)
    assert instance.power_state == instance_state_pb2.POWER_STATE_RUNNING
    assert instance.task_state == instance_state_pb2.TASK_STATE_UNSPECIFIED
    assert instance.HasField("launched_time")
    port = next(iter(cloud.fakes.network.ports.values()))
    [address] = instance.addresses
    assert (address.port_id, address.network_id, address.mac_address) == (
        port.id,
        network_id,
        port.mac_address,
    )
    assert address.ip_address == port.fixed_ips[0].ip_address and address.network_name == "private"
    assert [(v.volume_id, v.device) for v in instance.volumes] == [(volume_id, "vdb")]
    tasks = [(u.expected_task_state, u.task_state) for u in cloud.conductor.updates(instance.id)]
    assert tasks == [
        (instance_state_pb2.TASK_STATE_SCHEDULING, instance_state_pb2.TASK_STATE_NETWORKING),
        (
            instance_state_pb2.TASK_STATE_NETWORKING,
            instance_state_pb2.TASK_STATE_BLOCK_DEVICE_MAPPING,
        ),
        (
            instance_state_pb2.TASK_STATE_BLOCK_DEVICE_MAPPING,
            instance_state_pb2.TASK_STATE_SPAWNING,
        ),
        (instance_state_pb2.TASK_STATE_SPAWNING, instance_state_pb2.TASK_STATE_UNSPECIFIED),
    ]


def test_build_creates_ports_bound_to_the_instance_and_reports_them_active(cloud):
    instance, _, _ = built(cloud, with_volume=False)
    [create] = cloud.fakes.network.calls("CreatePort")
    assert create.device_id == instance.id
    assert create.device_owner == "compute:nova"
    assert create.binding_host_id == cloud.host_name
    [update] = cloud.fakes.network.calls("UpdatePort")
    assert list(update.update_mask.paths) == ["status"]
    port = cloud.fakes.network.ports[update.port.id]
    assert port.status == port.STATUS_ACTIVE


def test_build_reserves_then_attaches_volumes_as_vdb(cloud):
    instance, _, volume_id = built(cloud)
    assert cloud.fakes.journal.methods("volume") == ["ReserveVolume", "AttachVolume"]
    [attach] = cloud.fakes.volumes.calls("AttachVolume")
    assert (attach.volume_id, attach.instance_id) == (volume_id, instance.id)
    assert (attach.host, attach.device) == (cloud.host_name, "/dev/vdb")
    assert cloud.fakes.volumes.status(volume_id) == "STATUS_IN_USE"


def test_build_acts_as_the_user_on_services_and_as_itself_on_the_conductor(cloud):
    built(cloud)
    for fake in (cloud.fakes.images, cloud.fakes.network, cloud.fakes.volumes):
        assert fake.tokens() == {USER_TOKEN}, fake.service
    assert cloud.conductor.tokens() == {SERVICE_TOKEN}


def test_build_binds_a_port_the_user_passed_in(cloud):
    network_id = cloud.fakes.network.add_network()
    port_id = cloud.fakes.network.add_port(network_id)
    instance = cloud.instance(ports=[port_id])
    cloud.build(instance)
    cloud.wait_active(instance)
    assert cloud.fakes.network.calls("CreatePort") == []
    port = cloud.fakes.network.ports[port_id]
    assert (port.device_id, port.binding_host_id) == (instance.id, cloud.host_name)
    assert port.status == port.STATUS_ACTIVE
    mac = cloud.domain_xml(instance.id).find("devices/interface/mac").get("address")
    assert mac == port.mac_address


def test_a_repeated_build_message_does_not_build_twice(cloud):
    instance, _, _ = built(cloud, with_volume=False)
    cloud.build(instance)
    cloud.drain(instance.id)
    assert len(cloud.conductor.calls("GetInstance")) == 2
    assert len(cloud.fakes.network.calls("CreatePort")) == 1
    assert len(cloud.fakes.images.calls("GetImage")) == 1
    # NETWORKING, SPAWNING, ACTIVE: no volumes, so no BLOCK_DEVICE_MAPPING.
    assert len(cloud.conductor.updates(instance.id)) == 3


@pytest.mark.parametrize(
    "fields",
    [
        {"host": "some-other-host"},
        {"task_state": instance_state_pb2.TASK_STATE_DELETING},
        {
            "vm_state": instance_state_pb2.VM_STATE_ACTIVE,
            "task_state": instance_state_pb2.TASK_STATE_UNSPECIFIED,
        },
    ],
    ids=["other-host", "deleting", "already-active"],
)
def test_build_of_an_instance_not_waiting_for_this_host_is_ignored(cloud, fields):
    instance = cloud.instance(**fields)
    cloud.build(instance)
    cloud.drain(instance.id)
    assert len(cloud.conductor.calls("GetInstance")) == 1
    assert cloud.conductor.updates(instance.id) == []
    assert cloud.conductor.casts == []
    assert cloud.host.driver.domain(instance.id) is None


def test_build_with_a_stale_claim_is_ignored(cloud):
    instance = cloud.instance()
    cloud.cast(
        build_and_run_instance=pb2.BuildAndRunInstance(
            instance_id=instance.id, claim_id=str(uuid.uuid4()), attempt=1
        )
    )
    cloud.drain(instance.id)
    assert cloud.conductor.updates(instance.id) == []


def test_build_of_an_unknown_instance_is_dropped(cloud):
    unknown = str(uuid.uuid4())
    cloud.cast(build_and_run_instance=pb2.BuildAndRunInstance(instance_id=unknown))
    cloud.drain(unknown)
    assert [c.instance_id for c in cloud.conductor.calls("GetInstance")] == [unknown]
    assert cloud.conductor.casts == []


def test_concurrent_builds_of_one_image_download_it_once(cloud):
    image_id = cloud.fakes.images.add(IMAGE_DATA)
    instances = [cloud.instance(image_id=image_id) for _ in range(4)]
    for instance in instances:
        cloud.build(instance)
    for instance in instances:
        cloud.wait_active(instance)
    assert len(cloud.fakes.images.calls("DownloadImage")) == 1
    assert len(cloud.fakes.images.calls("GetImage")) == 4


# -- build failures: undone in reverse, fault recorded, conductor told ------------------


def assert_nothing_left(cloud: Cloud, instance: Instance) -> None:
    assert cloud.host.driver.domain(instance.id) is None
    assert not cloud.instance_dir(instance.id).exists()
    assert not [p for p in cloud.fakes.network.ports.values() if p.device_id == instance.id]


def assert_fault_then_cast(cloud: Cloud, instance: Instance, code: int) -> None:
    [fault] = cloud.conductor.calls("AddInstanceFault")
    assert fault.instance_id == instance.id and fault.code == code
    assert instance.id in fault.message and cloud.host_name in fault.message
    methods = cloud.fakes.journal.methods("conductor")
    assert methods.index("AddInstanceFault") < methods.index("Casts")


def test_image_checksum_mismatch_fails_the_build_before_allocating_anything(cloud):
    image_id = cloud.fakes.images.add(IMAGE_DATA, checksum="0" * 32)
    network_id = cloud.fakes.network.add_network()
    instance = cloud.instance(image_id=image_id, networks=[network_id])
    cloud.build(instance)
    failed = cloud.wait_failed(instance)
    assert failed.retryable is False
    assert (failed.host, failed.claim_id) == (cloud.host_name, instance.claim_id)
    assert failed.fault.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert "checksum" in failed.fault.message
    assert "Traceback" in failed.fault.details
    assert_fault_then_cast(cloud, instance, failed.fault.code)
    assert cloud.fakes.network.calls("CreatePort") == []
    assert_nothing_left(cloud, instance)
    assert list((cloud.host.root / "_base").iterdir()) == []


def test_exhausted_subnet_deletes_the_ports_already_created(cloud):
    first, second = cloud.fakes.network.add_network(), cloud.fakes.network.add_network()
    volume_id = cloud.fakes.volumes.add()
    instance = cloud.instance(networks=[first, second], volumes=[volume_id])
    cloud.fakes.network.fail_when.append(
        ("CreatePort", lambda r: r.network_id == second, errors.ResourceExhausted("subnet full"))
    )
    cloud.build(instance)
    failed = cloud.wait_failed(instance)
    assert failed.fault.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert failed.retryable is False
    assert [p.network_id for p in cloud.fakes.network.calls("CreatePort")] == [first, second]
    assert len(cloud.fakes.network.calls("DeletePort")) == 1
    assert cloud.fakes.network.ports == {}
    assert cloud.fakes.volumes.calls("ReserveVolume") == []
    assert_nothing_left(cloud, instance)


def test_volume_attach_refused_releases_the_volume_and_ports(cloud):
    network_id = cloud.fakes.network.add_network()
    volume_id = cloud.fakes.volumes.add()
    instance = cloud.instance(networks=[network_id], volumes=[volume_id])
    cloud.fakes.volumes.fail_next["AttachVolume"] = errors.FailedPrecondition("volume is busy")
    cloud.build(instance)
    failed = cloud.wait_failed(instance)
    assert failed.fault.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert failed.retryable is False
    assert cloud.fakes.volumes.status(volume_id) == "STATUS_AVAILABLE"
    undo = [m for m in cloud.fakes.journal.methods() if m in ("UnreserveVolume", "DeletePort")]
    assert undo == ["UnreserveVolume", "DeletePort"]
    assert cloud.fakes.volumes.calls("DetachVolume") == []
    assert_nothing_left(cloud, instance)


def test_libvirt_define_failing_undoes_every_step_in_reverse(cloud):
    network_id = cloud.fakes.network.add_network()
    volume_id = cloud.fakes.volumes.add()
    instance = cloud.instance(networks=[network_id], volumes=[volume_id])
    # A foreign domain already holds the name the instance's domain needs.
    clash = str(uuid.uuid4())
    cloud.host.driver.define_and_start(
        f"<domain type='test'><name>instance-{instance.id}</name><uuid>{clash}</uuid>"
        "<memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>"
    )
    try:
        cloud.build(instance)
        failed = cloud.wait_failed(instance)
    finally:
        cloud.host.driver.destroy(clash)
    assert failed.retryable is True
    assert failed.fault.code == grpc.StatusCode.INTERNAL.value[0]
    assert "define" in failed.fault.message
    undo = [
        m
        for m in cloud.fakes.journal.methods()
        if m in ("DetachVolume", "UnreserveVolume", "DeletePort")
    ]
    assert undo == ["DetachVolume", "UnreserveVolume", "DeletePort"]
    assert cloud.fakes.volumes.status(volume_id) == "STATUS_AVAILABLE"
    assert_nothing_left(cloud, instance)
    assert_fault_then_cast(cloud, instance, failed.fault.code)
    # The image stays cached for the next build.
    assert (cloud.host.root / "_base" / instance.image_id).exists()


def test_missing_image_is_not_retryable(cloud):
    instance = cloud.instance(image_id=str(uuid.uuid4()))
    cloud.build(instance)
    failed = cloud.wait_failed(instance)
    assert failed.retryable is False
    assert failed.fault.code == grpc.StatusCode.NOT_FOUND.value[0]


# -- direct kernel boot (Glance's kernel_id / ramdisk_id images) ------------------------

KERNEL_DATA = b"\x7fELF pretend kernel" * 100
RAMDISK_DATA = b"070701 pretend initramfs" * 100


def kernel_image(cloud: Cloud, command_line: str | None = "console=ttyS0 quiet") -> str:
    """A disk image whose properties name a kernel image and a ramdisk image."""
    images = cloud.fakes.images
    image_id = images.add(IMAGE_DATA)
    properties = images.images[image_id][0].properties
    properties["kernel_id"] = images.add(KERNEL_DATA)
    properties["ramdisk_id"] = images.add(RAMDISK_DATA)
    if command_line is not None:
        properties["os_command_line"] = command_line
    return image_id


def test_kernel_image_boots_its_kernel_and_ramdisk_with_its_command_line(cloud):
    instance = cloud.instance(image_id=kernel_image(cloud))
    cloud.build(instance)
    cloud.wait_active(instance)
    directory = cloud.instance_dir(instance.id)
    os_element = cloud.domain_xml(instance.id).find("os")
    assert os_element.findtext("kernel") == str(directory / "kernel")
    assert os_element.findtext("initrd") == str(directory / "ramdisk")
    assert os_element.findtext("cmdline") == "console=ttyS0 quiet"
    assert (directory / "kernel").read_bytes() == KERNEL_DATA
    assert (directory / "ramdisk").read_bytes() == RAMDISK_DATA
    root = next(d for d in cloud.domain_xml(instance.id).iter("disk"))
    assert root.find("boot") is None, "the kernel boots, not the disk"
    downloaded = {r.image_id for r in cloud.fakes.images.calls("DownloadImage")}
    properties = cloud.fakes.images.images[instance.image_id][0].properties
    assert downloaded == {instance.image_id, properties["kernel_id"], properties["ramdisk_id"]}


def test_kernel_image_without_a_command_line_gets_a_serial_console(cloud):
    instance = cloud.instance(image_id=kernel_image(cloud, command_line=None))
    cloud.build(instance)
    cloud.wait_active(instance)
    assert "console=ttyS0" in cloud.domain_xml(instance.id).findtext("os/cmdline")


def test_disk_image_boots_from_its_root_disk(cloud):
    instance, _, _ = built(cloud, with_volume=False)
    xml = cloud.domain_xml(instance.id)
    assert xml.find("os/kernel") is None
    assert xml.find("features/acpi") is not None
    assert not (cloud.instance_dir(instance.id) / "kernel").exists()


def test_hard_reboot_of_a_kernel_guest_boots_the_same_kernel_without_asking_image(cloud):
    instance = cloud.instance(image_id=kernel_image(cloud))
    cloud.build(instance)
    cloud.wait_active(instance)
    before = len(cloud.fakes.images.calls("GetImage"))
    cloud.host.driver.destroy(instance.id)
    act(
        cloud,
        instance,
        instance_state_pb2.TASK_STATE_REBOOTING_HARD,
        reboot_instance=reboot(instance, HARD),
    )
    assert cloud.host.driver.state(instance.id) == RUNNING
    kernel = cloud.domain_xml(instance.id).findtext("os/kernel")
    assert kernel == str(cloud.instance_dir(instance.id) / "kernel")
    assert len(cloud.fakes.images.calls("GetImage")) == before


def test_missing_kernel_image_fails_the_build_and_leaves_nothing(cloud):
    image_id = kernel_image(cloud)
    cloud.fakes.images.images[image_id][0].properties["kernel_id"] = str(uuid.uuid4())
    network_id = cloud.fakes.network.add_network()
    instance = cloud.instance(image_id=image_id, networks=[network_id])
    cloud.build(instance)
    failed = cloud.wait_failed(instance)
    assert failed.fault.code == grpc.StatusCode.NOT_FOUND.value[0]
    assert cloud.fakes.network.calls("CreatePort") == []
    assert_nothing_left(cloud, instance)


def test_deletion_during_the_build_stops_it_and_cleans_up_without_a_failure(cloud):
    network_id = cloud.fakes.network.add_network()
    volume_id = cloud.fakes.volumes.add()
    instance = cloud.instance(networks=[network_id], volumes=[volume_id])

    def user_deletes(request):
        if request.task_state == instance_state_pb2.TASK_STATE_BLOCK_DEVICE_MAPPING:
            cloud.conductor.set_task(instance.id, instance_state_pb2.TASK_STATE_DELETING)

    cloud.conductor.before_update = user_deletes
    cloud.build(instance)
    cloud.wait_until(lambda: cloud.fakes.network.calls("DeletePort"))
    cloud.cast(terminate_instance=pb2.TerminateInstance(instance_id=instance.id))
    cloud.wait_deleted(instance)
    assert cloud.conductor.casts_of("instance_build_failed", instance.id) == []
    assert cloud.conductor.calls("AddInstanceFault") == []
    assert_nothing_left(cloud, instance)


# -- Config drive -----------------------------------------------------------------------

PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx8b3bq4Kk8yO2iJ1cQbVnX0Yt5mQ3N6f7rE8sWdQ1a me@laptop"
)
USER_DATA = b"#!/bin/sh\necho hello > /marker\n"


def iso_file(path: Path, name: str) -> bytes:
    """One file of an ISO image, by its Rock Ridge path."""
    iso = pycdlib.PyCdlib()
    iso.open(str(path))
    try:
        out = io.BytesIO()
        iso.get_file_from_iso_fp(out, rr_path=f"/{name}")
        return out.getvalue()
    finally:
        iso.close()


def cdroms(cloud: Cloud, instance_id: str) -> list[ET.Element]:
    return cloud.domain_xml(instance_id).findall("devices/disk[@device='cdrom']")


def test_a_config_drive_carries_the_key_user_data_and_nics_and_is_a_cdrom(cloud):
    network_id = cloud.fakes.network.add_network(mtu=1450)
    instance = cloud.instance(
        networks=[network_id],
        name="Web 1_Prod!",
        metadata={"role": "web"},
        key_name="laptop",
        public_key=PUBLIC_KEY,
        user_data=USER_DATA,
        config_drive=True,
    )
    cloud.build(instance)
    active = cloud.wait_active(instance)
    drive = cloud.instance_dir(instance.id) / "disk.config"
    assert drive.exists()
    meta = json.loads(iso_file(drive, "openstack/latest/meta_data.json"))
    assert meta["uuid"] == instance.id and meta["name"] == "Web 1_Prod!"
    assert meta["hostname"] == "web-1-prod"
    assert meta["public_keys"] == {"laptop": PUBLIC_KEY}
    assert meta["meta"] == {"role": "web"}
    assert iso_file(drive, "openstack/latest/user_data") == USER_DATA
    network = json.loads(iso_file(drive, "openstack/latest/network_data.json"))
    address = active.addresses[0]
    [link] = network["links"]
    assert (link["ethernet_mac_address"], link["mtu"]) == (address.mac_address, 1450)
    [net] = network["networks"]
    assert (net["type"], net["ip_address"], net["netmask"]) == (
        "ipv4",
        address.ip_address,
        "255.255.255.0",
    )
    assert net["routes"][0]["gateway"] == "10.0.0.1"
    assert network["services"] == [{"type": "dns", "address": "10.0.0.2"}]
    [cdrom] = cdroms(cloud, instance.id)
    assert cdrom.find("source").get("file") == str(drive)
    assert cdrom.find("target").get("dev") == "hdd" and cdrom.find("readonly") is not None


def test_without_a_config_drive_there_is_no_iso_and_no_cdrom(cloud):
    instance, _, _ = built(cloud, with_volume=False)
    assert not (cloud.instance_dir(instance.id) / "disk.config").exists()
    assert cdroms(cloud, instance.id) == []
    assert cloud.fakes.network.calls("GetSubnet") == []


def test_a_host_that_forces_config_drives_gives_one_to_every_guest(fakes, tmp_path):
    with compute_host(fakes, tmp_path, force_config_drive=True) as cloud:
        instance = cloud.instance(name="---")
        cloud.build(instance)
        cloud.wait_active(instance)
        drive = cloud.instance_dir(instance.id) / "disk.config"
        meta = json.loads(iso_file(drive, "openstack/latest/meta_data.json"))
        assert meta["hostname"] == f"server-{instance.id[:8]}"
        assert "public_keys" not in meta
        assert len(cdroms(cloud, instance.id)) == 1


def test_a_hard_reboot_attaches_the_config_drive_again_and_terminate_removes_it(cloud):
    instance = cloud.instance(user_data=USER_DATA, config_drive=True)
    cloud.build(instance)
    cloud.wait_active(instance)
    drive = cloud.instance_dir(instance.id) / "disk.config"
    cloud.host.driver.destroy(instance.id)
    act(
        cloud,
        instance,
        instance_state_pb2.TASK_STATE_REBOOTING_HARD,
        reboot_instance=reboot(instance, HARD),
    )
    [cdrom] = cdroms(cloud, instance.id)
    assert cdrom.find("source").get("file") == str(drive)
    cloud.conductor.set_task(instance.id, instance_state_pb2.TASK_STATE_DELETING)
    cloud.cast(terminate_instance=pb2.TerminateInstance(instance_id=instance.id))
    cloud.wait_deleted(instance)
    assert not drive.exists()


def test_a_hard_reboot_that_finds_the_instance_directory_gone_writes_the_drive_again(cloud):
    network_id = cloud.fakes.network.add_network(mtu=1450)
    instance = cloud.instance(
        networks=[network_id],
        key_name="laptop",
        public_key=PUBLIC_KEY,
        user_data=USER_DATA,
        config_drive=True,
    )
    cloud.build(instance)
    active = cloud.wait_active(instance)
    directory = cloud.instance_dir(instance.id)
    drive = directory / "disk.config"
    cloud.host.driver.destroy(instance.id)
    shutil.rmtree(directory)  # the host's disk was wiped
    act(
        cloud,
        instance,
        instance_state_pb2.TASK_STATE_REBOOTING_HARD,
        reboot_instance=reboot(instance, HARD),
    )
    assert cloud.host.driver.state(instance.id) == RUNNING
    [cdrom] = cdroms(cloud, instance.id)
    assert cdrom.find("source").get("file") == str(drive)
    meta = json.loads(iso_file(drive, "openstack/latest/meta_data.json"))
    assert meta["uuid"] == instance.id and meta["public_keys"] == {"laptop": PUBLIC_KEY}
    assert iso_file(drive, "openstack/latest/user_data") == USER_DATA
    network = json.loads(iso_file(drive, "openstack/latest/network_data.json"))
    assert network["links"][0]["ethernet_mac_address"] == active.addresses[0].mac_address


# -- TerminateInstance ------------------------------------------------------------------


def test_terminate_after_build_releases_everything_and_reports_deleted(cloud):
    instance, _, volume_id = built(cloud)
    directory = cloud.instance_dir(instance.id)
    assert directory.exists()
    cloud.conductor.set_task(instance.id, instance_state_pb2.TASK_STATE_DELETING)
    cloud.cast(terminate_instance=pb2.TerminateInstance(instance_id=instance.id))
    cloud.wait_deleted(instance)
    assert cloud.host.driver.domain(instance.id) is None
    assert not directory.exists()
    assert cloud.fakes.network.ports == {}
    assert cloud.fakes.volumes.status(volume_id) == "STATUS_AVAILABLE"
    [deleted] = cloud.conductor.casts_of("instance_deleted", instance.id)
    assert deleted.host == cloud.host_name
    order = [
        m for m in cloud.fakes.journal.methods() if m in ("DetachVolume", "DeletePort", "Casts")
    ]
    assert order == ["DetachVolume", "DeletePort", "Casts"]


def test_terminate_unbinds_a_port_the_user_passed_in_instead_of_deleting_it(cloud):
    network_id = cloud.fakes.network.add_network()
    port_id = cloud.fakes.network.add_port(network_id)
    instance = cloud.instance(ports=[port_id])
    cloud.build(instance)
    cloud.wait_active(instance)
    cloud.cast(terminate_instance=pb2.TerminateInstance(instance_id=instance.id))
    cloud.wait_deleted(instance)
    port = cloud.fakes.network.ports[port_id]
    assert (port.device_id, port.device_owner, port.binding_host_id) == ("", "", "")
    assert port.status == port.STATUS_DOWN
    assert cloud.fakes.network.calls("DeletePort") == []


def test_terminate_leaves_a_passed_in_port_that_another_server_took_meanwhile(cloud):
    network_id = cloud.fakes.network.add_network()
    port_id = cloud.fakes.network.add_port(network_id)
    instance = cloud.instance(ports=[port_id])
    cloud.build(instance)
    cloud.wait_active(instance)
    other = str(uuid.uuid4())
    network = cloud.fakes.network

    def taken_meanwhile(request) -> bool:
        # After the host listed the instance's ports, the api's local delete unbound
        # this one and another server bound it.
        if request.HasField("expected_device_id"):
            network.ports[port_id].device_id = other
        return False

    network.fail_when.append(("UpdatePort", taken_meanwhile, errors.Unavailable("unused")))
    cloud.cast(terminate_instance=pb2.TerminateInstance(instance_id=instance.id))
    cloud.wait_deleted(instance)
    (unbind,) = [c for c in network.calls("UpdatePort") if c.HasField("expected_device_id")]
    assert unbind.expected_device_id == instance.id
    assert network.ports[port_id].device_id == other
    assert cloud.fakes.conductor.calls("AddInstanceFault") == []


def test_terminate_of_a_never_built_instance_still_reports_deleted(cloud):
    instance = cloud.instance(task_state=instance_state_pb2.TASK_STATE_DELETING)
    cloud.cast(terminate_instance=pb2.TerminateInstance(instance_id=instance.id))
    cloud.wait_deleted(instance)
    assert cloud.conductor.calls("AddInstanceFault") == []


def test_terminate_twice_is_harmless(cloud):
    instance, _, _ = built(cloud)
    for _ in range(2):
        cloud.cast(terminate_instance=pb2.TerminateInstance(instance_id=instance.id))
    cloud.wait_until(lambda: len(cloud.conductor.casts_of("instance_deleted", instance.id)) == 2)
    assert cloud.conductor.calls("AddInstanceFault") == []


def test_terminate_that_cannot_release_a_port_records_a_fault_and_error(cloud):
    instance, _, _ = built(cloud, with_volume=False)
    cloud.fakes.network.fail_next["DeletePort"] = errors.Unavailable("network is down")
    cloud.conductor.set_task(instance.id, instance_state_pb2.TASK_STATE_DELETING)
    cloud.cast(terminate_instance=pb2.TerminateInstance(instance_id=instance.id))
    cloud.wait_until(lambda: cloud.conductor.calls("AddInstanceFault"))
    cloud.wait_until(
        lambda: cloud.conductor.get(instance.id).vm_state == instance_state_pb2.VM_STATE_ERROR
    )
    assert cloud.conductor.casts_of("instance_deleted", instance.id) == []
    assert "ports" in cloud.conductor.calls("AddInstanceFault")[0].message
    # The deletion is over, so its owner may delete again.
    assert cloud.conductor.get(instance.id).task_state == instance_state_pb2.TASK_STATE_UNSPECIFIED
    # What could be released was released.
    assert cloud.host.driver.domain(instance.id) is None


def test_terminate_of_an_unknown_instance_is_dropped(cloud):
    unknown = str(uuid.uuid4())
    cloud.cast(terminate_instance=pb2.TerminateInstance(instance_id=unknown))
    cloud.drain(unknown)
    assert cloud.conductor.casts == []


# -- Stop / Start / Reboot --------------------------------------------------------------


def act(cloud: Cloud, instance: Instance, task: int, **payload) -> Instance:
    """Set the task as the api does, cast, and wait for the host to end the task."""
    cloud.conductor.set_task(instance.id, task)
    cloud.cast(**payload)
    cloud.wait_until(
        lambda: (
            cloud.conductor.get(instance.id).task_state == instance_state_pb2.TASK_STATE_UNSPECIFIED
        )
    )
    return cloud.conductor.get(instance.id)


SOFT = pb2.RebootInstance.REBOOT_TYPE_SOFT
HARD = pb2.RebootInstance.REBOOT_TYPE_HARD


def reboot(instance: Instance, kind: int) -> pb2.RebootInstance:
    return pb2.RebootInstance(instance_id=instance.id, reboot_type=kind)


def test_stop_start_and_reboot_change_the_domain_state(cloud):
    instance, _, _ = built(cloud)
    driver = cloud.host.driver
    stopped = act(
        cloud,
        instance,
        instance_state_pb2.TASK_STATE_POWERING_OFF,
        stop_instance=pb2.StopInstance(instance_id=instance.id),
    )
    assert driver.state(instance.id) == SHUTOFF
    assert (stopped.vm_state, stopped.power_state) == (
        instance_state_pb2.VM_STATE_STOPPED,
        instance_state_pb2.POWER_STATE_SHUTDOWN,
    )
    started = act(
        cloud,
        instance,
        instance_state_pb2.TASK_STATE_POWERING_ON,
        start_instance=pb2.StartInstance(instance_id=instance.id),
    )
    assert driver.state(instance.id) == RUNNING
    assert (started.vm_state, started.power_state) == (
        instance_state_pb2.VM_STATE_ACTIVE,
        instance_state_pb2.POWER_STATE_RUNNING,
    )
    rebooted = act(
        cloud,
        instance,
        instance_state_pb2.TASK_STATE_REBOOTING,
        reboot_instance=reboot(instance, SOFT),
    )
    assert driver.state(instance.id) == RUNNING
    assert rebooted.vm_state == instance_state_pb2.VM_STATE_ACTIVE
    assert cloud.conductor.calls("AddInstanceFault") == []


def test_stop_of_a_stopped_instance_leaves_it_stopped(cloud):
    instance, _, _ = built(cloud, with_volume=False)
    for _ in range(2):
        stopped = act(
            cloud,
            instance,
            instance_state_pb2.TASK_STATE_POWERING_OFF,
            stop_instance=pb2.StopInstance(instance_id=instance.id),
        )
    assert stopped.vm_state == instance_state_pb2.VM_STATE_STOPPED
    assert cloud.host.driver.state(instance.id) == SHUTOFF


def test_hard_reboot_rebuilds_the_domain_from_the_record(cloud):
    instance, _, volume_id = built(cloud)
    cloud.host.driver.destroy(instance.id)  # the domain went missing
    rebooted = act(
        cloud,
        instance,
        instance_state_pb2.TASK_STATE_REBOOTING_HARD,
        reboot_instance=reboot(instance, HARD),
    )
    assert rebooted.vm_state == instance_state_pb2.VM_STATE_ACTIVE
    assert cloud.host.driver.state(instance.id) == RUNNING
    xml = cloud.domain_xml(instance.id)
    assert xml.find("devices/interface/mac").get("address") == instance.addresses[0].mac_address
    sources = [d.find("source").get("file") for d in xml.iter("disk")]
    assert sources[1] == str(cloud.fakes.volumes.directory / volume_id)


def test_soft_reboot_of_a_stopped_instance_falls_back_to_hard(cloud):
    instance, _, _ = built(cloud, with_volume=False)
    cloud.host.driver.shutdown(instance.id, timeout=2)
    rebooted = act(
        cloud,
        instance,
        instance_state_pb2.TASK_STATE_REBOOTING,
        reboot_instance=reboot(instance, SOFT),
    )
    assert rebooted.power_state == instance_state_pb2.POWER_STATE_RUNNING
    assert cloud.host.driver.state(instance.id) == RUNNING


def test_start_without_a_domain_records_a_fault_and_error(cloud):
    instance, _, _ = built(cloud, with_volume=False)
    cloud.conductor.add(
        _with(cloud.conductor.get(instance.id), vm_state=instance_state_pb2.VM_STATE_STOPPED)
    )
    cloud.host.driver.destroy(instance.id)
    after = act(
        cloud,
        instance,
        instance_state_pb2.TASK_STATE_POWERING_ON,
        start_instance=pb2.StartInstance(instance_id=instance.id),
    )
    assert after.vm_state == instance_state_pb2.VM_STATE_ERROR
    assert after.power_state == instance_state_pb2.POWER_STATE_NOSTATE
    [fault] = cloud.conductor.calls("AddInstanceFault")
    assert fault.message.startswith(f"Start of instance {instance.id}")


def _with(instance: Instance, **fields) -> Instance:
    for name, value in fields.items():
        setattr(instance, name, value)
    return instance


# -- GetConsoleOutput -------------------------------------------------------------------


def write_console(cloud: Cloud, instance_id: str, data: bytes) -> None:
    directory = cloud.instance_dir(instance_id)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "console.log").write_bytes(data)


def console(cloud: Cloud, instance_id: str, length: int | None = None, token=SERVICE_TOKEN):
    request = pb2.GetConsoleOutputRequest(instance_id=instance_id)
    if length is not None:
        request.length = length
    return cloud.stub.GetConsoleOutput(request, metadata=md(token))


def test_console_output_of_a_new_guest_is_empty(cloud):
    instance, _, _ = built(cloud, with_volume=False)
    reply = console(cloud, instance.id)
    assert (reply.output, reply.truncated) == ("", False)


def test_console_output_returns_the_log_and_its_last_lines(cloud):
    instance_id = str(uuid.uuid4())
    write_console(cloud, instance_id, b"".join(f"line {i}\n".encode() for i in range(10)))
    assert console(cloud, instance_id).output.startswith("line 0\n")
    assert console(cloud, instance_id, 2).output == "line 8\nline 9\n"
    assert console(cloud, instance_id, 0).output == ""
    assert console(cloud, instance_id, 100).output.count("\n") == 10


def test_console_output_is_capped_to_the_last_100_kib(cloud):
    instance_id = str(uuid.uuid4())
    write_console(cloud, instance_id, b"a" * 200_000 + b"\nthe end\n")
    reply = console(cloud, instance_id)
    assert reply.truncated is True
    assert len(reply.output) == 100 * 1024 and reply.output.endswith("the end\n")


def test_console_output_replaces_invalid_utf8(cloud):
    instance_id = str(uuid.uuid4())
    write_console(cloud, instance_id, b"ok \xff\xfe done\n")
    assert console(cloud, instance_id).output == "ok \ufffd\ufffd done\n"


def test_console_output_of_an_instance_not_on_this_host_is_not_found(cloud):
    error = fails(console, cloud, str(uuid.uuid4()))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert errors.error_info(error).reason == "INSTANCE_NOT_ON_HOST"


@pytest.mark.parametrize(
    ("instance_id", "length", "field"),
    [
        ("not-a-uuid", None, "instance_id"),
        ("", None, "instance_id"),
        (str(uuid.uuid4()), -1, "length"),
    ],
)
def test_console_output_bad_requests_are_invalid_argument(cloud, instance_id, length, field):
    error = fails(console, cloud, instance_id, length)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == field


# -- GetHostStatus, ListDomains ---------------------------------------------------------


def test_host_status_describes_the_host_and_counts_domains(cloud):
    before = cloud.stub.GetHostStatus(pb2.GetHostStatusRequest(), metadata=md("admin-token"))
    built(cloud, with_volume=False)
    after = cloud.stub.GetHostStatus(pb2.GetHostStatusRequest(), metadata=md())
    assert after.host == cloud.host_name
    assert (after.hypervisor_type, after.libvirt_uri) == ("TEST", "test:///default")
    assert after.hypervisor_version
    assert after.domain_count == before.domain_count + 1
    assert after.running_domain_count == before.running_domain_count + 1
    assert after.uptime_seconds >= 0


def test_list_domains_pages_by_name_and_shows_instance_ids(cloud):
    ids = {built(cloud, with_volume=False)[0].id for _ in range(3)}
    seen, token = [], ""
    while True:
        page = cloud.stub.ListDomains(
            pb2.ListDomainsRequest(page_size=2, page_token=token), metadata=md()
        )
        assert len(page.domains) <= 2
        seen.extend(page.domains)
        token = page.next_page_token
        if not token:
            break
    names = [d.name for d in seen]
    assert names == sorted(names) and len(set(names)) == len(names)
    mine = [d for d in seen if d.instance_id in ids]
    assert len(mine) == 3
    assert all(d.state == pb2.Domain.STATE_RUNNING and d.memory_mib == 128 for d in mine)
    assert all(d.name == f"instance-{d.instance_id}" and d.vcpus == 1 for d in mine)
    # Domains Stratus did not create are listed with no instance id.
    assert any(d.name == "test" and d.instance_id == "" for d in seen)


def test_list_domains_shows_each_domains_disks_and_interfaces(cloud):
    instance, _, _ = built(cloud, with_volume=True)
    domains = cloud.stub.ListDomains(pb2.ListDomainsRequest(page_size=1000), metadata=md())
    (domain,) = [d for d in domains.domains if d.instance_id == instance.id]
    root, volume = domain.disks
    assert (root.target, root.format) == ("vda", "qcow2")
    assert root.source.startswith(str(cloud.instance_dir(instance.id)))
    assert volume.target == "vdb"
    port = next(iter(cloud.fakes.network.ports.values()))
    assert [i.mac_address for i in domain.interfaces] == [port.mac_address]


@pytest.mark.parametrize(("size", "token"), [(-1, ""), (0, "garbage!"), (0, "WyJ4IiwxXQ")])
def test_list_domains_bad_paging_is_invalid_argument(cloud, size, token):
    error = fails(
        cloud.stub.ListDomains,
        pb2.ListDomainsRequest(page_size=size, page_token=token),
        metadata=md(),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


# -- every RPC, auth --------------------------------------------------------------------


def every_rpc(cloud: Cloud):
    return {
        "Casts": lambda m: cloud.stub.Casts(iter([]), metadata=m),
        "GetConsoleOutput": lambda m: cloud.stub.GetConsoleOutput(
            pb2.GetConsoleOutputRequest(instance_id=str(uuid.uuid4())), metadata=m
        ),
        "GetHostStatus": lambda m: cloud.stub.GetHostStatus(pb2.GetHostStatusRequest(), metadata=m),
        "ListDomains": lambda m: cloud.stub.ListDomains(pb2.ListDomainsRequest(), metadata=m),
    }


def test_every_rpc_is_implemented(cloud):
    rpcs = every_rpc(cloud)
    assert set(rpcs) == set(pb2.DESCRIPTOR.services_by_name["Compute"].methods_by_name)
    for name, rpc in rpcs.items():
        try:
            rpc(md())
        except grpc.RpcError as error:
            assert error.code() != grpc.StatusCode.UNIMPLEMENTED, name


def test_every_rpc_without_a_token_is_unauthenticated(cloud):
    for name, rpc in every_rpc(cloud).items():
        error = fails(rpc, md(None))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, name


def test_every_rpc_refuses_a_member(cloud):
    for name, rpc in every_rpc(cloud).items():
        error = fails(rpc, md("member-token"))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED, name


def test_empty_cast_stream_answers_zero_received(cloud):
    assert cloud.stub.Casts(iter([]), metadata=md()).received == 0


def test_cast_with_nothing_set_is_counted_and_dropped(cloud):
    message = pb2.ComputeCast(context=cast_pb2.CastContext(request_id="r-1"))
    assert cloud.stub.Casts(iter([message, message]), metadata=md()).received == 2


# -- heartbeat and reconciliation -------------------------------------------------------


def test_host_registers_at_start_with_libvirt_capacity(cloud):
    report = cloud.conductor.calls("ReportComputeNode")[0]
    assert report.host == cloud.host_name
    assert report.address == f"127.0.0.1:{cloud.runtime.port}"
    assert (report.hypervisor_type, report.architecture) == ("TEST", "i686")
    assert (report.vcpus, report.ram_mib) == (16, 3072)
    assert report.disk_gib >= 1 and report.availability_zone == "nova"


def test_host_reports_every_interval_with_configured_capacity(fakes, tmp_path):
    with compute_host(
        fakes, tmp_path, report_interval_seconds=0.1, vcpus=4, ram_mib=1024, disk_gib=20
    ) as cloud:
        cloud.wait_until(lambda: len(cloud.conductor.calls("ReportComputeNode")) >= 3)
    report = cloud.conductor.calls("ReportComputeNode")[-1]
    assert (report.vcpus, report.ram_mib, report.disk_gib) == (4, 1024, 20)


def test_startup_fails_a_build_left_half_done(fakes, tmp_path):
    network_id = fakes.network.add_network()
    host_name = "crashed-host"
    instance = fakes.conductor.add(
        Instance(
            id=str(uuid.uuid4()),
            host=host_name,
            project_id=PROJECT,
            vm_state=instance_state_pb2.VM_STATE_BUILDING,
            task_state=instance_state_pb2.TASK_STATE_NETWORKING,
            claim_id=str(uuid.uuid4()),
            requested_networks=[cond_pb2.RequestedNetwork(network_id=network_id)],
        )
    )
    fakes.network.add_port(network_id, device_id=instance.id)
    with compute_host(fakes, tmp_path, host_name) as cloud:
        failed = cloud.wait_failed(instance)
        after = cloud.conductor.get(instance.id)
    assert failed.retryable is False and failed.claim_id == instance.claim_id
    assert (after.vm_state, after.task_state) == (
        instance_state_pb2.VM_STATE_ERROR,
        instance_state_pb2.TASK_STATE_UNSPECIFIED,
    )
    assert fakes.network.ports == {}
    assert "interrupted" in fakes.conductor.calls("AddInstanceFault")[0].message


def test_startup_finishes_a_deletion_left_half_done(fakes, tmp_path):
    host_name = "crashed-host"
    instance = fakes.conductor.add(
        Instance(
            id=str(uuid.uuid4()),
            host=host_name,
            project_id=PROJECT,
            vm_state=instance_state_pb2.VM_STATE_ACTIVE,
            task_state=instance_state_pb2.TASK_STATE_DELETING,
        )
    )
    with compute_host(fakes, tmp_path, host_name) as cloud:
        cloud.wait_deleted(instance)


def test_startup_destroys_guests_of_deleted_instances_and_syncs_power_states(fakes, tmp_path):
    host_name = f"host-{uuid.uuid4().hex[:8]}"
    deleted = fakes.conductor.add(
        Instance(id=str(uuid.uuid4()), host=host_name, vm_state=instance_state_pb2.VM_STATE_DELETED)
    )
    stopped_by_itself = fakes.conductor.add(
        Instance(
            id=str(uuid.uuid4()),
            host=host_name,
            vm_state=instance_state_pb2.VM_STATE_ACTIVE,
            power_state=instance_state_pb2.POWER_STATE_RUNNING,
        )
    )
    driver = LibvirtDriver("test:///default")
    for instance in (deleted, stopped_by_itself):
        driver.define_and_start(_guest_xml(instance.id, host_name))
    driver.shutdown(stopped_by_itself.id, timeout=2)
    try:
        with compute_host(fakes, tmp_path, host_name) as cloud:
            cloud.wait_until(lambda: driver.domain(deleted.id) is None)
            cloud.wait_until(
                lambda: (
                    cloud.conductor.get(stopped_by_itself.id).vm_state
                    == instance_state_pb2.VM_STATE_STOPPED
                )
            )
            after = cloud.conductor.get(stopped_by_itself.id)
            assert driver.domain(stopped_by_itself.id) is not None  # kept: it is the host's
        assert after.power_state == instance_state_pb2.POWER_STATE_SHUTDOWN
    finally:
        driver.close()


def test_startup_starts_a_guest_left_off_by_the_host_going_away(fakes, tmp_path):
    host_name = f"host-{uuid.uuid4().hex[:8]}"
    running = fakes.conductor.add(
        Instance(
            id=str(uuid.uuid4()),
            host=host_name,
            vm_state=instance_state_pb2.VM_STATE_ACTIVE,
            power_state=instance_state_pb2.POWER_STATE_RUNNING,
        )
    )
    driver = LibvirtDriver("test:///default")
    driver.define_and_start(_guest_xml(running.id, host_name))
    driver.connection().lookupByName(domain_name(running.id)).destroy()  # as a reboot does
    try:
        with compute_host(fakes, tmp_path, host_name) as cloud:
            cloud.wait_until(lambda: driver.state(running.id) == RUNNING)
            after = cloud.conductor.get(running.id)
        assert (after.vm_state, after.power_state) == (
            instance_state_pb2.VM_STATE_ACTIVE,
            instance_state_pb2.POWER_STATE_RUNNING,
        )
    finally:
        driver.close()


def _guest_xml(instance_id: str, host_name: str) -> str:
    spec = domain_xml.DomainSpec(
        instance_id=instance_id,
        display_name="left",
        host=host_name,
        project_id=PROJECT,
        flavor_name="m1.tiny",
        vcpus=1,
        memory_mib=64,
        root_disk="/nonexistent/disk",
        console_log="/nonexistent/console.log",
    )
    return domain_xml.to_xml(domain_xml.domain(spec))


def test_reconcile_leaves_a_failed_build_to_the_conductor(cloud):
    image_id = cloud.fakes.images.add(IMAGE_DATA, checksum="0" * 32)
    instance = cloud.instance(image_id=image_id)
    cloud.build(instance)
    cloud.wait_failed(instance)
    # The conductor has not acted on the failure yet: the instance is still BUILDING here.
    assert cloud.conductor.get(instance.id).vm_state == instance_state_pb2.VM_STATE_BUILDING
    reconcile.reconcile(cloud.host, startup=True)
    cloud.drain(instance.id)
    assert len(cloud.conductor.casts_of("instance_build_failed", instance.id)) == 1
    assert len(cloud.conductor.calls("AddInstanceFault")) == 1


def test_reconcile_fails_a_build_whose_cast_never_arrived(cloud):
    long_ago = timestamp(utcnow() - datetime.timedelta(hours=2))
    instance = cloud.instance(update_time=long_ago)
    fresh = cloud.instance()
    reconcile.reconcile(cloud.host)
    cloud.drain(instance.id)
    cloud.drain(fresh.id)
    # The cast travels on its own stream: wait for it to arrive.
    failed = cloud.wait_failed(instance)
    assert failed.retryable is False
    assert cloud.conductor.get(instance.id).vm_state == instance_state_pb2.VM_STATE_ERROR
    assert cloud.conductor.casts_of("instance_build_failed", fresh.id) == []


# -- the conductor restarting; the host restarting ----------------------------------------


def _unavailable_times(fake, method: str, times: int) -> None:
    """Make the next ``times`` calls of ``method`` fail as an unreachable service does."""
    left = [times]

    def matches(_request) -> bool:
        left[0] -= 1
        return left[0] >= 0

    fake.fail_when.append((method, matches, errors.Unavailable("connection refused")))


def test_build_waits_out_a_conductor_restart_and_retries_with_the_same_request_id(cloud):
    instance = cloud.instance()
    _unavailable_times(cloud.conductor, "GetInstance", 3)
    _unavailable_times(cloud.conductor, "UpdateInstance", 2)
    cloud.build(instance)
    assert cloud.wait_active(instance).power_state == instance_state_pb2.POWER_STATE_RUNNING
    first, retried, *_ = cloud.conductor.updates(instance.id)
    assert first.request_id and first.request_id == retried.request_id
    assert len(cloud.conductor.calls("GetInstance")) >= 4


def test_build_failure_cast_that_was_lost_is_reported_again(fakes, tmp_path):
    with compute_host(fakes, tmp_path, failure_resend_seconds=0.2) as cloud:
        instance = cloud.instance(image_id=cloud.fakes.images.add(IMAGE_DATA, checksum="0" * 32))
        cloud.build(instance)
        cloud.wait_failed(instance)
        with cloud.conductor.lock:
            cloud.conductor.casts.clear()  # the conductor died before handling it
        for _ in range(50):  # the periodic reconciliation, made quicker
            reconcile.reconcile(cloud.host)
            cloud.drain(instance.id)
            if cloud.conductor.casts_of("instance_build_failed", instance.id):
                break
            time.sleep(0.1)
        again = cloud.wait_failed(instance)
    assert again.claim_id == instance.claim_id and "checksum" in again.fault.message


def _reboot_host(fakes, tmp_path, host_name: str, **settings):
    """The host starting again with its guests gone, as after a reboot (compute_host
    destroys the test driver's domains of the host when it stops)."""
    return compute_host(fakes, tmp_path, host_name, **settings)


def test_restarted_host_starts_running_guests_and_defines_stopped_ones(fakes, tmp_path):
    host_name = f"host-{uuid.uuid4().hex[:8]}"
    with compute_host(fakes, tmp_path, host_name) as cloud:
        running, _, volume_id = built(cloud)
        stopped, _, _ = built(cloud, with_volume=False)
        act(
            cloud,
            stopped,
            instance_state_pb2.TASK_STATE_POWERING_OFF,
            stop_instance=pb2.StopInstance(instance_id=stopped.id),
        )
        ports_before = dict(fakes.network.ports)
    assert LibvirtDriver("test:///default").domain(running.id) is None
    with _reboot_host(fakes, tmp_path, host_name) as cloud:
        driver = cloud.host.driver
        cloud.wait_until(lambda: driver.state(running.id) == RUNNING)
        # The stopped guest's record already says SHUTDOWN from before the reboot, so
        # wait for the domain itself: the host defines it after starting the running one.
        cloud.wait_until(lambda: driver.state(stopped.id) == SHUTOFF)
        assert driver.state(stopped.id) == SHUTOFF
        assert (
            cloud.conductor.get(stopped.id).power_state == instance_state_pb2.POWER_STATE_SHUTDOWN
        )
        xml = cloud.domain_xml(running.id)
        mac = xml.find("devices/interface/mac").get("address")
        assert mac == running.addresses[0].mac_address
        sources = [d.find("source").get("file") for d in xml.iter("disk")]
        assert sources == [
            str(cloud.instance_dir(running.id) / "disk"),
            str(fakes.volumes.directory / volume_id),
        ]
        after = cloud.conductor.get(running.id)
        started = act(
            cloud,
            stopped,
            instance_state_pb2.TASK_STATE_POWERING_ON,
            start_instance=pb2.StartInstance(instance_id=stopped.id),
        )
        assert driver.state(stopped.id) == RUNNING
    assert (after.vm_state, after.power_state) == (
        instance_state_pb2.VM_STATE_ACTIVE,
        instance_state_pb2.POWER_STATE_RUNNING,
    )
    assert started.vm_state == instance_state_pb2.VM_STATE_ACTIVE
    assert fakes.network.ports.keys() == ports_before.keys()  # no new port
    assert fakes.conductor.calls("AddInstanceFault") == []


def test_restarted_host_fails_an_instance_whose_disk_is_gone_naming_the_disk(fakes, tmp_path):
    host_name = f"host-{uuid.uuid4().hex[:8]}"
    with compute_host(fakes, tmp_path, host_name) as cloud:
        instance, _, _ = built(cloud, with_volume=False)
        disk = cloud.instance_dir(instance.id) / "disk"
    disk.unlink()
    with _reboot_host(fakes, tmp_path, host_name) as cloud:
        cloud.wait_until(
            lambda: cloud.conductor.get(instance.id).vm_state == instance_state_pb2.VM_STATE_ERROR
        )
        assert cloud.host.driver.domain(instance.id) is None
    [fault] = fakes.conductor.calls("AddInstanceFault")
    assert str(disk) in fault.message and "missing" in fault.message
    assert fakes.conductor.get(instance.id).power_state == instance_state_pb2.POWER_STATE_NOSTATE


def test_restarted_host_releases_the_ports_of_a_build_failed_while_it_was_away(fakes, tmp_path):
    host_name = f"host-{uuid.uuid4().hex[:8]}"
    network_id = fakes.network.add_network()
    instance = fakes.conductor.add(
        Instance(
            id=str(uuid.uuid4()),
            host=host_name,
            project_id=PROJECT,
            vm_state=instance_state_pb2.VM_STATE_ERROR,
            requested_networks=[cond_pb2.RequestedNetwork(network_id=network_id)],
        )
    )
    fakes.network.add_port(network_id, device_id=instance.id, binding_host_id=host_name)
    with _reboot_host(fakes, tmp_path, host_name) as cloud:
        cloud.wait_until(lambda: not fakes.network.ports)
        assert cloud.conductor.get(instance.id).vm_state == instance_state_pb2.VM_STATE_ERROR


def test_build_fails_with_a_fault_when_the_conductor_stays_unreachable(fakes, tmp_path):
    with compute_host(fakes, tmp_path, conductor_retry_seconds=0.5) as cloud:
        network_id = cloud.fakes.network.add_network()
        instance = cloud.instance(networks=[network_id])
        cloud.conductor.fail_when.append(
            (
                "UpdateInstance",
                lambda request: request.vm_state == instance_state_pb2.VM_STATE_ACTIVE,
                errors.Unavailable("connection refused"),
            )
        )
        cloud.build(instance)
        failed = cloud.wait_failed(instance)
        assert cloud.host.driver.domain(instance.id) is None
    assert "connection refused" in failed.fault.message
    assert failed.claim_id == instance.claim_id
    assert fakes.network.ports == {}
    reports = [u for u in fakes.conductor.updates(instance.id) if u.vm_state]
    assert len(reports) >= 2  # retried before giving up


def test_ports_a_failed_build_could_not_release_are_released_once_it_is_error(cloud):
    network_id = cloud.fakes.network.add_network()
    volume_id = cloud.fakes.volumes.add()
    instance = cloud.instance(networks=[network_id], volumes=[volume_id])
    cloud.fakes.volumes.fail_next["AttachVolume"] = errors.FailedPrecondition("volume is busy")
    cloud.fakes.network.fail_next["DeletePort"] = errors.Unavailable("network is down")
    cloud.build(instance)
    cloud.wait_failed(instance)
    assert len(cloud.fakes.network.ports) == 1  # the undo could not delete it
    cloud.conductor.add(
        _with(
            cloud.conductor.get(instance.id),
            vm_state=instance_state_pb2.VM_STATE_ERROR,
            task_state=instance_state_pb2.TASK_STATE_UNSPECIFIED,
        )
    )  # the conductor's answer
    reconcile.reconcile(cloud.host)
    cloud.drain(instance.id)
    assert cloud.fakes.network.ports == {}


def test_build_stopped_by_a_change_that_left_it_mid_build_is_failed_by_the_reconciler(cloud):
    network_id = cloud.fakes.network.add_network()
    instance = cloud.instance(networks=[network_id])

    def applied_but_answer_lost(request) -> None:
        if request.task_state == instance_state_pb2.TASK_STATE_NETWORKING:
            cloud.conductor.set_task(instance.id, instance_state_pb2.TASK_STATE_NETWORKING)

    cloud.conductor.before_update = applied_but_answer_lost
    cloud.build(instance)
    cloud.drain(instance.id)
    cloud.conductor.before_update = None
    assert cloud.conductor.casts_of("instance_build_failed", instance.id) == []
    reconcile.reconcile(cloud.host)
    failed = cloud.wait_failed(instance)
    assert failed.retryable is False
    assert cloud.conductor.get(instance.id).vm_state == instance_state_pb2.VM_STATE_ERROR
    assert_nothing_left(cloud, instance)
