"""The demo guest of ``make guest-image``: a Debian kernel booting a busybox initramfs.

Built from Debian packages that are downloaded, never installed
(``apt-get download linux-image-<version>-amd64 busybox-static dropbear-bin``
and the libraries dropbear is linked with):

* the kernel, uncompressed to ``vmlinux`` — QEMU boots its PVH entry point
  directly, which under TCG reaches the first console line in about half the
  time of the compressed ``vmlinuz``;
* an initramfs with busybox, the virtio modules (and those of the ACPI power
  button, so the guest powers off when asked), the modules that read a config
  drive on an IDE or SATA CD-ROM, and ``guest_init.sh`` as ``/init``: it
  prints the first bytes of each disk and the address DHCP gives each NIC (and
  the DHCP server that gave it) on the serial console, and does what its
  kernel command line asks (``stratus.mark``, ``stratus.ping``: see the
  script);
* in the same initramfs, Dropbear (``dropbear-bin``), with exactly the shared
  libraries its programs need (found from their ELF ``DT_NEEDED`` entries,
  taken from ``libc6``, ``zlib1g``, ...) and the dynamic loader, so /init can
  take root's SSH keys, hostname and user data from the config drive and
  start an SSH server;
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
import struct
import subprocess
import tarfile
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

KERNEL_PACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
SSH_PACKAGE = "dropbear-bin"
# Where the SSH programs are in their package → where they go in the initramfs.
SSH_PROGRAMS = {
    "./usr/sbin/dropbear": "usr/sbin/dropbear",
    "./usr/bin/dropbearkey": "usr/bin/dropbearkey",
}
# The packages holding the shared libraries the SSH programs need (their
# DT_NEEDED entries, and those of the libraries themselves; Debian 12:
# libtomcrypt.so.1, libtommath.so.1, libz.so.1, libcrypt.so.1, libc.so.6, and
# libgmp.so.10 for libtomcrypt).
LIBRARY_PACKAGES = ("libc6", "libcrypt1", "libtomcrypt1", "libtommath1", "libgmp10", "zlib1g")
# Where the libraries go: a directory Debian's loader searches without an
# ld.so.cache.
LIBRARY_DIR = "lib/x86_64-linux-gnu"
# root, for Dropbear: a password no password matches ("*", as a locked account;
# Dropbear refuses users with an empty one), a home and a shell.
PASSWD = "root:*:0:0:root:/root:/bin/sh\n"
GROUP = "root:x:0:\n"
SHELLS = "/bin/sh\n"
# insmod order: each after the modules it depends on (their .modinfo
# "depends="; Debian builds all of these as modules, none into the kernel).
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
    # The config drive: a CD-ROM on the IDE (pc) or SATA (q35) controller.
    "scsi_common",
    "scsi_mod",
    "libata",
    "ata_piix",
    "libahci",
    "ahci",
    "cdrom",
    "sr_mod",
    "isofs",
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
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    echo "STRATUS-GUEST: nic $interface address $ip/$mask server $serverid" \
        "mtu $(cat "/sys/class/net/$interface/mtu")" > /dev/console ;;
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
    parts = (UDHCPC_SCRIPT, POWER_BUTTON_SCRIPT, " ".join(MODULES), DISK_MARKER.decode())
    parts += (SSH_PACKAGE, " ".join(SSH_PROGRAMS.values()), " ".join(LIBRARY_PACKAGES))
    parts += (PASSWD, GROUP, SHELLS)
    for part in parts:
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
        ssh = ssh_server(work)
        _write(guest.kernel, extract_vmlinux(vmlinuz))
        _write(guest.ramdisk, initramfs(busybox, modules, ssh))
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


def ssh_server(work: Path) -> dict[str, bytes]:
    """Dropbear's programs, the shared libraries they need and the dynamic loader,
    by their paths in the initramfs (downloads :data:`SSH_PACKAGE` and
    :data:`LIBRARY_PACKAGES` into ``work``)."""
    deb = download(SSH_PACKAGE, work)
    found = _members(deb, lambda name: name in SSH_PROGRAMS)
    missing = [name for name in SSH_PROGRAMS if name not in found]
    if missing:
        raise GuestBuildError(f"{deb.name} lacks {missing}")
    programs = {SSH_PROGRAMS[name]: data for name, data in found.items()}
    available: dict[str, bytes] = {}
    for package in LIBRARY_PACKAGES:
        available.update(_libraries(download(package, work)))
    return {**programs, **shared_libraries(programs, available)}


def shared_libraries(programs: dict[str, bytes], available: dict[str, bytes]) -> dict[str, bytes]:
    """What the dynamically linked ``programs`` need to run, by path in the
    initramfs: every library they name in ``DT_NEEDED``, and those the libraries
    name in turn, in :data:`LIBRARY_DIR` (from ``available``, libraries by
    file name), and the loader at the path their ``PT_INTERP`` gives."""
    files: dict[str, bytes] = {}
    # libc.so.6 names the loader too, which is loaded already by then.
    loaders = {Path(elf_interpreter(elf)).name for elf in programs.values()}
    pending = list(programs.values())
    while pending:
        elf = pending.pop()
        interpreter = elf_interpreter(elf)
        if interpreter:
            loader = interpreter.lstrip("/")
            if loader not in files:
                files[loader] = _library(available, Path(interpreter).name)
        for name in elf_needed(elf):
            path = f"{LIBRARY_DIR}/{name}"
            if name not in loaders and path not in files:
                files[path] = _library(available, name)
                pending.append(files[path])
    return files


def _library(available: dict[str, bytes], name: str) -> bytes:
    if name not in available:
        raise GuestBuildError(f"no package of {LIBRARY_PACKAGES} holds {name}")
    return available[name]


def _libraries(deb: Path) -> dict[str, bytes]:
    """The shared objects of a library package by file name, a symbolic link
    (libz.so.1 → libz.so.1.2.13) standing for the file it names."""
    files: dict[str, bytes] = {}
    links: dict[str, str] = {}
    command = ["dpkg-deb", "--fsys-tarfile", str(deb)]
    with (
        subprocess.Popen(command, stdout=subprocess.PIPE) as process,
        tarfile.open(fileobj=process.stdout, mode="r|*") as archive,
    ):
        for member in archive:
            name = Path(member.name).name
            if ".so" not in name:
                continue
            if member.isfile():
                files[name] = archive.extractfile(member).read()
            elif member.issym():
                links[name] = Path(member.linkname).name
    if process.returncode != 0:
        raise GuestBuildError(f"dpkg-deb could not read {deb.name}")
    for name, target in links.items():
        for _ in range(8):  # a chain of links, bounded
            if target in files or target not in links:
                break
            target = links[target]
        if target in files:
            files.setdefault(name, files[target])
    return files


def elf_needed(elf: bytes) -> list[str]:
    """The ``DT_NEEDED`` entries (shared libraries) of a 64-bit little-endian ELF
    file, as ``readelf -d`` lists them — parsed here so that building the guest
    needs no binutils."""
    dynamic = _segments(elf).get(PT_DYNAMIC)
    if dynamic is None:
        return []
    entries = [
        struct.unpack_from("<qQ", elf, offset)
        for offset in range(dynamic[0], dynamic[0] + dynamic[1], 16)
    ]
    strtab_address = next((value for tag, value in entries if tag == DT_STRTAB), None)
    if strtab_address is None:
        raise GuestBuildError("a dynamic ELF file without a string table")
    strtab = _file_offset(elf, strtab_address)
    names = []
    for tag, value in entries:
        if tag == DT_NULL:
            break
        if tag == DT_NEEDED:
            start = strtab + value
            names.append(elf[start : elf.index(b"\0", start)].decode())
    return names


def elf_interpreter(elf: bytes) -> str:
    """The program interpreter (``PT_INTERP``) of an ELF file, or "" (a library)."""
    interp = _segments(elf).get(PT_INTERP)
    if interp is None:
        return ""
    return elf[interp[0] : interp[0] + interp[1]].split(b"\0", 1)[0].decode()


PT_DYNAMIC, PT_INTERP, PT_LOAD = 2, 3, 1
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5


def _program_headers(elf: bytes) -> list[tuple[int, int, int, int]]:
    """(type, file offset, virtual address, file size) of each program header."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise GuestBuildError("not a 64-bit little-endian ELF file")
    (phoff,) = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    headers = []
    for index in range(phnum):
        kind, _, offset, vaddr, _, filesz = struct.unpack_from(
            "<IIQQQQ", elf, phoff + index * phentsize
        )
        headers.append((kind, offset, vaddr, filesz))
    return headers


def _segments(elf: bytes) -> dict[int, tuple[int, int]]:
    """The first segment of each type: (file offset, size)."""
    segments: dict[int, tuple[int, int]] = {}
    for kind, offset, _, size in _program_headers(elf):
        segments.setdefault(kind, (offset, size))
    return segments


def _file_offset(elf: bytes, address: int) -> int:
    """Where in the file the loaded address ``address`` comes from."""
    for kind, offset, vaddr, size in _program_headers(elf):
        if kind == PT_LOAD and vaddr <= address < vaddr + size:
            return offset + address - vaddr
    raise GuestBuildError(f"ELF address {address:#x} is in no loaded segment")


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


def initramfs(
    busybox: bytes, modules: dict[str, bytes], programs: dict[str, bytes] | None = None
) -> bytes:
    """The gzip-compressed newc cpio archive the kernel unpacks as its first root.

    ``programs``: more files by path (the SSH server and its libraries), made
    executable, with their directories.
    """
    programs = programs or {}
    directories = ["bin", "dev", "etc", "etc/acpi", "etc/acpi/PWRF", "lib", "lib/modules"]
    directories += ["proc", "sys", "run", "tmp", "mnt", "var"]
    for path in programs:
        parents = Path(path).parents
        directories += [str(p) for p in reversed(parents) if str(p) not in (".", *directories)]
    entries: list[CpioEntry] = [CpioEntry(d, stat.S_IFDIR | 0o755) for d in directories]
    # root's home and Dropbear's host keys: private, as Dropbear checks.
    entries += [CpioEntry(d, stat.S_IFDIR | 0o700) for d in ("root", "etc/dropbear")]
    # The kernel opens /dev/console for /init before anything can mount /dev.
    entries.append(CpioEntry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)))
    executables = {
        "init": INIT_SCRIPT.read_bytes(),
        "bin/busybox": busybox,
        "etc/udhcpc.sh": UDHCPC_SCRIPT.encode(),
        "etc/acpi/PWRF/00000080": POWER_BUTTON_SCRIPT.encode(),
        **programs,
    }
    entries += [CpioEntry(n, stat.S_IFREG | 0o755, data) for n, data in executables.items()]
    texts = {"etc/modules": "\n".join(MODULES), "etc/passwd": PASSWD}
    texts |= {"etc/group": GROUP, "etc/shells": SHELLS}
    entries += [CpioEntry(n, stat.S_IFREG | 0o644, t.encode()) for n, t in texts.items()]
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
