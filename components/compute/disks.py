"""Instance files on the host: the instance directory and its copy-on-write root disk.

Each instance gets ``<instances dir>/<instance id>/`` holding ``disk`` (a
qcow2 overlay whose backing file is the cached image, so the image is shared
and only the instance's writes take space) and ``console.log`` (its serial
console); a guest booting a kernel directly also has ``kernel``, ``ramdisk``
(hard links to the cached images) and ``cmdline``; a guest with a config drive
has ``disk.config`` (its ISO image, as nova names it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

QEMU_IMG = "qemu-img"
QEMU_IMG_TIMEOUT_SECONDS = 120
DISK_FILE = "disk"
CONSOLE_LOG = "console.log"
KERNEL_FILE = "kernel"
RAMDISK_FILE = "ramdisk"
KERNEL_ARGS_FILE = "cmdline"
CONFIG_DRIVE_FILE = "disk.config"
GIB = 1024**3


class DiskError(Exception):
    """qemu-img could not create a disk."""


def instance_dir(instances: Path, instance_id: str) -> Path:
    return instances / instance_id


def create_overlay(base: Path, base_format: str, overlay: Path, size_gib: int) -> None:
    """``qemu-img create -f qcow2 -F <fmt> -b <base> <overlay> <size>G``.

    ``size_gib`` 0 keeps the image's own virtual size.
    """
    command = [
        QEMU_IMG, "create", "-q", "-f", "qcow2", "-F", base_format,
        "-b", str(base.resolve()), str(overlay),
    ]  # fmt: skip
    if size_gib > 0:
        command.append(f"{size_gib}G")
    try:
        subprocess.run(
            command, check=True, capture_output=True, text=True, timeout=QEMU_IMG_TIMEOUT_SECONDS
        )
    except FileNotFoundError:
        raise DiskError(f"{QEMU_IMG} is not installed (it comes with qemu-utils)") from None
    except subprocess.CalledProcessError as exc:
        raise DiskError(f"qemu-img could not create {overlay.name}: {exc.stderr.strip()}") from None
    except subprocess.TimeoutExpired:
        raise DiskError(f"qemu-img did not create {overlay.name} in time") from None


def link(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (a copy across file systems)."""
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def prepare_instance_dir(path: Path) -> None:
    """Create the directory and an empty console log (the guest may not write to it yet)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / CONSOLE_LOG).touch()


def remove_instance_dir(path: Path) -> bool:
    """Remove the directory and everything in it; False if it was already gone."""
    if not path.exists():
        return False
    shutil.rmtree(path)
    log.info("removed instance directory %s", path)
    return True
