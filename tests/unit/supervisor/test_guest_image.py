"""The demo guest's pieces: the kernel unpacked from its bzImage, the initramfs, the disk."""

from __future__ import annotations

import gzip
import lzma
import stat

import pytest

from components.supervisor import guest_image
from components.supervisor.guest_image import CpioEntry


def read_newc(data: bytes) -> dict[str, tuple[int, bytes, tuple[int, int]]]:
    """name → (mode, data, (rdev major, minor)) of a newc cpio archive."""
    entries, offset = {}, 0
    while True:
        assert data[offset : offset + 6] == b"070701", offset
        fields = [int(data[offset + 6 + 8 * i : offset + 14 + 8 * i], 16) for i in range(13)]
        mode, size, rdev, namesize = fields[1], fields[6], (fields[9], fields[10]), fields[11]
        offset += 110
        name = data[offset : offset + namesize - 1].decode()
        offset = (offset + namesize + 3) & ~3
        body = data[offset : offset + size]
        offset = (offset + size + 3) & ~3
        if name == "TRAILER!!!":
            return entries
        entries[name] = (mode, body, rdev)


def test_cpio_writes_newc_entries_padded_to_four_bytes_with_a_trailer():
    archive = guest_image.cpio(
        [
            CpioEntry("etc", stat.S_IFDIR | 0o755),
            CpioEntry("etc/hello", stat.S_IFREG | 0o644, b"hi!"),
            CpioEntry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        ]
    )
    assert len(archive) % 4 == 0
    entries = read_newc(archive)
    assert entries["etc/hello"] == (stat.S_IFREG | 0o644, b"hi!", (0, 0))
    assert entries["dev/console"][2] == (5, 1)
    assert stat.S_ISDIR(entries["etc"][0])


def test_initramfs_holds_init_busybox_modules_in_order_and_a_console():
    modules = {name: f"module {name}".encode() for name in guest_image.MODULES}
    entries = read_newc(gzip.decompress(guest_image.initramfs(b"BUSYBOX", modules)))
    assert entries["init"][1] == guest_image.INIT_SCRIPT.read_bytes()
    assert entries["init"][0] & 0o111, "init is executable"
    assert entries["bin/busybox"][1] == b"BUSYBOX"
    assert entries["etc/modules"][1].decode().split() == list(guest_image.MODULES)
    assert entries["lib/modules/virtio_blk.ko"][1] == b"module virtio_blk"
    assert stat.S_ISCHR(entries["dev/console"][0]) and entries["dev/console"][2] == (5, 1)
    assert b"poweroff" in entries["etc/acpi/PWRF/00000080"][1]


def test_extract_vmlinux_finds_the_xz_stream_holding_an_elf_kernel():
    kernel = b"\x7fELF" + bytes(range(256)) * 64
    decoy = lzma.compress(b"not a kernel", format=lzma.FORMAT_XZ)
    bzimage = b"MZ setup code" + decoy + b"more" + lzma.compress(kernel) + b"trailer"
    assert guest_image.extract_vmlinux(bzimage) == kernel


def test_extract_vmlinux_of_something_else_is_a_build_error():
    with pytest.raises(guest_image.GuestBuildError, match="xz"):
        guest_image.extract_vmlinux(b"MZ" + gzip.compress(b"\x7fELF kernel"))


def test_disk_image_is_one_mib_whose_first_line_is_the_marker():
    disk = guest_image.disk_image()
    assert len(disk) == guest_image.DISK_BYTES
    assert disk.split(b"\n", 1)[0] == guest_image.DISK_MARKER


def test_a_guest_is_built_again_only_when_its_files_do_not_match_the_recipe(tmp_path):
    guest = guest_image.Guest(tmp_path / "guest")
    guest.directory.mkdir()
    for path in (guest.kernel, guest.ramdisk, guest.disk):
        path.write_bytes(b"x")
    assert not guest.built()
    guest.stamp.write_text("an older recipe")
    assert not guest.built()
    guest.stamp.write_text(guest_image.recipe())
    assert guest.built()
    # Nothing is downloaded: the files are kept.
    assert guest_image.build(tmp_path) == guest
    assert guest.kernel.read_bytes() == b"x"


def test_the_recipe_changes_with_the_init_script(tmp_path, monkeypatch):
    """make guest-image builds again once guest_init.sh changes (its bytes are hashed)."""
    before = guest_image.recipe()
    script = tmp_path / "init.sh"
    script.write_bytes(guest_image.INIT_SCRIPT.read_bytes() + b"# changed\n")
    monkeypatch.setattr(guest_image, "INIT_SCRIPT", script)
    assert guest_image.recipe() != before


def test_the_dhcp_script_names_the_server_after_the_address_line_tests_read():
    line = next(x for x in guest_image.UDHCPC_SCRIPT.splitlines() if "address" in x)
    assert 'STRATUS-GUEST: nic $interface address $ip/$mask server $serverid"' in line


def test_the_init_script_marks_before_reading_disks_and_pings_after_dhcp():
    script = guest_image.INIT_SCRIPT.read_text()
    mark, disks = script.index("arg stratus.mark"), script.index("for disk in /sys/block/vd*")
    dhcp, ping = script.index("udhcpc -i"), script.index("$(arg stratus.ping |")
    assert mark < disks < dhcp < ping < script.index('say "ready"')
    assert "ping -c 1 -W 1" in script and 'say "marked $device"' in script
    assert 'say "ping $address $result"' in script
