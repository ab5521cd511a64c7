"""Instance disks with the real qemu-img: qcow2 overlays over cached images."""

from __future__ import annotations

import json
import subprocess

import pytest

from components.compute import disks

GIB = 1024**3


def info(path) -> dict:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", str(path)], check=True, capture_output=True
    )
    return json.loads(out.stdout)


@pytest.fixture
def raw_base(tmp_path):
    base = tmp_path / "_base" / "image-1"
    base.parent.mkdir()
    base.write_bytes(b"\0" * (1024 * 1024))
    return base


def test_overlay_is_qcow2_backed_by_the_cached_image_with_the_flavor_size(tmp_path, raw_base):
    overlay = tmp_path / "instance" / "disk"
    overlay.parent.mkdir()
    disks.create_overlay(raw_base, "raw", overlay, 2)
    found = info(overlay)
    assert found["format"] == "qcow2"
    assert found["virtual-size"] == 2 * GIB
    assert found["backing-filename"] == str(raw_base.resolve())
    assert found["backing-filename-format"] == "raw"
    # Copy on write: the overlay holds only metadata, the image stays shared.
    assert overlay.stat().st_size < 1024 * 1024


def test_overlay_of_size_zero_keeps_the_image_size(tmp_path, raw_base):
    overlay = tmp_path / "disk"
    disks.create_overlay(raw_base, "raw", overlay, 0)
    assert info(overlay)["virtual-size"] == 1024 * 1024


def test_overlay_over_a_qcow2_image(tmp_path):
    base = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "1G"], check=True)
    overlay = tmp_path / "disk"
    disks.create_overlay(base, "qcow2", overlay, 1)
    assert info(overlay)["backing-filename-format"] == "qcow2"


def test_overlay_with_a_missing_base_is_a_disk_error(tmp_path):
    with pytest.raises(disks.DiskError, match="disk"):
        disks.create_overlay(tmp_path / "missing", "raw", tmp_path / "disk", 1)
    assert not (tmp_path / "disk").exists()


def test_instance_dir_gets_an_empty_console_log_and_removal_is_idempotent(tmp_path):
    directory = disks.instance_dir(tmp_path / "instances", "i-1")
    disks.prepare_instance_dir(directory)
    assert (directory / disks.CONSOLE_LOG).read_bytes() == b""
    (directory / disks.DISK_FILE).write_bytes(b"x")
    assert disks.remove_instance_dir(directory) is True
    assert not directory.exists()
    assert disks.remove_instance_dir(directory) is False
