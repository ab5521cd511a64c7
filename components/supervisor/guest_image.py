"""The demo guest of ``make guest-image``: a Debian kernel booting a busybox initramfs.

Built from two Debian packages that are downloaded, never installed
(``apt-get download linux-image-<version>-amd64 busybox-static``):

* the kernel, uncompressed to ``vmlinux`` — QEMU boots its PVH entry point
  directly, which under TCG reaches the first console line in about half the
  time of the compressed ``vmlinuz``;
* an initramfs with busybox, the virtio modules (and those of the ACPI power
  button, so the guest powers off when asked) and ``guest_init.sh`` as
  ``/init``: it prints the first bytes of each disk and the address DHCP gives
  each NIC (and the DHCP server that gave it) on the serial console, and does
  what its kernel command line asks (``stratus.mark``, ``stratus.ping``: see
  the script);
* a 1 MiB raw disk whose first line is :data:`DISK_MARKER`.

The files are kept in ``<data_dir>/guest/`` and built again only when the
recipe (the scripts, the module list) changes. They are uploaded
as Glance's kernel/ramdisk images are: a kernel image, a ramdisk image, and a
disk image whose ``kernel_id`` and ``ramdisk_id`` properties name them (see
:func:`components.supervisor.seed.guest_images`).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import logging
import lzma
import os
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

KERNEL_PACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
# insmod order: each after the modules it depends on.
MODULES = (
    "virtio_ring",
    "virtio",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_pci",
    "virtio_blk",
    "failover",
    "net_failover",
    "virtio_net",
    "evdev",
    "button",
)
DISK_MARKER = b"STRATUS GUEST DISK"
DISK_BYTES = 1024 * 1024
# What every line the guest's /init prints starts with.
CONSOLE_PREFIX = "STRATUS-GUEST:"
COMMAND_LINE = "console=ttyS0 quiet"
INIT_SCRIPT = Path(__file__).with_name("guest_init.sh")
UDHCPC_SCRIPT = """#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface" ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
    echo "STRATUS-GUEST: nic $interface address $ip/$mask server $serverid" > /dev/console ;;
esac
"""
POWER_BUTTON_SCRIPT = """#!/bin/sh
echo "STRATUS-GUEST: power button pressed; powering off" > /dev/console
sync
poweroff -f
"""
XZ_MAGIC = b"\xfd7zXZ\x00"


class GuestBuildError(Exception):
    """The demo guest could not be built (apt, dpkg-deb or the kernel format)."""


@dataclasses.dataclass(frozen=True)
class Guest:
    directory: Path

    @property
    def kernel(self) -> Path:
        return self.directory / "vmlinux"

    @property
    def ramdisk(self) -> Path:
        return self.directory / "initrd.img"

    @property
    def disk(self) -> Path:
        return self.directory / "disk.raw"

    @property
    def stamp(self) -> Path:
        return self.directory / "recipe"

    def built(self) -> bool:
        """Whether the files are there and were built from this module's recipe."""
        files = (self.kernel, self.ramdisk, self.disk, self.stamp)
        return all(p.exists() for p in files) and self.stamp.read_text() == recipe()


def recipe() -> str:
    """A digest of what goes into the guest besides the Debian packages."""
    digest = hashlib.sha256(INIT_SCRIPT.read_bytes())
    for part in (UDHCPC_SCRIPT, POWER_BUTTON_SCRIPT, " ".join(MODULES), DISK_MARKER.decode()):
        digest.update(part.encode())
    return digest.hexdigest()


def build(data_dir: str | Path) -> Guest:
    """The guest's files in ``<data_dir>/guest/``, built if they are not there yet."""
    guest = Guest(Path(data_dir).resolve() / "guest")
    if guest.built():
        return guest
    guest.directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=guest.directory) as scratch:
        work = Path(scratch)
        version = kernel_version()
        kernel_deb = download(f"linux-image-{version}-amd64", work)
        busybox_deb = download(BUSYBOX_PACKAGE, work)
        vmlinuz, modules = _kernel_files(kernel_deb)
        busybox = _members(busybox_deb, lambda name: name == "./bin/busybox")["./bin/busybox"]
        _write(guest.kernel, extract_vmlinux(vmlinuz))
        _write(guest.ramdisk, initramfs(busybox, modules))
        _write(guest.disk, disk_image())
        _write(guest.stamp, recipe().encode())
    log.info("demo guest (kernel %s) built in %s", version, guest.directory)
    return guest


def kernel_version() -> str:
    """The ABI version ``linux-image-amd64`` depends on, e.g. "6.1.0-26"."""
    output = _run(["apt-cache", "depends", "--no-recommends", KERNEL_PACKAGE])
    if "Depends: linux-image-" not in output:
        _run(["apt-get", "update", "-qq"])
        output = _run(["apt-cache", "depends", "--no-recommends", KERNEL_PACKAGE])
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("Depends: linux-image-") and line.endswith("-amd64"):
            return line.removeprefix("Depends: linux-image-").removesuffix("-amd64")
    raise GuestBuildError(f"apt does not know {KERNEL_PACKAGE}: {output.strip()}")


def download(package: str, into: Path) -> Path:
    """``apt-get download`` one package into ``into``; the .deb file."""
    sandbox = ["-o", "APT::Sandbox::User=root"] if os.geteuid() == 0 else []
    command = ["apt-get", "download", "-qq", *sandbox, package]
    try:
        _run(command, cwd=into)
    except GuestBuildError:
        # Package lists that are missing or older than the mirror: refresh once.
        _run(["apt-get", "update", "-qq"])
        _run(command, cwd=into)
    found = sorted(into.glob(f"{package}_*.deb"))
    if not found:
        raise GuestBuildError(f"apt-get download {package} left no .deb in {into}")
    return found[-1]


def _kernel_files(deb: Path) -> tuple[bytes, dict[str, bytes]]:
    """The compressed kernel and the modules of :data:`MODULES` from the kernel package."""
    wanted = {f"{name}.ko" for name in MODULES}
    members = _members(
        deb,
        lambda name: name.startswith("./boot/vmlinuz-") or Path(name).name in wanted,
    )
    vmlinuz = next((data for name, data in members.items() if "/vmlinuz-" in name), None)
    modules = {Path(name).name.removesuffix(".ko"): data for name, data in members.items()}
    missing = [name for name in MODULES if name not in modules]
    if vmlinuz is None or missing:
        raise GuestBuildError(f"{deb.name} lacks the kernel or modules {missing}")
    return vmlinuz, modules


def _members(deb: Path, wanted) -> dict[str, bytes]:
    """The regular files of a .deb whose names ``wanted(name)`` accepts, without unpacking
    the rest (a kernel package is hundreds of MB of modules)."""
    found: dict[str, bytes] = {}
    command = ["dpkg-deb", "--fsys-tarfile", str(deb)]
    with (
        subprocess.Popen(command, stdout=subprocess.PIPE) as process,
        tarfile.open(fileobj=process.stdout, mode="r|*") as archive,
    ):
        for member in archive:
            if member.isfile() and wanted(member.name):
                found[member.name] = archive.extractfile(member).read()
    if process.returncode != 0:
        raise GuestBuildError(f"dpkg-deb could not read {deb.name}")
    return found


def extract_vmlinux(bzimage: bytes) -> bytes:
    """The ELF kernel inside a bzImage compressed with xz (Debian's choice), as the
    kernel's scripts/extract-vmlinux finds it."""
    start = bzimage.find(XZ_MAGIC)
    while start >= 0:
        try:
            elf = lzma.LZMADecompressor().decompress(bzimage[start:])
        except lzma.LZMAError:
            elf = b""
        if elf.startswith(b"\x7fELF"):
            return elf
        start = bzimage.find(XZ_MAGIC, start + 1)
    raise GuestBuildError("the kernel is not an xz-compressed bzImage")


def initramfs(busybox: bytes, modules: dict[str, bytes]) -> bytes:
    """The gzip-compressed newc cpio archive the kernel unpacks as its first root."""
    directories = ["bin", "dev", "etc", "etc/acpi", "etc/acpi/PWRF", "lib", "lib/modules"]
    directories += ["proc", "sys", "run", "tmp"]
    entries: list[CpioEntry] = [CpioEntry(d, stat.S_IFDIR | 0o755) for d in directories]
    # The kernel opens /dev/console for /init before anything can mount /dev.
    entries.append(CpioEntry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)))
    executables = {
        "init": INIT_SCRIPT.read_bytes(),
        "bin/busybox": busybox,
        "etc/udhcpc.sh": UDHCPC_SCRIPT.encode(),
        "etc/acpi/PWRF/00000080": POWER_BUTTON_SCRIPT.encode(),
    }
    entries += [CpioEntry(n, stat.S_IFREG | 0o755, data) for n, data in executables.items()]
    entries.append(CpioEntry("etc/modules", stat.S_IFREG | 0o644, "\n".join(MODULES).encode()))
    entries += [
        CpioEntry(f"lib/modules/{name}.ko", stat.S_IFREG | 0o644, modules[name]) for name in MODULES
    ]
    return gzip.compress(cpio(entries), compresslevel=6, mtime=0)


@dataclasses.dataclass(frozen=True)
class CpioEntry:
    name: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def cpio(entries: list[CpioEntry]) -> bytes:
    """A cpio archive in the "newc" format (the one the kernel reads)."""
    out = bytearray()
    for inode, entry in enumerate([*entries, CpioEntry("TRAILER!!!", 0)], start=1):
        name = entry.name.encode() + b"\0"
        fields = (inode, entry.mode, 0, 0, 1, 0, len(entry.data), 0, 0, *entry.rdev, len(name), 0)
        out += b"070701" + "".join(f"{value:08x}" for value in fields).encode() + name
        out += bytes(-len(out) % 4)
        out += entry.data
        out += bytes(-len(out) % 4)
    return bytes(out)


def disk_image() -> bytes:
    """A raw disk whose first line is the marker the guest prints for vda."""
    head = DISK_MARKER + b"\n"
    return head + bytes(DISK_BYTES - len(head))


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.part")
    partial.write_bytes(data)
    os.replace(partial, path)


def _run(command: list[str], cwd: Path | None = None) -> str:
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise GuestBuildError(f"{command[0]} is not installed (Debian is needed)") from None
    if result.returncode != 0:
        raise GuestBuildError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result.stdout
