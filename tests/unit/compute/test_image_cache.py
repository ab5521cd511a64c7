"""The host image cache: one verified download per image, nothing left by a bad one."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from components.compute.image_cache import ImageCache
from components.framework.image_client import Image, ImageCorrupt

DATA = b"stratus image bytes " * 5000


def record(data: bytes = DATA, checksum: str | None = None, image_id: str = "img-1") -> Image:
    return Image(
        id=image_id,
        disk_format="raw",
        size_bytes=len(data),
        virtual_size_bytes=len(data),
        checksum=checksum if checksum is not None else hashlib.md5(data).hexdigest(),
    )


class Source:
    """The far side of the download: counts downloads, optionally slow."""

    def __init__(self, data: bytes = DATA, delay: float = 0.0) -> None:
        self.data = data
        self.delay = delay
        self.downloads = 0
        self.lock = threading.Lock()

    def chunks(self):
        with self.lock:
            self.downloads += 1
        for start in range(0, len(self.data), 4096):
            time.sleep(self.delay)
            yield self.data[start : start + 4096]


def test_ten_concurrent_builds_of_one_image_download_it_once(tmp_path):
    cache = ImageCache(tmp_path / "_base")
    source = Source(delay=0.002)
    results, errors = [], []

    def build():
        try:
            results.append(cache.fetch(record(), source.chunks))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert source.downloads == 1
    assert len(results) == 10 and len(set(results)) == 1
    assert results[0] == tmp_path / "_base" / "img-1"
    assert results[0].read_bytes() == DATA


def test_cached_image_is_not_downloaded_again(tmp_path):
    cache = ImageCache(tmp_path / "_base")
    source = Source()
    first = cache.fetch(record(), source.chunks)
    second = cache.fetch(record(), source.chunks)
    assert first == second and source.downloads == 1


def test_different_images_download_separately(tmp_path):
    cache = ImageCache(tmp_path / "_base")
    source = Source()
    cache.fetch(record(image_id="a"), source.chunks)
    cache.fetch(record(image_id="b"), source.chunks)
    assert source.downloads == 2
    assert sorted(p.name for p in (tmp_path / "_base").iterdir()) == ["a", "b"]


def test_checksum_mismatch_fails_and_leaves_nothing(tmp_path):
    cache = ImageCache(tmp_path / "_base")
    with pytest.raises(ImageCorrupt) as info:
        cache.fetch(record(checksum="0" * 32), Source().chunks)
    assert info.value.reason == "IMAGE_CHECKSUM_MISMATCH"
    assert list((tmp_path / "_base").iterdir()) == []


def test_short_download_fails_and_leaves_nothing(tmp_path):
    cache = ImageCache(tmp_path / "_base")
    with pytest.raises(ImageCorrupt):
        cache.fetch(record(), Source(DATA[:-10]).chunks)
    assert list((tmp_path / "_base").iterdir()) == []


def test_download_interrupted_by_an_error_leaves_nothing_and_can_be_retried(tmp_path):
    cache = ImageCache(tmp_path / "_base")

    def broken():
        yield DATA[:4096]
        raise ConnectionError("image service went away")

    with pytest.raises(ConnectionError):
        cache.fetch(record(), broken)
    assert list((tmp_path / "_base").iterdir()) == []
    assert cache.fetch(record(), Source().chunks).read_bytes() == DATA


def test_waiters_retry_after_the_first_download_fails(tmp_path):
    cache = ImageCache(tmp_path / "_base")
    bad = record(checksum="f" * 32)
    with pytest.raises(ImageCorrupt):
        cache.fetch(bad, Source().chunks)
    source = Source()
    assert cache.fetch(record(), source.chunks).exists() and source.downloads == 1


def test_clean_partial_removes_downloads_left_by_a_crash(tmp_path):
    base = tmp_path / "_base"
    base.mkdir()
    (base / ".img-1.abc.part").write_bytes(b"half")
    (base / "img-2").write_bytes(b"whole")
    ImageCache(base).clean_partial()
    assert [p.name for p in base.iterdir()] == ["img-2"]
