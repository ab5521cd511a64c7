"""The filesystem store and the streaming digests."""

import hashlib
import os
import uuid

import pytest

from components.image.digests import StreamDigests
from components.image.store import FilesystemStore


@pytest.fixture
def store(tmp_path):
    return FilesystemStore(tmp_path / "image", fsync=True)


def test_written_data_appears_only_on_commit(store):
    image_id = str(uuid.uuid4())
    writer = store.writer(image_id)
    writer.write(b"abc")
    writer.write(memoryview(b"def"))
    assert not store.path(image_id).exists()
    writer.commit()
    with store.open(image_id) as data:
        assert data.read() == b"abcdef"
    assert list(store.incoming.iterdir()) == []


def test_aborted_write_leaves_no_file(store):
    image_id = str(uuid.uuid4())
    writer = store.writer(image_id)
    writer.write(b"partial")
    writer.abort()
    writer.abort()
    assert not store.path(image_id).exists()
    assert list(store.incoming.iterdir()) == []


def test_two_writers_of_one_image_use_separate_files(store):
    image_id = str(uuid.uuid4())
    first, second = store.writer(image_id), store.writer(image_id)
    assert first.temporary != second.temporary
    first.abort()
    second.abort()


def test_commit_onto_a_directory_raises_and_abort_cleans_up(store):
    image_id = str(uuid.uuid4())
    store.path(image_id).mkdir()
    writer = store.writer(image_id)
    writer.write(b"x")
    with pytest.raises(OSError):
        writer.commit()
    writer.abort()
    assert list(store.incoming.iterdir()) == []


def test_delete_is_idempotent_and_open_of_missing_data_is_file_not_found(store):
    image_id = str(uuid.uuid4())
    store.delete(image_id)
    with pytest.raises(FileNotFoundError):
        store.open(image_id)


@pytest.mark.parametrize("bad", ["../etc/passwd", "x", str(uuid.uuid4()).upper()])
def test_non_uuid_image_id_never_becomes_a_path(store, bad):
    with pytest.raises(ValueError):
        store.path(bad)


def test_clean_incoming_removes_leftovers_of_a_crash(store):
    writer = store.writer(str(uuid.uuid4()))
    writer.write(b"x")
    writer._file.close()
    assert store.clean_incoming() == 1
    assert list(store.incoming.iterdir()) == []


def test_stream_digests_equal_hashlib_of_the_whole(store):
    chunks = [os.urandom(n) for n in (1, 1024 * 1024, 7, 300_000)]
    with StreamDigests() as digests:
        for chunk in chunks:
            digests.update(memoryview(chunk))
        md5, sha512 = digests.hexdigests()
    whole = b"".join(chunks)
    assert md5 == hashlib.md5(whole).hexdigest()
    assert sha512 == hashlib.sha512(whole).hexdigest()


def test_stream_digests_of_nothing_are_the_empty_hashes():
    assert StreamDigests().hexdigests() == (
        hashlib.md5(b"").hexdigest(),
        hashlib.sha512(b"").hexdigest(),
    )
