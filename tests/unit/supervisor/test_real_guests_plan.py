"""Real guests with one machine and across machines: which process runs where, with which
settings (wiring.py), and the libvirt of each compute machine."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from cryptography import x509

from components.supervisor import __main__ as run_all
from components.supervisor import qemu_host, wiring
from components.supervisor.pki import Authority
from components.supervisor.plan import CONTROLLER, Tls
from components.supervisor.rack import Layout, Rack, RackError

DATA = Path("/srv/cloud")


def options(machines: int = 0, port_offset: int = 12000, hypervisor: str = "qemu"):
    return argparse.Namespace(
        data_dir=str(DATA),
        port_offset=port_offset,
        machines=machines,
        compute_hosts=1,
        libvirt_uri="",
        compute_vcpus=0,
        compute_ram_mib=0,
        compute_disk_gib=0,
        replicas=0,
        tls=False,
        hypervisor=hypervisor,
        netns="stratus-guests",
    )


def rack_of(machines: int, hypervisor: str = "qemu") -> Rack:
    """A rack as build_rack lays it out, without touching the host."""
    rack = Rack("stratus12", DATA, 12)
    rack.layout.add(CONTROLLER, addresses=2)
    for index in range(1, machines + 1):
        rack.layout.add(f"compute-{index}")
    if hypervisor == "qemu":
        rack.layout.add(wiring.NETWORK_MACHINE, host=wiring.NETWORK_MACHINE_HOST)
    return rack


def machine_hosts(rack: Rack) -> list[qemu_host.QemuHost]:
    return [
        qemu_host.QemuHost(
            DATA,
            rack.namespace(name),
            name=name,
            owns_namespace=False,
            tunnel_ip=rack.address(name),
            underlay_device="eth0",
            nbd_tls=True,
        )
        for name in rack.machines()
        if name.startswith("compute-")
    ]


def by_name(plan):
    return {spec.name: spec for spec in [*plan.components(), *plan.computes()]}


# -- across machines ---------------------------------------------------------------------


def test_the_network_machine_is_dot_5_and_the_others_keep_their_addresses():
    rack = rack_of(2)
    assert rack.addresses(CONTROLLER) == ("10.251.12.10", "10.251.12.11")
    assert rack.address("compute-1") == "10.251.12.20"
    assert rack.address("compute-2") == "10.251.12.30"
    assert rack.address("network") == "10.251.12.5"
    assert rack.namespace("network") == "stratus12-network"


def test_a_machine_placed_on_a_taken_or_unfit_host_number_is_refused():
    layout = Layout("stratus12", 12)
    layout.add("network", host=5)
    with pytest.raises(RackError, match="taken"):
        layout.add("other", host=5)
    for host, addresses in ((1, 1), (9, 2), (10, 1)):
        with pytest.raises(RackError, match="must fit"):
            layout.add(f"m{host}", addresses=addresses, host=host)
    assert layout.add("compute-1").addresses == ("10.251.12.10",)


def test_a_failed_machine_gives_its_block_back():
    layout = Layout("stratus12", 12)
    layout.add("controller")
    layout.add("compute-1")
    layout.forget("compute-1")
    assert layout.add("compute-2").addresses == ("10.251.12.20",)
    layout.add("network", host=5)
    layout.forget("network")
    assert layout.add("compute-3").addresses == ("10.251.12.30",)


def test_across_machines_the_network_service_runs_on_its_machine_with_the_dhcp_agent():
    rack = rack_of(2)
    plan = run_all.make_plan(options(machines=2), machine_hosts(rack), rack)
    specs = by_name(plan)
    network = specs["network"]
    assert network.machine == "network" and network.host == "10.251.12.5"
    assert network.exec_prefix == ("ip", "netns", "exec", "stratus12-network")
    assert network.env["STRATUS_NETWORK_DHCP_DRIVER"] == "dnsmasq"
    assert network.env["STRATUS_NETWORK_DHCP_HOST"] == "network"
    assert network.env["STRATUS_NETWORK_DHCP_TUNNEL_IP"] == "10.251.12.5"
    assert network.env["STRATUS_NETWORK_DHCP_UNDERLAY_DEVICE"] == "eth0"
    assert network.env["STRATUS_NETWORK_DHCP_BRIDGE_NAMESPACE"] == ""
    # Every component finds it there.
    assert "network=10.251.12.5:" in specs["identity"].env["STRATUS_IDENTITY_CATALOG_ENDPOINTS"]
    for name in ("identity", "image", "volume", "api", "api-2", "scheduler", "conductor"):
        assert specs[name].machine == CONTROLLER
        assert "STRATUS_NETWORK_DHCP_DRIVER" not in specs[name].env


def test_across_machines_the_volume_service_exports_over_nbd_from_the_controller():
    rack = rack_of(2)
    volume = by_name(run_all.make_plan(options(machines=2), machine_hosts(rack), rack))["volume"]
    assert volume.env["STRATUS_VOLUME_VOLUME_TRANSPORT"] == "nbd"
    assert volume.env["STRATUS_VOLUME_NBD_HOST"] == "10.251.12.10"
    assert volume.env["STRATUS_VOLUME_NBD_PORT_MIN"] == "23000"
    assert volume.env["STRATUS_VOLUME_NBD_PORT_MAX"] == "23199"


def test_across_machines_each_compute_host_has_its_own_libvirtd_and_tunnel_address():
    rack = rack_of(2)
    plan = run_all.make_plan(options(machines=2), machine_hosts(rack), rack)
    specs = by_name(plan)
    for index, address in ((1, "10.251.12.20"), (2, "10.251.12.30")):
        compute = specs[f"compute-{index}"]
        assert compute.machine == f"compute-{index}" and compute.host == address
        assert compute.env["STRATUS_COMPUTE_LIBVIRT_URI"] == (
            f"qemu:///system?socket=/srv/cloud/libvirt-compute-{index}/run/libvirt-sock"
        )
        assert compute.env["STRATUS_COMPUTE_NIC_TYPE"] == "bridge"
        assert compute.env["STRATUS_COMPUTE_TUNNEL_IP"] == address
        assert compute.env["STRATUS_COMPUTE_UNDERLAY_DEVICE"] == "eth0"
        assert compute.env["STRATUS_COMPUTE_NETWORK_NAMESPACE"] == ""
        assert compute.env["STRATUS_COMPUTE_DOMAIN_TYPE"] == "auto"
    assert plan.test_node_files() == {}


def test_a_compute_machines_daemons_run_in_its_namespace_under_names_of_their_own():
    (first, second) = machine_hosts(rack_of(2))
    virtlogd, libvirtd = first.daemons()
    assert (virtlogd.name, libvirtd.name) == ("virtlogd-compute-1", "libvirtd-compute-1")
    assert libvirtd.machine == "compute-1"
    assert libvirtd.argv()[:4] == ["ip", "netns", "exec", "stratus12-compute-1"]
    assert libvirtd.argv()[7] == "/srv/cloud/libvirt-compute-1"
    assert libvirtd.unix_socket == "/srv/cloud/libvirt-compute-1/run/libvirt-sock"
    assert second.daemons()[1].unix_socket == "/srv/cloud/libvirt-compute-2/run/libvirt-sock"


def test_a_compute_machines_qemu_uses_tls_for_nbd_disks_with_its_own_credentials():
    (host,) = machine_hosts(rack_of(1))
    conf = host.qemu_conf()
    assert "nbd_tls = 1\n" in conf
    assert 'nbd_tls_x509_cert_dir = "/srv/cloud/libvirt-compute-1/nbd-tls"' in conf
    assert 'user = "root"' in conf
    # Not in a directory the daemons' wrapper opens to every user of the namespace.
    assert all(host.nbd_tls_dir.parent / src != host.nbd_tls_dir for src, _ in qemu_host.MOUNTS)
    assert "nbd_tls" not in qemu_host.QemuHost(DATA, "ns").qemu_conf()


def test_the_nbd_credentials_are_the_compute_hosts_certificate_named_as_exports_allow(tmp_path):
    authority = Authority.load_or_create(tmp_path / "pki")
    authority.issue("compute-1", "compute", ["10.251.12.20"])
    host = qemu_host.QemuHost(tmp_path, "stratus12-compute-1", name="compute-1", nbd_tls=True)
    tls = Tls(tmp_path / "pki")
    cert, key = tls.files("compute-1")
    directory = host.install_nbd_credentials(tls.ca_file, cert, key)
    assert sorted(p.name for p in directory.iterdir()) == [
        "ca-cert.pem",
        "client-cert.pem",
        "client-key.pem",
    ]
    assert directory.stat().st_mode & 0o777 == 0o700
    issued = x509.load_pem_x509_certificate((directory / "client-cert.pem").read_bytes())
    # The order pki.py writes (OU, then CN), as components.volume.nbd.client_dn spells it.
    assert [a.rfc4514_string() for a in issued.subject] == ["OU=service", "CN=compute-1"]


def test_a_machine_of_the_rack_keeps_its_namespace_to_the_rack(monkeypatch, tmp_path):
    made = []
    monkeypatch.setattr(qemu_host, "_run", lambda command, env=None: made.append(command))
    monkeypatch.setattr(qemu_host, "namespace_exists", lambda name: False)
    host = qemu_host.QemuHost(tmp_path, "stratus12-compute-1", "compute-1", owns_namespace=False)
    with pytest.raises(qemu_host.HostSetupError, match="does not exist"):
        host.prepare()
    monkeypatch.setattr(qemu_host, "namespace_exists", lambda name: True)
    monkeypatch.setattr(qemu_host, "delete_namespace", lambda name: made.append(["del", name]))
    host.prepare()
    host.teardown()
    assert made == []
    assert (tmp_path / "libvirt-compute-1" / "etc" / "qemu.conf").exists()


def test_with_machines_and_the_test_hypervisor_nothing_of_real_guests_is_planned():
    rack = rack_of(2, hypervisor="test")
    plan = run_all.make_plan(options(machines=2, hypervisor="test"), [], rack)
    specs = by_name(plan)
    assert "network" not in rack.machines()
    assert specs["network"].machine == CONTROLLER
    assert specs["volume"].env.get("STRATUS_VOLUME_VOLUME_TRANSPORT", "file") == "file"
    assert "STRATUS_NETWORK_DHCP_DRIVER" not in specs["network"].env
    assert "STRATUS_COMPUTE_NIC_TYPE" not in specs["compute-1"].env
    assert specs["compute-1"].env["STRATUS_COMPUTE_LIBVIRT_URI"].startswith("test://")


# -- one machine ----------------------------------------------------------------------


def test_on_one_machine_the_dhcp_agent_uses_the_bridges_in_the_guests_namespace():
    qemu = qemu_host.QemuHost(DATA, "stratus-guests")
    plan = run_all.make_plan(options(), [qemu])
    specs = by_name(plan)
    network, compute = specs["network"], specs["compute-1"]
    assert network.exec_prefix == () and network.host == "127.0.0.1"
    assert network.env["STRATUS_NETWORK_DHCP_DRIVER"] == "dnsmasq"
    assert network.env["STRATUS_NETWORK_DHCP_BRIDGE_NAMESPACE"] == "stratus-guests"
    assert network.env["STRATUS_NETWORK_DHCP_TUNNEL_IP"] == "127.0.0.1"
    assert network.env["STRATUS_NETWORK_DHCP_UNDERLAY_DEVICE"] == "lo"
    assert compute.env["STRATUS_COMPUTE_NIC_TYPE"] == "bridge"
    assert compute.env["STRATUS_COMPUTE_NETWORK_NAMESPACE"] == "stratus-guests"
    assert compute.env["STRATUS_COMPUTE_LIBVIRT_URI"] == qemu.uri
    # Volumes stay files on one machine.
    assert "STRATUS_VOLUME_VOLUME_TRANSPORT" not in specs["volume"].env
    assert [d.name for d in qemu.daemons()] == ["virtlogd", "libvirtd"]


# -- ports and leftovers ---------------------------------------------------------------


def test_nbd_ports_sit_above_every_component_port_and_below_the_ephemeral_ones():
    assert wiring.nbd_ports(0) == (11000, 11199)
    assert wiring.nbd_ports(21000) == (32000, 32199)
    with pytest.raises(ValueError, match="ephemeral"):
        wiring.nbd_ports(22000)


def test_the_reaper_is_told_the_data_dir_of_the_services_leftovers():
    assert qemu_host.reaper_arguments(["--data-dir", "/d", "a", "b"]) == (Path("/d"), ["a", "b"])
    assert qemu_host.reaper_arguments(["a"]) == (None, ["a"])


def test_leftovers_of_the_services_are_cleaned_through_their_own_modules(monkeypatch, tmp_path):
    from components.network import dhcp_agent
    from components.volume import nbd

    seen = []
    monkeypatch.setattr(dhcp_agent, "clean_leftovers", lambda d: seen.append(("dhcp", d)))
    monkeypatch.setattr(nbd, "stop_stale", lambda run_dir: seen.append(("nbd", run_dir)) or [7])
    wiring.clean_leftovers(tmp_path)
    assert seen == [("dhcp", tmp_path), ("nbd", tmp_path / "volume-exports" / "run")]


def test_one_cleanup_failing_does_not_keep_the_other(monkeypatch, tmp_path):
    from components.network import dhcp_agent
    from components.volume import nbd

    def fail(data_dir):
        raise RuntimeError("namespace busy")

    seen = []
    monkeypatch.setattr(dhcp_agent, "clean_leftovers", fail)
    monkeypatch.setattr(nbd, "stop_stale", lambda run_dir: seen.append(run_dir) or [])
    wiring.clean_leftovers(tmp_path)
    assert seen == [tmp_path / "volume-exports" / "run"]
