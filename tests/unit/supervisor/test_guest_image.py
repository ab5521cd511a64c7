"""The demo guest's pieces: the kernel unpacked from its bzImage, the initramfs, the disk."""

from __future__ import annotations

import gzip
import json
import lzma
import shutil
import stat
import struct
import subprocess
from pathlib import Path

import pytest

from components.compute import config_drive
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


# -- the SSH server: Dropbear, its libraries, root, the config drive modules ----------


def fake_elf(interpreter: str = "", needed: tuple[str, ...] = ()) -> bytes:
    """A 64-bit little-endian ELF file with one loaded segment holding a program
    interpreter (PT_INTERP), a string table and a dynamic section (PT_DYNAMIC)."""
    header_size, phentsize = 64, 56
    headers = 3
    base = header_size + headers * phentsize
    strtab = b"\0" + b"".join(n.encode() + b"\0" for n in needed)
    offsets, position = [], 1
    for name in needed:
        offsets.append(position)
        position += len(name) + 1
    interp = interpreter.encode() + b"\0" if interpreter else b""
    interp_at = base
    strtab_at = interp_at + len(interp)
    dynamic_at = strtab_at + len(strtab) + (-(strtab_at + len(strtab)) % 8)
    dynamic = b"".join(struct.pack("<qQ", 1, offset) for offset in offsets)
    dynamic += struct.pack("<qQ", 5, strtab_at) + struct.pack("<qQ", 0, 0)
    size = dynamic_at + len(dynamic)
    elf = bytearray(size)
    elf[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", elf, 0x20, header_size)
    struct.pack_into("<HH", elf, 0x36, phentsize, headers)
    segments = [(1, 0, size), (2, dynamic_at, len(dynamic))]
    segments.append((3, interp_at, len(interp)) if interp else (4, 0, 0))
    for index, (kind, offset, length) in enumerate(segments):
        # Loaded at address == file offset, as a position-independent file.
        struct.pack_into(
            "<IIQQQQ", elf, header_size + index * phentsize, kind, 0, offset, offset, 0, length
        )
    elf[interp_at : interp_at + len(interp)] = interp
    elf[strtab_at : strtab_at + len(strtab)] = strtab
    elf[dynamic_at:] = dynamic
    return bytes(elf)


def test_elf_needed_and_interpreter_read_the_dynamic_section_as_readelf_does():
    elf = fake_elf("/lib64/ld-linux-x86-64.so.2", ("libz.so.1", "libc.so.6"))
    assert guest_image.elf_needed(elf) == ["libz.so.1", "libc.so.6"]
    assert guest_image.elf_interpreter(elf) == "/lib64/ld-linux-x86-64.so.2"
    assert guest_image.elf_interpreter(fake_elf(needed=("libc.so.6",))) == ""


def test_elf_of_something_else_is_a_build_error():
    with pytest.raises(guest_image.GuestBuildError, match="ELF"):
        guest_image.elf_needed(b"#!/bin/sh\n")


def test_shared_libraries_follow_needed_entries_through_the_libraries_and_add_the_loader():
    loader = "/lib64/ld-linux-x86-64.so.2"
    available = {
        "libtomcrypt.so.1": fake_elf(needed=("libgmp.so.10", "libc.so.6")),
        "libgmp.so.10": fake_elf(needed=("libc.so.6",)),
        # libc names the loader, which is mapped already: not copied twice.
        "libc.so.6": fake_elf(needed=("ld-linux-x86-64.so.2",)),
        "ld-linux-x86-64.so.2": b"LOADER",
        "libunused.so.1": fake_elf(),
    }
    programs = {"usr/sbin/dropbear": fake_elf(loader, ("libtomcrypt.so.1", "libc.so.6"))}
    files = guest_image.shared_libraries(programs, available)
    directory = guest_image.LIBRARY_DIR
    assert set(files) == {
        "lib64/ld-linux-x86-64.so.2",
        f"{directory}/libtomcrypt.so.1",
        f"{directory}/libgmp.so.10",
        f"{directory}/libc.so.6",
    }
    assert files["lib64/ld-linux-x86-64.so.2"] == b"LOADER"
    del available["libgmp.so.10"]
    with pytest.raises(guest_image.GuestBuildError, match=r"libgmp\.so\.10"):
        guest_image.shared_libraries(programs, available)


def test_initramfs_holds_the_ssh_server_its_libraries_and_root():
    modules = {name: b"module" for name in guest_image.MODULES}
    programs = {
        "usr/sbin/dropbear": b"DROPBEAR",
        "usr/bin/dropbearkey": b"DROPBEARKEY",
        "lib64/ld-linux-x86-64.so.2": b"LOADER",
        f"{guest_image.LIBRARY_DIR}/libc.so.6": b"LIBC",
    }
    entries = read_newc(gzip.decompress(guest_image.initramfs(b"BB", modules, programs)))
    for path, data in programs.items():
        assert entries[path][1] == data and entries[path][0] & 0o111, path
        # Each parent directory comes before what it holds.
        parents = [str(p) for p in reversed(Path(path).parents) if str(p) != "."]
        assert all(stat.S_ISDIR(entries[p][0]) for p in parents), path
    names = list(entries)
    assert names.index("lib64") < names.index("lib64/ld-linux-x86-64.so.2")
    passwd = entries["etc/passwd"][1].decode().splitlines()
    root = next(line.split(":") for line in passwd if line.startswith("root:"))
    assert root[1] not in ("", "x"), "Dropbear refuses empty passwords; no shadow file"
    assert root[2:4] == ["0", "0"] and root[5:] == ["/root", "/bin/sh"]
    assert entries["etc/shells"][1] == b"/bin/sh\n"
    assert stat.S_IMODE(entries["root"][0]) == 0o700
    assert stat.S_IMODE(entries["etc/dropbear"][0]) == 0o700
    for name in ("ata_piix", "ahci", "sr_mod", "cdrom", "isofs"):
        assert f"lib/modules/{name}.ko" in entries


def test_the_config_drive_modules_come_after_what_they_depend_on():
    # The .modinfo "depends=" of Debian 12's kernel (6.1).
    depends = {
        "scsi_mod": ["scsi_common"],
        "libata": ["scsi_mod", "scsi_common"],
        "ata_piix": ["libata"],
        "libahci": ["libata"],
        "ahci": ["libahci", "libata"],
        "sr_mod": ["scsi_mod", "cdrom", "scsi_common"],
        "isofs": ["cdrom"],
    }
    order = list(guest_image.MODULES)
    for module, needs in depends.items():
        assert all(order.index(n) < order.index(module) for n in needs), module


def test_the_recipe_changes_with_the_packages_of_the_ssh_server(monkeypatch):
    before = guest_image.recipe()
    monkeypatch.setattr(guest_image, "LIBRARY_PACKAGES", ("libc6",))
    assert guest_image.recipe() != before


def test_the_init_script_reads_the_config_drive_after_dhcp_and_before_ping():
    script = guest_image.INIT_SCRIPT.read_text()
    dhcp, ping = script.index("udhcpc -i"), script.index("$(arg stratus.ping |")
    drive = script.index("config_drive=")
    assert dhcp < drive < script.index('result="ssh ready"') < ping < script.index('say "ready"')
    assert 'say "no config drive"' in script
    assert "dropbear -s" in script, "keys only"


def json_values(text: str) -> dict[str, str]:
    """The init script's json_values, run by this host's sh, grep and awk."""
    script = guest_image.INIT_SCRIPT.read_text()
    function = script[script.index("json_values() {") : script.index("json_get() {")]
    result = subprocess.run(
        ["sh", "-c", function + "json_values"], input=text, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split("\t", 1) for line in result.stdout.splitlines())


@pytest.mark.skipif(not all(shutil.which(t) for t in ("sh", "grep", "awk")), reason="no sh/awk")
@pytest.mark.parametrize("indent", [None, 2])
def test_the_init_script_parses_the_meta_data_stratus_writes(indent):
    content = config_drive.DriveContent(
        id="0f1e", name="web 1", hostname="web-1", project_id="p", availability_zone="nova",
        # A member named hostname elsewhere is not the server's hostname.
        metadata={"hostname": "not-this", "quote": 'a"b\\c'},
        keys=(("mine", "ssh-ed25519 AAAAC3Nz me@laptop"), ("k/2", "ssh-rsa AAAAB3 other")),
    )  # fmt: skip
    values = json_values(json.dumps(config_drive.meta_data(content), indent=indent))
    assert values["hostname"] == "web-1"
    assert values["meta/hostname"] == "not-this" and values["meta/quote"] == 'a"b\\c'
    assert values["public_keys/mine"] == "ssh-ed25519 AAAAC3Nz me@laptop"
    assert values["public_keys/k/2"] == "ssh-rsa AAAAB3 other"
    assert values["keys/1/name"] == "k/2" and values["launch_index"] == "0"
