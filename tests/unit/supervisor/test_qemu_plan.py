"""What run-all starts for real guests: the daemons and what the compute hosts are told."""

from __future__ import annotations

import sys
from pathlib import Path

from components.supervisor import qemu_host
from components.supervisor.plan import Plan, ProcessSpec

QEMU = qemu_host.QemuHost(Path("/srv/cloud"), "stratus-test")


def test_compute_hosts_get_the_private_libvirtd_networks_probe_and_namespace():
    plan = Plan(Path("/srv/cloud"), libvirt_uri=QEMU.uri, compute_env=QEMU.compute_env())
    (compute,) = plan.computes()
    assert compute.env["STRATUS_COMPUTE_LIBVIRT_URI"] == (
        "qemu:///system?socket=/srv/cloud/libvirt/run/libvirt-sock"
    )
    assert compute.env["STRATUS_COMPUTE_NIC_TYPE"] == "network"
    assert compute.env["STRATUS_COMPUTE_DOMAIN_TYPE"] == "auto"
    assert compute.env["STRATUS_COMPUTE_NETWORK_NAMESPACE"] == "stratus-test"


def test_test_hypervisor_plan_tells_compute_hosts_nothing_more():
    (compute,) = Plan(Path("/srv/cloud")).computes()
    assert compute.env["STRATUS_COMPUTE_LIBVIRT_URI"] == "test:///default"
    assert "STRATUS_COMPUTE_NIC_TYPE" not in compute.env


def test_daemons_run_in_the_namespace_with_this_clouds_libvirt_and_wait_for_their_socket():
    virtlogd, libvirtd = QEMU.daemons()
    assert libvirtd.argv()[:4] == ["ip", "netns", "exec", "stratus-test"]
    assert libvirtd.argv()[4:6] == ["sh", "-c"]
    assert libvirtd.argv()[7:] == [
        "/srv/cloud/libvirt",
        "libvirtd",
        "-f",
        "/etc/libvirt/libvirtd.conf",
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
