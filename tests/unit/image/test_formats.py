"""The disk-format check: real qcow2 files from qemu-img and hand-built headers."""

import os
import struct
import subprocess

import pytest

from components.framework.errors import InvalidArgument
from components.image import formats

MIB = 1024 * 1024


def qemu_img(tmp_path, name: str, *args: str) -> bytes:
    path = tmp_path / name
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", *args, str(path)],
        check=True,
        cwd=tmp_path,
    )
    return path.read_bytes()


def header(
    version=3,
    backing_offset=0,
    cluster_bits=16,
    size=10 * MIB,
    incompatible=0,
    header_length=104,
    extensions=b"",
) -> bytes:
    """A qcow2 header as the spec lays it out, followed by ``extensions``."""
    fixed = b"QFI\xfb" + struct.pack(
        ">IQIIQIIQQIIQ", version, backing_offset, 0, cluster_bits, size, 0, 1, 0, 0, 1, 0, 0
    )
    if version >= 3:
        fixed += struct.pack(">QQQII", incompatible, 0, 0, 4, header_length)
        fixed += b"\0" * (header_length - len(fixed))
    return fixed + extensions + struct.pack(">II", 0, 0)


def extension(kind: int, data: bytes) -> bytes:
    padded = data + b"\0" * (-len(data) % 8)
    return struct.pack(">II", kind, len(data)) + padded


def inspect(disk_format: str, data: bytes, chunk: int = MIB) -> int:
    inspector = formats.inspector_for(disk_format)
    view = memoryview(data)
    for start in range(0, len(data), chunk):
        inspector.feed(view[start : start + chunk])
    return inspector.finish(len(data))


def refusal(disk_format: str, data: bytes, chunk: int = MIB) -> str:
    with pytest.raises(InvalidArgument) as info:
        inspect(disk_format, data, chunk)
    assert info.value.metadata["field"] == "data"
    return info.value.reason


def test_qcow2_v3_from_qemu_img_is_accepted_with_its_virtual_size(tmp_path):
    data = qemu_img(tmp_path, "plain.qcow2", "-o", "compat=1.1,size=10M")
    assert data[4:8] == b"\0\0\0\x03"
    assert inspect("qcow2", data) == 10 * MIB


def test_qcow2_v2_from_qemu_img_is_accepted(tmp_path):
    data = qemu_img(tmp_path, "v2.qcow2", "-o", "compat=0.10,size=3G")
    assert data[4:8] == b"\0\0\0\x02"
    assert inspect("qcow2", data) == 3 * 1024 * MIB


def test_qcow2_with_backing_file_from_qemu_img_is_refused(tmp_path):
    qemu_img(tmp_path, "base.qcow2", "-o", "size=1M")
    data = qemu_img(tmp_path, "overlay.qcow2", "-b", "base.qcow2", "-F", "qcow2")
    assert refusal("qcow2", data) == "QCOW2_BACKING_FILE"


def test_qcow2_naming_etc_passwd_as_backing_file_is_refused():
    data = header(backing_offset=512) + b"\0" * 100
    assert refusal("qcow2", data) == "QCOW2_BACKING_FILE"


def test_qcow2_with_external_data_file_from_qemu_img_is_refused(tmp_path):
    data = qemu_img(tmp_path, "ext.qcow2", "-o", "data_file=data.raw,size=1M")
    assert refusal("qcow2", data) == "QCOW2_DATA_FILE"


def test_qcow2_data_file_extension_without_the_feature_bit_is_refused():
    data = header(extensions=extension(formats.EXT_DATA_FILE, b"/etc/shadow"))
    assert refusal("qcow2", data) == "QCOW2_DATA_FILE"


def test_qcow2_data_file_feature_bit_without_extension_is_refused():
    data = header(incompatible=formats.INCOMPAT_DATA_FILE)
    assert refusal("qcow2", data) == "QCOW2_DATA_FILE"


def test_qcow2_data_file_extension_after_other_extensions_is_found():
    extensions = extension(0xE2792ACA, b"qcow2") + extension(0x6803F857, b"x" * 300)
    extensions += extension(formats.EXT_DATA_FILE, b"data.raw")
    assert refusal("qcow2", header(extensions=extensions)) == "QCOW2_DATA_FILE"


def test_qcow2_data_file_extension_beyond_the_first_chunk_is_found_as_chunks_stream():
    filler = extension(0x6803F857, b"x" * 5000)
    data = header(extensions=filler + extension(formats.EXT_DATA_FILE, b"d"))
    data += os.urandom(10_000)
    assert refusal("qcow2", data, chunk=1000) == "QCOW2_DATA_FILE"
    assert refusal("qcow2", data, chunk=1) == "QCOW2_DATA_FILE"


def test_qcow2_v2_with_data_file_extension_is_refused():
    data = header(version=2, extensions=extension(formats.EXT_DATA_FILE, b"d"))
    assert refusal("qcow2", data) == "QCOW2_DATA_FILE"


def test_qcow2_unknown_incompatible_feature_is_refused():
    assert refusal("qcow2", header(incompatible=1 << 40)) == "QCOW2_UNSUPPORTED"


@pytest.mark.parametrize("version", [1, 4])
def test_qcow2_unknown_version_is_refused(version):
    assert refusal("qcow2", header(version=version)) == "QCOW2_UNSUPPORTED"


@pytest.mark.parametrize("cluster_bits", [8, 22, 63])
def test_qcow2_cluster_size_out_of_range_is_refused(cluster_bits):
    assert refusal("qcow2", header(cluster_bits=cluster_bits)) == "QCOW2_UNSUPPORTED"


def test_qcow2_header_length_beyond_the_cluster_is_refused():
    data = header(cluster_bits=9, header_length=104)
    bad = bytearray(data)
    bad[100:104] = struct.pack(">I", 4096)
    assert refusal("qcow2", bytes(bad)) == "QCOW2_UNSUPPORTED"


def test_qcow2_extension_overrunning_the_first_cluster_is_refused():
    data = header(cluster_bits=9) + b"\0" * 512
    bad = bytearray(data)
    bad[104:112] = struct.pack(">II", 0x6803F857, 10_000)
    assert refusal("qcow2", bytes(bad)) == "QCOW2_UNSUPPORTED"


def test_random_bytes_declared_qcow2_are_refused():
    assert refusal("qcow2", os.urandom(4096)) == "DISK_FORMAT_MISMATCH"


def test_qcow2_cut_off_inside_its_header_is_refused(tmp_path):
    data = qemu_img(tmp_path, "plain.qcow2", "-o", "size=1M")
    assert refusal("qcow2", data[:80]) == "DISK_FORMAT_MISMATCH"
    assert refusal("qcow2", b"") == "DISK_FORMAT_MISMATCH"


def test_qcow2_declared_raw_is_refused(tmp_path):
    data = qemu_img(tmp_path, "plain.qcow2", "-o", "size=1M")
    assert refusal("raw", data) == "DISK_FORMAT_MISMATCH"


def test_qcow2_magic_split_across_chunks_declared_raw_is_refused():
    assert refusal("raw", b"QFI\xfb" + b"\0" * 100, chunk=1) == "DISK_FORMAT_MISMATCH"


def test_raw_bytes_are_accepted_with_virtual_size_equal_to_size():
    data = os.urandom(3 * MIB + 17)
    assert inspect("raw", data) == len(data)


@pytest.mark.parametrize("data", [b"", b"Q", b"QFI", b"QFI\xfa rest"])
def test_short_or_almost_qcow2_raw_data_is_accepted(data):
    assert inspect("raw", data) == len(data)


def test_qcow2_is_decided_from_the_first_chunk_without_keeping_the_rest(tmp_path):
    data = qemu_img(tmp_path, "plain.qcow2", "-o", "size=5M")
    inspector = formats.Qcow2Inspector()
    inspector.feed(memoryview(data)[:65536])
    assert inspector.virtual_size == 5 * MIB
    inspector.feed(os.urandom(MIB))
    assert inspector.finish(len(data) + MIB) == 5 * MIB


def test_qcow2_extensions_filling_a_2_mib_cluster_are_walked_keeping_only_that_cluster():
    data = header(cluster_bits=21, extensions=extension(0x6803F857, b"x" * (3 * MIB // 2)))
    data += os.urandom(2 * MIB)
    inspector = formats.Qcow2Inspector()
    for start in range(0, len(data), MIB):
        inspector.feed(data[start : start + MIB])
    assert inspector.finish(len(data)) == 10 * MIB
    assert len(inspector._head) <= formats.MAX_CLUSTER_SIZE


def test_qcow2_extension_longer_than_a_2_mib_cluster_is_refused():
    data = header(cluster_bits=21, extensions=extension(0x6803F857, b"x" * (3 * MIB)))
    assert refusal("qcow2", data) == "QCOW2_UNSUPPORTED"
