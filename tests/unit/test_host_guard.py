"""The guard that fails a test run which wrote the host's own files."""

import os

import pytest

from tests import host_guard
from tests.contract.image_fixtures import qcow2


def test_unchanged_files_and_files_that_stay_missing_are_no_change(tmp_path):
    present = tmp_path / "hostname"
    present.write_text("vm\n")
    paths = (present, tmp_path / "missing")
    assert host_guard.changes(host_guard.snapshot(paths), host_guard.snapshot(paths)) == []


def test_a_file_overwritten_with_zeros_is_reported(tmp_path):
    hostname = tmp_path / "hostname"
    hostname.write_text("vm\n")
    before = host_guard.snapshot((hostname,))
    hostname.write_bytes(bytes(1024 * 1024))
    assert host_guard.changes(before, host_guard.snapshot((hostname,))) == [
        f"{hostname} was written: 3 bytes (sha256 {before[hostname][0][:12]})"
        " -> 1048576 bytes (sha256 30e14955ebf1)"
    ]


def test_a_file_rewritten_with_the_same_bytes_is_reported_by_its_mtime(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    before = host_guard.snapshot((hosts,))
    os.utime(hosts, ns=(0, before[hosts][2] + 1_000_000_000))
    assert len(host_guard.changes(before, host_guard.snapshot((hosts,)))) == 1


def test_a_created_or_removed_file_is_reported(tmp_path):
    path = tmp_path / "passwd"
    before = host_guard.snapshot((path,))
    path.write_text("root:x:0:0::/root:/bin/sh\n")
    created = host_guard.snapshot((path,))
    assert host_guard.changes(before, created) == [f"{path} was created"]
    path.unlink()
    assert host_guard.changes(created, host_guard.snapshot((path,))) == [f"{path} was removed"]


def test_the_guard_watches_the_hosts_identity_files():
    assert {str(p) for p in host_guard.GUARDED} == {"/etc/hostname", "/etc/passwd", "/etc/hosts"}


@pytest.mark.parametrize(
    "options",
    [("-o", "data_file=/etc/hostname,size=1M"), ("-o", "data_file=../x,size=1M"), ("-b", "/a")],
)
def test_the_qcow2_helper_refuses_to_hand_qemu_img_a_path_outside_tmp_path(tmp_path, options):
    with pytest.raises(ValueError, match="outside tmp_path"):
        qcow2(tmp_path, "evil.qcow2", *options)
    assert list(tmp_path.iterdir()) == []


def test_users_added_by_a_package_installation_are_accepted_but_nothing_else(tmp_path):
    passwd, hostname = tmp_path / "passwd", tmp_path / "hostname"
    passwd.write_text("root:x:0:0::/root:/bin/sh\n")
    hostname.write_text("vm\n")
    guard = host_guard.Guard((passwd, hostname), package_owned=(passwd,))
    with guard.installing_packages():
        passwd.write_text(passwd.read_text() + "dnsmasq:x:100:65534::/nonexistent:/bin/false\n")
    assert guard.changes() == []
    passwd.write_text("")  # a test, not a package
    with guard.installing_packages():
        hostname.write_bytes(bytes(16))
    assert [line.split(" ")[0] for line in guard.changes()] == [str(passwd), str(hostname)]
