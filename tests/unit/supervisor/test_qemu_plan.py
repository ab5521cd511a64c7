"""What run-all starts for real guests: the daemons and what the compute hosts are told."""

from __future__ import annotations

import sys
from pathlib import Path

from components.compute.libvirt_driver import empty_host_xml
from components.supervisor import qemu_host
from components.supervisor.plan import HostSize, Plan, ProcessSpec

QEMU = qemu_host.QemuHost(Path("/srv/cloud"), "stratus-test")


def test_compute_hosts_get_the_private_libvirtd_bridges_in_its_namespace_and_probe():
    plan = Plan(Path("/srv/cloud"), libvirt_uri=QEMU.uri, compute_env=QEMU.compute_env())
    (compute,) = plan.computes()
    assert compute.env["STRATUS_COMPUTE_LIBVIRT_URI"] == (
        "qemu:///system?socket=/srv/cloud/libvirt/run/libvirt-sock"
    )
    assert compute.env["STRATUS_COMPUTE_NIC_TYPE"] == "bridge"
    assert compute.env["STRATUS_COMPUTE_DOMAIN_TYPE"] == "auto"
    assert compute.env["STRATUS_COMPUTE_NETWORK_NAMESPACE"] == "stratus-test"
    assert compute.env["STRATUS_COMPUTE_TUNNEL_IP"] == "127.0.0.1"
    assert compute.env["STRATUS_COMPUTE_UNDERLAY_DEVICE"] == "lo"


def test_test_hypervisor_plan_gives_each_host_an_empty_test_node_of_its_own():
    plan = Plan(Path("/srv/cloud"), compute_hosts=2)
    first, second = plan.computes()
    assert first.env["STRATUS_COMPUTE_LIBVIRT_URI"] == (
        "test:///srv/cloud/compute/compute-1/test-node.xml"
    )
    assert second.env["STRATUS_COMPUTE_LIBVIRT_URI"] == (
        "test:///srv/cloud/compute/compute-2/test-node.xml"
    )
    assert "STRATUS_COMPUTE_NIC_TYPE" not in first.env
    assert "STRATUS_COMPUTE_VCPUS" not in first.env
    nodes = plan.test_node_files()
    assert sorted(nodes) == [
        Path("/srv/cloud/compute/compute-1/test-node.xml"),
        Path("/srv/cloud/compute/compute-2/test-node.xml"),
    ]
    node = nodes[Path("/srv/cloud/compute/compute-1/test-node.xml")]
    assert "<domain" not in node
    assert "<cores>16</cores>" in node and "<memory>8388608</memory>" in node


def test_a_sized_test_host_is_made_that_size_and_reports_it():
    plan = Plan(Path("/srv/cloud"), host_size=HostSize(vcpus=4, ram_mib=65536, disk_gib=50))
    (compute,) = plan.computes()
    assert compute.env["STRATUS_COMPUTE_VCPUS"] == "4"
    assert compute.env["STRATUS_COMPUTE_RAM_MIB"] == "65536"
    assert compute.env["STRATUS_COMPUTE_DISK_GIB"] == "50"
    (node,) = plan.test_node_files().values()
    assert "<cores>4</cores>" in node and f"<memory>{65536 * 1024}</memory>" in node


def test_an_empty_test_node_is_a_host_without_domains_of_that_size(tmp_path):
    import libvirt

    path = tmp_path / "node.xml"
    path.write_text(empty_host_xml(12, 4096))
    conn = libvirt.open(f"test://{path}")
    try:
        assert conn.listAllDomains() == []
        arch, memory_mib, cpus, *_ = conn.getInfo()
        assert (arch, memory_mib, cpus) == ("x86_64", 4096, 12)
    finally:
        conn.close()


def test_real_guests_get_no_test_node():
    assert Plan(Path("/srv/cloud"), libvirt_uri=QEMU.uri).test_node_files() == {}


def test_daemons_run_in_the_namespace_with_this_clouds_libvirt_and_wait_for_their_socket():
    virtlogd, libvirtd = QEMU.daemons()
    assert libvirtd.argv()[:4] == ["ip", "netns", "exec", "stratus-test"]
    assert libvirtd.argv()[4:6] == ["sh", "-c"]
    assert libvirtd.argv()[7:] == [
        "/srv/cloud/libvirt",
        "libvirtd",
        "-f",
        "/etc/libvirt/libvirtd.conf",
        "-p",
        "/run/libvirt/libvirtd.pid",
    ]
    assert libvirtd.unix_socket == "/srv/cloud/libvirt/run/libvirt-sock"
    assert virtlogd.unix_socket == "/srv/cloud/libvirt/run/virtlogd-sock"
    script = libvirtd.argv()[6]
    for source, target in qemu_host.MOUNTS:
        assert f"{source}:{target}" in script
    assert script.endswith('exec "$@"')


def test_a_component_is_started_as_its_python_module():
    spec = ProcessSpec("image", "components.image", 9292, {})
    assert spec.argv() == [sys.executable, "-m", "components.image"]


def test_qemu_runs_as_root_with_file_owners_left_alone():
    qemu_conf = qemu_host.CONFIG_FILES["qemu.conf"]
    assert 'user = "root"' in qemu_conf and "dynamic_ownership = 0" in qemu_conf
