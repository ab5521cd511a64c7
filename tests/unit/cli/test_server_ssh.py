"""``stratus server ssh``: the ssh command line it runs, with the command runner stubbed."""

from __future__ import annotations

import stat

import pytest

from components.cli.commands import server_ssh
from stratus.type.v1 import instance_pb2
from tests.unit.cli.keypair_fakes import keypair_cloud

NET = "6f0e2c0a-1b7d-4a52-9a43-0c1d2e3f4a5b"


@pytest.fixture
def fake():
    """Overrides conftest's fake: the cloud with a Keypairs service."""
    with keypair_cloud() as cloud:
        yield cloud


@pytest.fixture
def ran(monkeypatch):
    """The argv each ssh run got; ssh "exits" 7. No namespace exists; we are root."""
    calls: list[list[str]] = []

    def run(argv):
        calls.append(argv)
        return 7

    monkeypatch.setattr(server_ssh, "run", run)
    monkeypatch.setattr(server_ssh, "namespaces", lambda: set())
    monkeypatch.setattr(server_ssh, "is_root", lambda: True)
    return calls


def address(ip: str, version: int = 4, network_id: str = NET) -> instance_pb2.Address:
    return instance_pb2.Address(
        network_id=network_id, network_name="private", ip_address=ip, version=version
    )


def test_argv_has_the_identity_known_hosts_login_and_command(stratus, fake, ran, tmp_path):
    fake.servers.add("vm1", addresses=[address("fd00::5", 6), address("10.0.0.3")])
    key = tmp_path / "key"
    key.write_text("k")
    result = stratus("server", "ssh", "--identity", str(key), "vm1", "--", "hostname; cat /m")
    assert result.exit_code == 7, result.output
    [argv] = ran
    known = tmp_path / "cache" / "stratus" / "known_hosts"
    assert argv == [
        "ssh",
        "-i",
        str(key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        f"UserKnownHostsFile={known}",
        "-l",
        "root",
        "--",
        "10.0.0.3",
        "hostname; cat /m",
    ]
    assert stat.S_IMODE(known.parent.stat().st_mode) == 0o700


def test_login_and_address_can_be_given(stratus, fake, ran):
    fake.servers.add("vm1", addresses=[address("10.0.0.3")])
    result = stratus("server", "ssh", "--login", "cirros", "--address", "192.0.2.9", "vm1")
    assert result.exit_code == 7, result.output
    [argv] = ran
    assert argv[0] == "ssh" and "-i" not in argv
    assert argv[-4:] == ["-l", "cirros", "--", "192.0.2.9"]


def test_the_dhcp_namespace_of_the_address_network_is_used_when_present(
    stratus, fake, ran, monkeypatch
):
    monkeypatch.setattr(server_ssh, "namespaces", lambda: {f"qdhcp-{NET}", "qdhcp-other"})
    fake.servers.add("vm1", addresses=[address("10.0.0.3")])
    assert stratus("server", "ssh", "vm1").exit_code == 7
    [argv] = ran
    assert argv[:5] == ["ip", "netns", "exec", f"qdhcp-{NET}", "ssh"]
    assert argv[-1] == "10.0.0.3"


def test_without_root_a_namespace_is_a_clear_error(stratus, fake, ran, monkeypatch):
    monkeypatch.setattr(server_ssh, "namespaces", lambda: {f"qdhcp-{NET}"})
    monkeypatch.setattr(server_ssh, "is_root", lambda: False)
    fake.servers.add("vm1", addresses=[address("10.0.0.3")])
    result = stratus("server", "ssh", "vm1")
    assert result.exit_code == 1
    assert f"qdhcp-{NET}" in result.stderr and "sudo" in result.stderr
    assert ran == []


def test_the_key_saved_by_keypair_create_is_used_for_the_key_name(stratus, fake, ran, tmp_path):
    created = stratus("keypair", "create", "laptop")
    assert created.exit_code == 0, created.output
    saved = tmp_path / "data" / "stratus" / "keys" / fake.address.replace(":", "_") / "laptop"
    assert str(saved) in created.stderr
    assert saved.read_text() == created.stdout
    fake.servers.add("vm1", key_name="laptop", addresses=[address("10.0.0.3")])
    assert stratus("server", "ssh", "vm1", "--", "true").exit_code == 7
    [argv] = ran
    assert argv[1:3] == ["-i", str(saved)]


def test_a_server_without_an_ipv4_address_is_a_clear_error(stratus, fake, ran):
    fake.servers.add("vm1", addresses=[address("fd00::5", 6)])
    result = stratus("server", "ssh", "vm1")
    assert result.exit_code == 1
    assert "no IPv4 address" in result.stderr and "--address" in result.stderr
    assert ran == []


def test_keypair_create_saves_the_key_0600_and_never_overwrites_it(stratus, fake, tmp_path):
    assert stratus("keypair", "create", "k").exit_code == 0
    saved = tmp_path / "data" / "stratus" / "keys" / fake.address.replace(":", "_") / "k"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    before = saved.read_text()
    fake.keypairs.pairs.pop("k")
    again = stratus("keypair", "create", "k")
    assert again.exit_code == 1
    assert "not overwriting" in again.stderr
    assert saved.read_text() == before
