"""The CLI's transfer stages: data in order, errors back to the caller, threads stopped."""

from __future__ import annotations

import hashlib
import threading

import pytest

from components.cli import streams


def test_read_ahead_yields_the_file_in_order_and_hashes_all_of_it(tmp_path):
    data = bytes(range(256)) * 1000 + b"tail"
    path = tmp_path / "data"
    path.write_bytes(data)
    md5 = hashlib.md5(usedforsecurity=False)
    chunks = list(streams.read_ahead(path, 4096, md5.update))
    assert b"".join(chunks) == data
    assert all(len(c) == 4096 for c in chunks[:-1])
    assert md5.hexdigest() == hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_read_ahead_closed_early_stops_its_thread(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(b"x" * 100_000)
    before = set(threading.enumerate())
    chunks = streams.read_ahead(path, 10, lambda chunk: None)
    assert next(chunks) == b"x" * 10
    assert set(threading.enumerate()) - before  # the reader runs beside the consumer
    chunks.close()
    # Only the reader's own thread counts: threads of earlier tests may end meanwhile.
    assert not set(threading.enumerate()) - before


def test_read_ahead_of_a_missing_file_raises_in_the_consumer(tmp_path):
    with pytest.raises(FileNotFoundError):
        list(streams.read_ahead(tmp_path / "missing", 10, lambda chunk: None))


def test_behind_applies_the_work_in_order_before_the_block_ends():
    seen = []
    with streams.behind(seen.append) as put:
        for i in range(100):
            put(bytes([i]))
    assert seen == [bytes([i]) for i in range(100)]


def test_behind_raises_the_works_error():
    def fail(chunk):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), streams.behind(fail) as put:
        for _ in range(20):
            put(b"x")
