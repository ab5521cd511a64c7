"""Checking that uploaded bytes are what the image's disk_format says, as they stream.

A qcow2 file can name another file for QEMU to open: a backing file (header
field ``backing_file_offset``) or an external data file (incompatible feature
bit 2, or the ``0x44415441`` header extension). A host that boots such an
image reads whatever path the uploader chose (CVE-2022-47951,
CVE-2024-32498), so both are refused. A "raw" image that is really a qcow2
would be probed as qcow2 by anything that guesses formats, so it is refused
too.

Everything needed is in the image's first cluster (at most 2 MiB), so an
:class:`Inspector` looks only at the first chunks of the stream and never
reads the data twice. Pure: no I/O, no grpc.
"""

from __future__ import annotations

import struct

from components.framework import InvalidArgument

RAW = "raw"
QCOW2 = "qcow2"

QCOW2_MAGIC = b"QFI\xfb"
_V2_HEADER = 72
_V3_HEADER = 104
_MIN_CLUSTER_BITS = 9
_MAX_CLUSTER_BITS = 21
MAX_CLUSTER_SIZE = 1 << _MAX_CLUSTER_BITS
EXT_END = 0x00000000
EXT_DATA_FILE = 0x44415441
INCOMPAT_DIRTY = 1 << 0
INCOMPAT_CORRUPT = 1 << 1
INCOMPAT_DATA_FILE = 1 << 2
INCOMPAT_COMPRESSION = 1 << 3
INCOMPAT_EXTENDED_L2 = 1 << 4
_KNOWN_INCOMPAT = (
    INCOMPAT_DIRTY
    | INCOMPAT_CORRUPT
    | INCOMPAT_DATA_FILE
    | INCOMPAT_COMPRESSION
    | INCOMPAT_EXTENDED_L2
)


def _refuse(message: str, reason: str) -> InvalidArgument:
    return InvalidArgument(message, reason=reason, field="data")


class _NeedMore(Exception):
    """The bytes seen so far do not decide the question yet."""


class Inspector:
    """Fed the stream's chunks in order; raises InvalidArgument once they cannot match."""

    def feed(self, chunk: bytes | memoryview) -> None:
        raise NotImplementedError

    def finish(self, size_bytes: int) -> int:
        """Checks the end of the stream; returns the virtual size in bytes."""
        raise NotImplementedError


class RawInspector(Inspector):
    """Any bytes, as long as they do not start like a qcow2 file."""

    def __init__(self) -> None:
        self._head = b""

    def feed(self, chunk: bytes | memoryview) -> None:
        if len(self._head) >= len(QCOW2_MAGIC):
            return
        self._head += bytes(chunk[: len(QCOW2_MAGIC) - len(self._head)])
        if self._head == QCOW2_MAGIC:
            raise _refuse(
                "the data is a qcow2 image, not raw: create the image with disk_format QCOW2",
                "DISK_FORMAT_MISMATCH",
            )

    def finish(self, size_bytes: int) -> int:
        return size_bytes


class Qcow2Inspector(Inspector):
    """A qcow2 v2/v3 header with no backing file and no external data file."""

    def __init__(self) -> None:
        # A contiguous prefix of the data: never more than the largest first cluster,
        # since nothing the check needs lies beyond it.
        self._head = bytearray()
        self._needed = len(QCOW2_MAGIC)
        self.virtual_size: int | None = None

    def feed(self, chunk: bytes | memoryview) -> None:
        if self.virtual_size is not None:
            return
        room = MAX_CLUSTER_SIZE - len(self._head)
        if room > 0:
            self._head += chunk[:room]
        if len(self._head) < self._needed:
            return
        try:
            self.virtual_size = inspect_qcow2(self._head)
        except _NeedMore as more:
            self._needed = more.args[0]

    def finish(self, size_bytes: int) -> int:
        if self.virtual_size is None:
            raise _refuse(
                f"the data ({size_bytes} bytes) ends before its qcow2 header does",
                "DISK_FORMAT_MISMATCH",
            )
        return self.virtual_size


def inspector_for(disk_format: str) -> Inspector:
    if disk_format == RAW:
        return RawInspector()
    if disk_format == QCOW2:
        return Qcow2Inspector()
    raise ValueError(f"no inspector for disk format {disk_format!r}")


def _need(head: bytes | bytearray, size: int) -> None:
    if len(head) < size:
        raise _NeedMore(size)


def inspect_qcow2(head: bytes | bytearray) -> int:
    """The virtual size of the qcow2 image starting with ``head``.

    Raises InvalidArgument if it is not an acceptable qcow2 image, or
    _NeedMore(n) if the first ``n`` bytes are needed to tell.
    """
    _need(head, len(QCOW2_MAGIC))
    if head[:4] != QCOW2_MAGIC:
        raise _refuse("the data is not a qcow2 image (no QFI\\xfb magic)", "DISK_FORMAT_MISMATCH")
    _need(head, _V2_HEADER)
    version, backing_offset, _backing_size, cluster_bits, virtual_size = struct.unpack_from(
        ">IQIIQ", head, 4
    )
    if version not in (2, 3):
        raise _refuse(f"qcow2 version {version} is not supported", "QCOW2_UNSUPPORTED")
    if backing_offset != 0:
        raise _refuse(
            "the qcow2 image names a backing file; only standalone images are accepted",
            "QCOW2_BACKING_FILE",
        )
    if not _MIN_CLUSTER_BITS <= cluster_bits <= _MAX_CLUSTER_BITS:
        raise _refuse(f"qcow2 cluster_bits {cluster_bits} is out of range", "QCOW2_UNSUPPORTED")
    cluster_size = 1 << cluster_bits
    header_length = _V2_HEADER
    if version == 3:
        header_length = _check_v3_header(head, cluster_size)
    _check_extensions(head, header_length, cluster_size)
    return virtual_size


def _check_v3_header(head: bytes | bytearray, cluster_size: int) -> int:
    _need(head, _V3_HEADER)
    (incompatible,) = struct.unpack_from(">Q", head, 72)
    (header_length,) = struct.unpack_from(">I", head, 100)
    if incompatible & INCOMPAT_DATA_FILE:
        raise _refuse(
            "the qcow2 image uses an external data file; only standalone images are accepted",
            "QCOW2_DATA_FILE",
        )
    unknown = incompatible & ~_KNOWN_INCOMPAT
    if unknown:
        raise _refuse(
            f"the qcow2 image has unknown incompatible features {unknown:#x}", "QCOW2_UNSUPPORTED"
        )
    if not _V3_HEADER <= header_length <= cluster_size:
        raise _refuse(f"qcow2 header_length {header_length} is not valid", "QCOW2_UNSUPPORTED")
    return header_length


def _check_extensions(head: bytes | bytearray, offset: int, cluster_size: int) -> None:
    """Walks the header extensions (all inside the first cluster) up to the end marker."""
    while offset + 8 <= cluster_size:
        _need(head, offset + 8)
        kind, length = struct.unpack_from(">II", head, offset)
        if kind == EXT_END:
            return
        if kind == EXT_DATA_FILE:
            raise _refuse(
                "the qcow2 image names an external data file; only standalone images are accepted",
                "QCOW2_DATA_FILE",
            )
        offset += 8 + (length + 7) // 8 * 8
    if offset > cluster_size:
        raise _refuse("the qcow2 header extensions overrun the first cluster", "QCOW2_UNSUPPORTED")
