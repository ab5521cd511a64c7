"""Reading dnsmasq's lease file and choosing the leases to release (dhcp_leases.py)."""

import logging

import pytest

from components.network import dhcp_leases
from components.network.dhcp import DhcpPort, DhcpSubnet, host_entries
from components.network.dhcp_leases import Lease

MAC_A, MAC_B = "fa:16:3e:00:00:0a", "fa:16:3e:00:00:0b"
SERVER_DUID = "00:01:00:01:2e:aa:bb:cc:fa:16:3e:00:00:02"
DUID_A = "00:03:00:01:fa:16:3e:00:00:0a"  # DUID-LL of MAC_A
FILE = f"""1796249730 FA:16:3E:00:00:0A 10.0.0.10 * 01:fa:16:3e:00:00:0a
1796249731 {MAC_B} 10.0.0.11 guest-b *
duid {SERVER_DUID}
1796249732 7 fd00::10 * {DUID_A}
1796249733 9 fd00::11 * 00:02:00:00:ab:11:01
garbage
1796249734 {MAC_B} not-an-ip * *
"""


def test_parse_v4_and_v6_leases():
    assert dhcp_leases.parse(FILE) == [
        Lease(MAC_A, "10.0.0.10", "01:fa:16:3e:00:00:0a"),
        Lease(MAC_B, "10.0.0.11"),
        Lease(MAC_A, "fd00::10", DUID_A, "7", SERVER_DUID),
        Lease("", "fd00::11", "00:02:00:00:ab:11:01", "9", SERVER_DUID),
    ]


@pytest.mark.parametrize(
    "duid, mac",
    [
        (DUID_A, MAC_A),
        ("00:01:00:01:2e:aa:bb:cc:fa:16:3e:00:00:0a", MAC_A),  # DUID-LLT
        ("00:02:00:00:ab:11:01", ""),  # DUID-EN: no MAC
        ("00:03:00:20:fa:16:3e:00:00:0a", ""),  # not Ethernet
        ("zz", ""),
    ],
)
def test_mac_of_duid(duid, mac):
    assert dhcp_leases.mac_of_duid(duid) == mac


def test_unused_leases_are_those_of_no_host_entry():
    leases = dhcp_leases.parse(FILE)
    hosts = [(MAC_A, "10.0.0.10"), (MAC_A, "fd00::10"), ("fa:16:3e:00:00:0c", "fd00::11")]
    # B's address is gone; fd00::11's client names no MAC, and its address is still served.
    assert dhcp_leases.unused(leases, hosts) == [Lease(MAC_B, "10.0.0.11")]
    # The address now another MAC's: released.
    moved = [(MAC_B, "10.0.0.10"), (MAC_B, "10.0.0.11")]
    assert [lease.key for lease in dhcp_leases.unused(leases, moved)] == [
        (MAC_A, "10.0.0.10"),
        (MAC_A, "fd00::10"),
        ("", "fd00::11"),
    ]


def test_host_entries_are_what_the_hosts_file_serves():
    v4 = DhcpSubnet("s4", "10.0.0.0/24", "10.0.0.2")
    slaac = DhcpSubnet("s6", "fd00::/64", "fd00::2", ipv6_address_mode="slaac")
    port = DhcpPort(MAC_A, (("s4", "10.0.0.10"), ("s6", "fd00::10"), ("gone", "10.9.0.1")))
    assert host_entries([v4, slaac], [port]) == [(MAC_A, "10.0.0.10")]


def test_release_commands(monkeypatch):
    v4 = Lease(MAC_A, "10.0.0.10", "01:fa:16:3e:00:00:0a")
    assert dhcp_leases.command(v4, "ns-1") == [
        "dhcp_release", "ns-1", "10.0.0.10", MAC_A, "01:fa:16:3e:00:00:0a"
    ]  # fmt: skip
    assert dhcp_leases.command(Lease(MAC_A, "10.0.0.10"), "ns-1")[-1] == MAC_A
    v6 = Lease(MAC_A, "fd00::10", DUID_A, "7", SERVER_DUID)
    monkeypatch.setattr(dhcp_leases.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert dhcp_leases.command(v6, "ns-1") == [
        "dhcp_release6", "--iface", "ns-1", "--ip", "fd00::10", "--client-id", DUID_A,
        "--server-id", SERVER_DUID, "--iaid", "7",
    ]  # fmt: skip
    assert dhcp_leases.command(Lease(MAC_A, "fd00::10", DUID_A, "7", ""), "ns-1") is None
    monkeypatch.setattr(dhcp_leases.shutil, "which", lambda name: None)
    assert dhcp_leases.command(v6, "ns-1") is None  # no dhcp_release6: skipped


def test_release_runs_in_the_namespace_and_waits_bounded(tmp_path, monkeypatch, caplog):
    lease_file = tmp_path / "leases"
    lease_file.write_text(FILE)
    ran = []
    monkeypatch.setattr(dhcp_leases.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(dhcp_leases, "_run", lambda args: ran.append(args) or True)
    hosts = [(MAC_A, "10.0.0.10"), (MAC_A, "fd00::10"), (MAC_A, "fd00::11")]
    with caplog.at_level(logging.WARNING):
        released = dhcp_leases.release(lease_file, "qdhcp-n", "ns-1", hosts, timeout=0.2)
    assert released == [Lease(MAC_B, "10.0.0.11")]
    assert ran == [["ip", "netns", "exec", "qdhcp-n", "dhcp_release", "ns-1", "10.0.0.11", MAC_B]]
    assert "still holds" in caplog.text  # the file did not change: gave up after the timeout


def test_release_without_dhcp_release_only_logs(tmp_path, monkeypatch, caplog):
    lease_file = tmp_path / "leases"
    lease_file.write_text(FILE)
    monkeypatch.setattr(dhcp_leases.shutil, "which", lambda name: None)
    with caplog.at_level(logging.WARNING):
        assert dhcp_leases.release(lease_file, "qdhcp-n", "ns-1", []) == []
    assert "dnsmasq-utils" in caplog.text
    assert dhcp_leases.release(tmp_path / "none", "qdhcp-n", "ns-1", []) == []


def test_a_failed_release_is_logged_not_raised(tmp_path, caplog):
    assert not dhcp_leases._run(["/nonexistent/dhcp_release"])
    assert not dhcp_leases._run(["false"])
