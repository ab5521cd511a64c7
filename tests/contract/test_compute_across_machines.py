"""The compute host of guests across machines (nic_type "bridge", volumes over NBD): one
real compute host against recording fakes of the conductor, image, network and volume
services, its bridges and VXLAN interfaces real, in a network namespace of this test's
own (``stcc<pid>-h``, removed at the end, and after a crash by the next run).

The libvirt test driver creates no tap, so a bridge here carries only its VXLAN interface.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from components.compute import resume
from components.compute.libvirt_driver import RUNNING, SHUTOFF
from components.network.vxlan import bridge_name
from stratus.compute.v1 import compute_service_pb2 as pb2
from stratus.type.v1 import instance_state_pb2
from tests import vxlan_namespaces
from tests.contract.compute_fakes import SERVICE_TOKEN, USER_TOKEN, serving_fakes
from tests.contract.test_compute_service import HARD, act, built, compute_host, reboot

PID = os.getpid()
NAMESPACE = f"stcc{PID}-h"
UNDERLAY = "ul0"
TUNNEL_IP = "10.254.0.1"
OTHER_HOST, OTHER_IP = "compute-2", "10.254.0.2"


def _why_not() -> str | None:
    return vxlan_namespaces.why_not("stcc")


WHY_NOT = _why_not()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))


def ip(*args: str) -> str:
    return subprocess.run(
        ["ip", "-n", NAMESPACE, *args], check=True, capture_output=True, text=True, timeout=10
    ).stdout


def clean() -> None:
    """Remove this run's namespace and those of earlier runs whose process is gone."""
    vxlan_namespaces.clean("stcc")


def links() -> dict[str, dict]:
    return {link["ifname"]: link for link in json.loads(ip("-j", "-d", "link", "show"))}


def flooding(vni: int) -> set[str]:
    shown = subprocess.run(
        ["bridge", "-netns", NAMESPACE, "-j", "fdb", "show", "dev", f"vxlan-{vni}"],
        check=True, capture_output=True, text=True, timeout=10,
    ).stdout  # fmt: skip
    return {e["dst"] for e in json.loads(shown or "[]") if e.get("mac") == "00:00:00:00:00:00"}


@pytest.fixture
def namespace():
    clean()
    try:
        subprocess.run(["ip", "netns", "add", NAMESPACE], check=True, timeout=10)
        ip("link", "add", UNDERLAY, "type", "veth", "peer", f"{UNDERLAY}p")
        ip("addr", "add", f"{TUNNEL_IP}/24", "dev", UNDERLAY)
        ip("link", "set", UNDERLAY, "up")
        yield NAMESPACE
    finally:
        clean()


@pytest.fixture
def fakes(tmp_path):
    volume_dir = tmp_path / "volumes"
    volume_dir.mkdir()
    with serving_fakes(volume_dir) as served:
        served.volumes.transport = "nbd"
        served.network.endpoints[OTHER_HOST] = OTHER_IP
        yield served


def across(fakes, tmp_path, host_name=None):
    return compute_host(
        fakes,
        tmp_path,
        host_name,
        nic_type="bridge",
        tunnel_ip=TUNNEL_IP,
        underlay_device=UNDERLAY,
        network_namespace=NAMESPACE,
        segment_refresh_seconds=0.2,
    )


def tokens(cloud, *methods: str) -> set[str]:
    """The tokens the network service's ``methods`` were called with."""
    calls = cloud.fakes.journal.calls
    return {c.token for c in calls if c.service == "network" and c.method in methods}


@pytest.fixture
def cloud(namespace, fakes, tmp_path):
    with across(fakes, tmp_path) as started:
        yield started


def test_build_bridges_the_network_as_the_service_and_attaches_the_nbd_export(cloud):
    network = cloud.fakes.network
    instance, network_id, volume_id = built(cloud)
    vni = network.vnis[network_id]
    assert network.endpoints[cloud.host_name] == TUNNEL_IP
    # The segment calls carry the host's service token; the user's build, the user's.
    assert tokens(cloud, "RegisterTunnelEndpoint", "GetNetworkSegment") == {SERVICE_TOKEN}
    assert tokens(cloud, "CreatePort") == {USER_TOKEN}

    devices = cloud.domain_xml(instance.id).find("devices")
    nic = devices.find("interface")
    assert nic.get("type") == "bridge"
    assert nic.find("source").get("bridge") == bridge_name(network_id)
    disk = [d for d in devices.iter("disk") if d.get("type") == "network"]
    assert len(disk) == 1
    source = disk[0].find("source")
    attachment = cloud.fakes.volumes.volumes[volume_id].attachments[0]
    assert source.attrib == {"protocol": "nbd", "name": f"export-{attachment.id}", "tls": "yes"}
    assert source.find("host").attrib == {"name": "10.254.0.30", "port": "10809"}

    found = links()
    assert found[f"vxlan-{vni}"]["master"] == bridge_name(network_id)
    assert flooding(vni) == set()  # no other host has a port on the network yet

    # Another host gets a port on the network: the refresh floods to it.
    network.add_port(network_id, binding_host_id=OTHER_HOST, device_id="elsewhere")
    cloud.wait_until(lambda: flooding(vni) == {OTHER_IP})

    cloud.conductor.set_task(instance.id, instance_state_pb2.TASK_STATE_DELETING)
    cloud.cast(terminate_instance=pb2.TerminateInstance(instance_id=instance.id))
    cloud.wait_until(lambda: cloud.conductor.casts_of("instance_deleted", instance.id))
    assert bridge_name(network_id) not in links() and f"vxlan-{vni}" not in links()
    assert cloud.fakes.volumes.status(volume_id) == "STATUS_AVAILABLE"


def test_hard_reboot_rebuilds_the_nbd_disk_and_the_bridge(cloud):
    instance, network_id, _ = built(cloud)
    cloud.host.driver.destroy(instance.id)
    ip("link", "del", bridge_name(network_id))  # gone with the guest, as after a reboot
    attaches = len(cloud.fakes.volumes.calls("AttachVolume"))
    rebooted = act(
        cloud,
        instance,
        instance_state_pb2.TASK_STATE_REBOOTING_HARD,
        reboot_instance=reboot(instance, HARD),
    )
    assert rebooted.vm_state == instance_state_pb2.VM_STATE_ACTIVE
    assert len(cloud.fakes.volumes.calls("AttachVolume")) == attaches + 1
    disks = [d for d in cloud.domain_xml(instance.id).iter("disk") if d.get("type") == "network"]
    assert [d.find("source").get("protocol") for d in disks] == ["nbd"]
    assert bridge_name(network_id) in links()


def test_a_guest_left_off_by_a_machine_reboot_has_its_bridge_made_before_it_starts(cloud):
    instance, network_id, _ = built(cloud)
    cloud.host.driver.connection().lookupByUUIDString(instance.id).destroy()  # stays defined
    ip("link", "del", bridge_name(network_id))
    assert cloud.host.driver.state(instance.id) == SHUTOFF
    assert resume.resume_guest(cloud.host, cloud.conductor.get(instance.id)) is True
    assert cloud.host.driver.state(instance.id) == RUNNING
    assert links()[bridge_name(network_id)]


def test_a_restarted_host_defines_its_guests_again_with_bridges_and_nbd_disks(
    namespace, fakes, tmp_path
):
    with across(fakes, tmp_path) as cloud:
        instance, network_id, _ = built(cloud)
        host_name = cloud.host_name
    # compute_host destroyed the guest on the way out: the machine rebooted.
    ip("link", "del", bridge_name(network_id))
    with across(fakes, tmp_path, host_name) as cloud:
        cloud.wait_until(lambda: cloud.host.driver.state(instance.id) == RUNNING)
        devices = cloud.domain_xml(instance.id).find("devices")
        assert devices.find("interface/source").get("bridge") == bridge_name(network_id)
        assert [d.get("type") for d in devices.iter("disk")] == ["file", "network"]
        assert bridge_name(network_id) in links()
