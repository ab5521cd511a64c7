"""Where volume data lives: one sparse raw file per volume under ``<data_dir>/volume/``.

Every operation either completes or leaves nothing behind: a new file is
written under a temporary name and renamed into place only once it is whole,
so a failure never leaves a half-made volume file. Failures are raised as
:class:`BackendError`; the caller decides what status the volume takes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

GIB = 1024**3
QEMU_IMG_TIMEOUT_SECONDS = 3600


class BackendError(Exception):
    """A storage operation failed; the message says which and why."""


@dataclasses.dataclass(frozen=True)
class ConnectionInfo:
    """How a compute host reaches a volume: a libvirt file disk, or an NBD export
    (host, port, export_name, tls; see exports.py)."""

    driver_volume_type: str
    path: str
    format: str
    host: str = ""
    port: int = 0
    export_name: str = dataclasses.field(default="", repr=False)
    tls: bool = False


class FileBackend:
    """Sparse raw files, created and grown with truncate, removed with unlink."""

    driver_volume_type = "file"
    # qcow2 sources are converted on the way in, so every volume file is raw.
    format = "raw"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, volume_id: str) -> Path:
        # The id becomes a file name: only a canonical UUID may.
        return self.root / str(uuid.UUID(volume_id))

    def _partial(self, volume_id: str, suffix: str) -> Path:
        return self.root / f".{uuid.UUID(volume_id)}.{suffix}"

    def exists(self, volume_id: str) -> bool:
        return self.path(volume_id).is_file()

    def create(self, volume_id: str, size_gib: int) -> Path:
        """A new empty volume of ``size_gib`` (sparse: takes no space until written)."""
        with self._placing(volume_id) as partial, open(partial, "xb") as fh:
            fh.truncate(size_gib * GIB)
        return self.path(volume_id)

    @contextlib.contextmanager
    def staging(self, volume_id: str) -> Iterator[Path]:
        """A scratch file to download a source image into; removed on leaving."""
        scratch = self._partial(volume_id, "download")
        try:
            yield scratch
        finally:
            _remove(scratch)

    def create_from_image(self, volume_id: str, size_gib: int, source: Path, disk_format: str):
        """A volume of ``size_gib`` holding the image in ``source`` ("raw" or "qcow2")."""
        if disk_format not in ("raw", "qcow2"):
            raise BackendError(f"cannot write a {disk_format!r} image into a volume")
        size = size_gib * GIB
        with self._placing(volume_id) as partial:
            if disk_format == "qcow2":
                _check_qcow2(source, size)
                _qemu_img("convert", "-f", "qcow2", "-O", "raw", str(source), str(partial))
            else:
                if source.stat().st_size > size:
                    raise BackendError(f"the image is larger than {size_gib} GiB")
                os.replace(source, partial)
            # The image is usually smaller than the volume: the rest reads as zeros.
            os.truncate(partial, size)
        return self.path(volume_id)

    def extend(self, volume_id: str, new_size_gib: int) -> None:
        """Grow the volume's file; existing data is kept, the new space reads as zeros."""
        path = self.path(volume_id)
        try:
            current = path.stat().st_size
            if current > new_size_gib * GIB:
                raise BackendError(f"volume {volume_id} is larger than {new_size_gib} GiB")
            os.truncate(path, new_size_gib * GIB)
        except OSError as exc:
            raise BackendError(f"cannot extend volume {volume_id}: {exc.strerror}") from exc

    def delete(self, volume_id: str) -> None:
        """Remove the volume's file; a file already gone is not an error."""
        try:
            self.path(volume_id).unlink(missing_ok=True)
        except OSError as exc:
            raise BackendError(f"cannot delete volume {volume_id}: {exc.strerror}") from exc
        for suffix in ("partial", "download"):
            _remove(self._partial(volume_id, suffix))

    def connection_info(self, volume_id: str) -> ConnectionInfo:
        """What a compute host needs to attach the volume; the file must exist."""
        path = self.path(volume_id)
        if not path.is_file():
            raise BackendError(f"the file of volume {volume_id} is missing")
        return ConnectionInfo(self.driver_volume_type, str(path), self.format)

    @contextlib.contextmanager
    def _placing(self, volume_id: str) -> Iterator[Path]:
        """Yield a temporary path; rename it to the volume's path if the block succeeds."""
        partial = self._partial(volume_id, "partial")
        final = self.path(volume_id)
        try:
            if final.exists():
                raise BackendError(f"volume {volume_id} already has a file")
            yield partial
            os.replace(partial, final)
        except OSError as exc:
            _remove(partial)
            raise BackendError(f"cannot write volume {volume_id}: {exc.strerror or exc}") from exc
        except BaseException:
            _remove(partial)
            raise


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot remove %s: %s", path, exc.strerror)


def _qemu_img(*args: str) -> str:
    try:
        done = subprocess.run(
            ["qemu-img", *args],
            capture_output=True,
            text=True,
            timeout=QEMU_IMG_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendError(f"qemu-img {args[0]} failed: {exc}") from exc
    if done.returncode != 0:
        raise BackendError(f"qemu-img {args[0]} failed: {done.stderr.strip()[:500]}")
    return done.stdout


def _check_qcow2(source: Path, size: int) -> None:
    """Refuse qcow2 data that is not what it claims or would read other host files."""
    info = json.loads(_qemu_img("info", "--output=json", "-f", "qcow2", str(source)))
    # A backing file or external data file would make the conversion read a
    # path on this host chosen by whoever uploaded the image.
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise BackendError("qcow2 images with a backing file cannot be used")
    data = info.get("format-specific", {}).get("data", {})
    if data.get("data-file"):
        raise BackendError("qcow2 images with an external data file cannot be used")
    if int(info.get("virtual-size", 0)) > size:
        raise BackendError(f"the image's virtual size exceeds {size // GIB} GiB")
