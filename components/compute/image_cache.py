"""The host's image cache: each image downloaded once, verified, shared by every instance.

An image's data lands in ``<cache dir>/<image id>`` (nova's ``_base``) and is
the read-only backing file of every overlay booted from it. However many builds
of one image arrive together, one downloads while the others wait on that
image's lock; builds of other images are not held up. The download goes to a
temporary file that is renamed into place only once its MD5 matches the
image's ``checksum``, so a crash or a corrupt transfer never leaves a file that
looks cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from components.framework import Image, ImageCorrupt

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".part"


class ImageCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, image_id: str) -> Path:
        return self.directory / image_id

    def fetch(self, image: Image, download: Callable[[], Iterable[bytes]]) -> Path:
        """The cached file of ``image``, downloading it with ``download()`` if needed."""
        target = self.path(image.id)
        if target.exists():
            return target
        with self._lock_for(image.id):
            # Another build may have finished the download while we waited.
            if not target.exists():
                self._download(image, download, target)
        return target

    def clean_partial(self) -> None:
        """Remove downloads a previous process left half done."""
        if not self.directory.exists():
            return
        for leftover in self.directory.glob(f".*{PARTIAL_SUFFIX}"):
            log.info("removing partial image download %s", leftover.name)
            leftover.unlink(missing_ok=True)

    def _lock_for(self, image_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(image_id, threading.Lock())

    def _download(
        self, image: Image, download: Callable[[], Iterable[bytes]], target: Path
    ) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{image.id}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}"
        log.info("downloading image %s into the cache", image.id)
        try:
            md5, size = _write(partial, download())
            _verify(image, md5, size)
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
        log.info("image %s cached (%d bytes)", image.id, size)


def _write(path: Path, chunks: Iterable[bytes]) -> tuple[str, int]:
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    with open(path, "wb") as fh:
        for chunk in chunks:
            md5.update(chunk)
            size += len(chunk)
            fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    return md5.hexdigest(), size


def _verify(image: Image, md5: str, size: int) -> None:
    if image.size_bytes and size != image.size_bytes:
        raise ImageCorrupt(
            f"image {image.id}: received {size} bytes, expected {image.size_bytes}",
            image_id=image.id,
        )
    if not image.checksum or md5 != image.checksum.lower():
        raise ImageCorrupt(
            f"image {image.id}: the data's MD5 does not match the image's checksum",
            image_id=image.id,
        )
