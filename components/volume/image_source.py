"""Copying a source image into a file, as a volume is filled: sparse and verified.

The image is described and streamed by the framework's ImageClient, with the
token of the user whose volume is being made, so a user can only copy images
they can see. Download errors are domain errors: the caller decides the
volume's status.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from components.framework import Image, ImageClient


class DownloadError(Exception):
    """The data received is not the image's data (size or checksum differ)."""


def download(images: ImageClient, image: Image, dest: Path) -> None:
    """Write the image's data to ``dest`` (sparse where it is zeros), verified."""
    md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
    received = 0
    with open(dest, "wb") as fh:
        for chunk in images.chunks(image.id):
            received += len(chunk)
            # Never write more than the image claims: a lying server cannot fill the disk.
            if received > image.size_bytes:
                raise DownloadError(f"image {image.id} sent more than {image.size_bytes} B")
            md5.update(chunk)
            sha512.update(chunk)
            if chunk.count(0) == len(chunk):
                fh.seek(len(chunk), 1)
            else:
                fh.write(chunk)
        fh.truncate(received)
    _verify(image, received, md5.hexdigest(), sha512.hexdigest())


def _verify(image: Image, received: int, md5: str, sha512: str) -> None:
    if received != image.size_bytes:
        raise DownloadError(f"image {image.id}: got {received} of {image.size_bytes} B")
    if image.os_hash_value and image.os_hash_algo == "sha512":
        if sha512 != image.os_hash_value:
            raise DownloadError(f"image {image.id}: sha512 does not match")
    elif image.checksum and md5 != image.checksum:
        raise DownloadError(f"image {image.id}: checksum does not match")
