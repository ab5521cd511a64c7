"""Moving image bytes: uploads into the store and downloads out of it, as streams.

An upload is checked as it streams (chunk sizes, the size limit, the disk
format from the first chunks) and hashed on the side (MD5 and SHA-512), then
committed to the store and the record made ACTIVE. Any failure before that
drops the partial data and puts the image back in QUEUED, so the upload can
simply be retried; a store that fails while committing leaves it KILLED.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from components.framework import (
    Caller,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    new_id,
    validation,
)
from components.image import access, formats, images, states
from components.image.digests import OS_HASH_ALGO, StreamDigests
from components.image.models import Image
from components.image.store import ImageStore, StoreWriter

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
_HEX = frozenset("0123456789abcdef")


@dataclasses.dataclass(frozen=True)
class UploadHeader:
    """What the first message of an upload says about the data that follows."""

    image_id: str
    checksum: str = ""
    os_hash_value: str = ""
    size_bytes: int | None = None


@dataclasses.dataclass(frozen=True)
class Received:
    size_bytes: int
    virtual_size_bytes: int
    checksum: str
    os_hash_value: str


def _hex_digest(field: str, value: str, digits: int) -> str:
    value = value.lower()
    if value and (len(value) != digits or not set(value) <= _HEX):
        raise InvalidArgument(f"{field} must be {digits} hex digits", field=field)
    return value


def _checked(header: UploadHeader, max_bytes: int) -> UploadHeader:
    size = header.size_bytes
    if size is not None:
        validation.non_negative("size_bytes", size)
        if size > max_bytes:
            raise ResourceExhausted(
                f"size_bytes {size} exceeds the maximum image size of {max_bytes} bytes",
                reason="IMAGE_TOO_LARGE",
            )
    return dataclasses.replace(
        header,
        image_id=validation.uuid_str("image_id", header.image_id),
        checksum=_hex_digest("checksum", header.checksum, 32),
        os_hash_value=_hex_digest("os_hash_value", header.os_hash_value, 128),
    )


class ImageData:
    """The bytes of every image: one per service, shared by all its RPC threads."""

    def __init__(self, store: ImageStore, max_image_bytes: int) -> None:
        self.store = store
        self.max_image_bytes = max_image_bytes
        # Uploads running in this process, so that a delete can stop them early.
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def recover(self) -> None:
        """At start: uploads cut off by a crash go back to QUEUED, their data away."""
        requeued = images.requeue_interrupted_uploads()
        if requeued:
            log.warning("%d uploads were interrupted by a restart; images requeued", requeued)
        self.store.clean_incoming()

    def discard(self, image_id: str) -> None:
        """After the record is deleted: stop its upload, remove its data."""
        with self._lock:
            running = self._running.get(image_id)
        if running is not None:
            running.set()
        self.store.delete(image_id)

    def upload(
        self,
        who: Caller,
        header: UploadHeader,
        chunks: Iterable[bytes],
        confirm_end: Callable[[], None] = lambda: None,
    ) -> Image:
        """Stores ``chunks`` as the data of the image the header names.

        ``confirm_end()`` is called once the data is checked, before it is
        committed; it raises if the stream did not really end on purpose.
        """
        header = _checked(header, self.max_image_bytes)
        image = access.find_changeable(who, header.image_id)
        upload_id = new_id()
        image = images.transition(image, states.BEGIN_UPLOAD, upload_id=upload_id)
        deleted = threading.Event()
        with self._lock:
            self._running[image.id] = deleted
        writer = None
        try:
            writer = self.store.writer(image.id)
            received = self._receive(image, header, chunks, writer, deleted)
            confirm_end()
        except BaseException:
            if writer is not None:
                writer.abort()
            images.settle_upload(image.id, upload_id, states.ABORT_UPLOAD)
            raise
        finally:
            with self._lock:
                self._running.pop(image.id, None)
        return self._commit(image, upload_id, writer, received)

    def _receive(
        self,
        image: Image,
        header: UploadHeader,
        chunks: Iterable[bytes],
        writer: StoreWriter,
        deleted: threading.Event,
    ) -> Received:
        inspector = formats.inspector_for(image.disk_format)
        limit = self.max_image_bytes if header.size_bytes is None else header.size_bytes
        size = 0
        with StreamDigests() as digests:
            for chunk in chunks:
                if deleted.is_set():
                    raise NotFound(f"image {image.id} was deleted during the upload")
                size += _chunk_length(chunk)
                if size > limit:
                    raise _too_much(size, header, self.max_image_bytes)
                view = memoryview(chunk)
                inspector.feed(view)
                digests.update(view)
                writer.write(view)
            checksum, os_hash_value = digests.hexdigests()
        if header.size_bytes is not None and size != header.size_bytes:
            raise InvalidArgument(
                f"received {size} bytes, the header announced {header.size_bytes}",
                field="size_bytes",
            )
        virtual_size = inspector.finish(size)
        _verify("checksum", header.checksum, checksum)
        _verify("os_hash_value", header.os_hash_value, os_hash_value)
        return Received(size, virtual_size, checksum, os_hash_value)

    def _commit(
        self, image: Image, upload_id: str, writer: StoreWriter, received: Received
    ) -> Image:
        try:
            writer.commit()
        except OSError:
            log.exception("the store failed to commit the data of image %s", image.id)
            writer.abort()
            images.settle_upload(image.id, upload_id, states.KILL)
            raise Internal(
                f"the image store failed while saving image {image.id}; the image is killed",
                reason="IMAGE_STORE_FAILED",
            ) from None
        try:
            active = images.settle_upload(
                image.id,
                upload_id,
                states.FINISH_UPLOAD,
                size_bytes=received.size_bytes,
                virtual_size_bytes=received.virtual_size_bytes,
                checksum=received.checksum,
                os_hash_algo=OS_HASH_ALGO,
                os_hash_value=received.os_hash_value,
            )
        except BaseException:
            self.store.delete(image.id)
            images.settle_upload(image.id, upload_id, states.ABORT_UPLOAD)
            raise
        if not active:
            self.store.delete(image.id)
            raise NotFound(f"image {image.id} was deleted during the upload")
        log.info("image %s active: %d bytes", image.id, received.size_bytes)
        return images.load(image.id)

    def download(self, who: Caller, image_id: str, offset: int) -> Iterator[tuple[int, bytes]]:
        """(offset, chunk) pairs from ``offset`` to the end of the image's data."""
        image = access.find(who, image_id)
        if not states.can_download(image.status, who.is_admin):
            raise FailedPrecondition(
                f"image {image.id} is {image.status}; only active images can be downloaded",
                reason="IMAGE_NOT_ACTIVE",
                status=image.status,
            )
        if not 0 <= offset <= image.size_bytes:
            raise InvalidArgument(
                f"offset_bytes must be between 0 and the image's size ({image.size_bytes})",
                field="offset_bytes",
            )
        try:
            data = self.store.open(image.id)
        except FileNotFoundError:
            log.error("the data of image %s is missing from the store; killing it", image.id)
            images.transition(image, states.KILL)
            raise Internal(
                f"the data of image {image.id} is lost; the image is killed",
                reason="IMAGE_DATA_MISSING",
            ) from None
        return _read(data, image, offset)


def _read(data: BinaryIO, image: Image, offset: int) -> Iterator[tuple[int, bytes]]:
    with data:
        data.seek(offset)
        while offset < image.size_bytes:
            chunk = data.read(min(CHUNK_BYTES, image.size_bytes - offset))
            if not chunk:
                raise Internal(f"the data of image {image.id} is shorter than its size")
            yield offset, chunk
            offset += len(chunk)


def _chunk_length(chunk: bytes) -> int:
    length = len(chunk)
    if not 0 < length <= CHUNK_BYTES:
        raise InvalidArgument(
            f"a chunk carries 1 to {CHUNK_BYTES} bytes, this one {length}", field="chunk"
        )
    return length


def _too_much(size: int, header: UploadHeader, max_bytes: int) -> Exception:
    if header.size_bytes is not None:
        return InvalidArgument(
            f"more data than the {header.size_bytes} bytes the header announced",
            field="size_bytes",
        )
    return ResourceExhausted(
        f"the data exceeds the maximum image size of {max_bytes} bytes",
        reason="IMAGE_TOO_LARGE",
    )


def _verify(field: str, expected: str, actual: str) -> None:
    if expected and expected != actual:
        raise InvalidArgument(
            f"the data's {field} is {actual}, the header expected {expected}",
            reason="CHECKSUM_MISMATCH",
            field=field,
        )
