"""Where image bytes live. :class:`FilesystemStore` keeps one file per image.

An upload is written to a temporary file in ``incoming/`` and renamed into
place only when it is complete and verified, so a reader never sees a partial
image and a failed upload leaves nothing behind. A second backend (an object
store, Ceph) implements the same :class:`ImageStore` protocol.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import BinaryIO, Protocol

log = logging.getLogger(__name__)

WRITE_BUFFER_BYTES = 1024 * 1024


class StoreWriter(Protocol):
    """The bytes of one upload on their way into the store."""

    def write(self, data: bytes | memoryview) -> None: ...

    def commit(self) -> None:
        """Makes the data the image's data; raises OSError if the store cannot."""

    def abort(self) -> None:
        """Drops everything written; safe to call more than once, or after commit."""


class ImageStore(Protocol):
    def writer(self, image_id: str) -> StoreWriter: ...

    def open(self, image_id: str) -> BinaryIO:
        """The image's data for reading; FileNotFoundError if the store has none."""

    def delete(self, image_id: str) -> None:
        """Removes the image's data; nothing happens if there is none."""

    def clean_incoming(self) -> int:
        """Removes data of uploads that never finished (after a crash); returns how many."""


def _checked(image_id: str) -> str:
    # Image ids become file names: only a canonical UUID may.
    if str(uuid.UUID(image_id)) != image_id:
        raise ValueError(f"image id {image_id!r} is not a canonical UUID")
    return image_id


class FileWriter:
    """A temporary file renamed to its final name on commit."""

    def __init__(self, temporary: Path, final: Path, fsync: bool) -> None:
        self.temporary = temporary
        self.final = final
        self._fsync = fsync
        # Exclusive create: two writers can never share a temporary file.
        self._file: BinaryIO | None = open(  # noqa: SIM115
            temporary, "xb", buffering=WRITE_BUFFER_BYTES
        )

    def write(self, data: bytes | memoryview) -> None:
        self._file.write(data)

    def commit(self) -> None:
        file, self._file = self._file, None
        try:
            file.flush()
            if self._fsync:
                os.fsync(file.fileno())
        finally:
            file.close()
        os.replace(self.temporary, self.final)
        if self._fsync:
            _fsync_directory(self.final.parent)

    def abort(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            file.close()
        self.temporary.unlink(missing_ok=True)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemStore:
    """Images as files ``<root>/<image id>``; uploads in progress in ``<root>/incoming``.

    ``fsync`` makes a committed image survive a power loss (the rename is the
    commit point); turning it off trades that for speed, as ``cp`` does.
    """

    def __init__(self, root: str | os.PathLike[str], fsync: bool = True) -> None:
        self.root = Path(root)
        self.incoming = self.root / "incoming"
        self.fsync = fsync
        self.incoming.mkdir(parents=True, exist_ok=True)

    def path(self, image_id: str) -> Path:
        return self.root / _checked(image_id)

    def writer(self, image_id: str) -> FileWriter:
        temporary = self.incoming / f"{_checked(image_id)}.{uuid.uuid4().hex}.part"
        return FileWriter(temporary, self.path(image_id), self.fsync)

    def open(self, image_id: str) -> BinaryIO:
        # Unbuffered: reads are already chunk-sized, a buffer would only add a copy.
        return open(self.path(image_id), "rb", buffering=0)

    def delete(self, image_id: str) -> None:
        self.path(image_id).unlink(missing_ok=True)

    def clean_incoming(self) -> int:
        removed = 0
        for leftover in self.incoming.glob("*.part"):
            leftover.unlink(missing_ok=True)
            removed += 1
        if removed:
            log.info("removed %d unfinished uploads from %s", removed, self.incoming)
        return removed
