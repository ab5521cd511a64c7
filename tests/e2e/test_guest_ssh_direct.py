"""The demo guest logs you in, checked without the cloud: QEMU boots the guest of
``make guest-image`` directly with a config drive written by the compute
component's own module, and ``ssh`` reaches it through QEMU's user-mode network
(its slirp DHCP answers the guest's udhcpc; a host port is forwarded to port 22).

What the whole cloud adds (key pairs, CreateServer, the host side of the guest
network) is left to the cloud's QEMU tests; this one proves the guest side:
the hostname, root's authorized_keys and the ``#!`` user data from the config
drive, Dropbear taking the right key and refusing another.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from components.compute import config_drive
from components.supervisor import guest_image

pytestmark = [pytest.mark.e2e, pytest.mark.qemu]
QEMU = "qemu-system-x86_64"
BOOT_SECONDS = 180
HOSTNAME = "ssh-direct-1"
USER_DATA = b"#!/bin/sh\necho marker > /marker\n"
PREFIX = guest_image.CONSOLE_PREFIX


def missing_tools() -> str:
    for tool, why in ((QEMU, "QEMU"), ("ssh", "an ssh client"), ("ssh-keygen", "ssh-keygen")):
        if shutil.which(tool) is None:
            return f"{why} ({tool}) is not installed"
    return ""


@pytest.fixture(scope="module")
def guest(tmp_path_factory) -> guest_image.Guest:
    reason = missing_tools()
    if reason:
        pytest.skip(reason)
    try:
        return guest_image.build(tmp_path_factory.mktemp("guest-data"))
    except guest_image.GuestBuildError as exc:
        pytest.skip(f"the demo guest cannot be built here: {exc}")


def keypair(directory: Path, name: str) -> Path:
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ssh(key: Path, port: int, command: str) -> subprocess.CompletedProcess:
    options = [
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=30",
        "-o", "LogLevel=ERROR",
    ]  # fmt: skip
    return subprocess.run(
        ["ssh", "-i", str(key), "-p", str(port), *options, "root@127.0.0.1", command],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_ssh_with_the_config_drive_key_runs_as_root_after_the_user_data(guest, tmp_path):
    key, wrong = keypair(tmp_path, "right"), keypair(tmp_path, "wrong")
    drive = tmp_path / "config.iso"
    config_drive.write_config_drive(
        config_drive.DriveContent(
            id="6c0e5a0e-1b7e-4d3c-9d1e-2f7a0c9b8a71", name=HOSTNAME, hostname=HOSTNAME,
            project_id="p", availability_zone="nova",
            keys=(("right", (tmp_path / "right.pub").read_text().strip()),),
            user_data=USER_DATA,
        ),
        drive,
    )  # fmt: skip
    port = free_port()
    console = tmp_path / "console.log"
    command = [
        QEMU, "-machine", "pc", "-accel", "tcg", "-m", "512", "-no-reboot",
        "-kernel", str(guest.kernel), "-initrd", str(guest.ramdisk),
        "-append", guest_image.COMMAND_LINE,
        "-drive", f"file={drive},media=cdrom,readonly=on",
        "-nic", f"user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:{port}-:22",
        "-display", "none", "-monitor", "none", "-serial", f"file:{console}",
    ]  # fmt: skip
    start = time.monotonic()
    qemu = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        text = ""
        while f"{PREFIX} ssh ready" not in text:
            assert qemu.poll() is None, f"QEMU exited: {qemu.stderr.read().decode()}"
            assert time.monotonic() - start < BOOT_SECONDS, f"no ssh ready:\n{text}"
            time.sleep(0.2)
            text = console.read_text(errors="replace") if console.exists() else ""
        ready = time.monotonic() - start
        print(f"boot to '{PREFIX} ssh ready' in {ready:.1f} s (TCG)")
        assert f"{PREFIX} config drive {HOSTNAME}" in text
        assert f"{PREFIX} user-data exit 0" in text

        result = ssh(key, port, "hostname; cat /marker")
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [HOSTNAME, "marker"]

        refused = ssh(wrong, port, "true")
        assert refused.returncode == 255, refused
        assert "Permission denied" in refused.stderr
    finally:
        qemu.kill()
        qemu.wait(30)
