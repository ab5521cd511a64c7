"""The file backend on real files: sparse create, extend, delete, image writes, failures."""

import os
import subprocess
import uuid

import pytest

from components.volume.backend import GIB, BackendError, FileBackend


@pytest.fixture
def backend(tmp_path):
    return FileBackend(tmp_path / "volume")


@pytest.fixture
def volume_id():
    return str(uuid.uuid4())


def names(backend):
    return sorted(p.name for p in backend.root.iterdir())


def qcow2_of(tmp_path, data: bytes, name="image"):
    raw = tmp_path / f"{name}.raw"
    raw.write_bytes(data)
    out = tmp_path / f"{name}.qcow2"
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(out)], check=True
    )
    return out


def test_create_makes_sparse_file_of_the_size(backend, volume_id):
    path = backend.create(volume_id, 2)
    assert path == backend.root / volume_id
    assert path.stat().st_size == 2 * GIB
    assert path.stat().st_blocks * 512 < 1024 * 1024
    assert names(backend) == [volume_id]


def test_create_twice_refuses_and_keeps_the_first_file(backend, volume_id):
    path = backend.create(volume_id, 1)
    path.write_bytes(b"data")
    with pytest.raises(BackendError, match="already has a file"):
        backend.create(volume_id, 1)
    assert path.read_bytes() == b"data"


def test_create_failure_leaves_no_partial_file(backend, volume_id):
    # A directory where the file should go: the final rename fails after the
    # partial file was written.
    (backend.root / volume_id).mkdir()
    (backend.root / volume_id / "x").touch()
    blocker = backend.root / volume_id
    with pytest.raises(BackendError):
        backend.create(volume_id, 1)
    assert names(backend) == [volume_id]
    assert blocker.is_dir()


def test_create_in_missing_storage_is_backend_error(tmp_path, volume_id):
    backend = FileBackend(tmp_path / "volume")
    backend.root.rmdir()
    backend.root.write_text("not a directory")
    with pytest.raises(BackendError):
        backend.create(volume_id, 1)


def test_path_refuses_ids_that_are_not_uuids(backend):
    with pytest.raises(ValueError):
        backend.path("../../etc/passwd")


def test_extend_keeps_data_and_zero_fills(backend, volume_id):
    path = backend.create(volume_id, 1)
    with open(path, "r+b") as fh:
        fh.write(b"keep me")
    backend.extend(volume_id, 3)
    assert path.stat().st_size == 3 * GIB
    with open(path, "rb") as fh:
        assert fh.read(7) == b"keep me"
        fh.seek(2 * GIB)
        assert fh.read(16) == bytes(16)


def test_extend_never_shrinks(backend, volume_id):
    backend.create(volume_id, 2)
    with pytest.raises(BackendError, match="larger than 1 GiB"):
        backend.extend(volume_id, 1)
    assert backend.path(volume_id).stat().st_size == 2 * GIB


def test_extend_of_missing_file_is_backend_error(backend, volume_id):
    with pytest.raises(BackendError, match="cannot extend"):
        backend.extend(volume_id, 2)
    assert names(backend) == []


def test_delete_unlinks_and_is_idempotent(backend, volume_id):
    backend.create(volume_id, 1)
    backend.delete(volume_id)
    assert names(backend) == []
    backend.delete(volume_id)


def test_delete_failure_is_backend_error(backend, volume_id):
    (backend.root / volume_id).mkdir()
    with pytest.raises(BackendError, match="cannot delete"):
        backend.delete(volume_id)


def test_connection_info_names_the_raw_file(backend, volume_id):
    backend.create(volume_id, 1)
    info = backend.connection_info(volume_id)
    assert info.driver_volume_type == "file"
    assert info.format == "raw"
    assert info.path == str(backend.root / volume_id)
    assert os.path.isabs(info.path)


def test_connection_info_of_missing_file_is_backend_error(backend, volume_id):
    with pytest.raises(BackendError, match="missing"):
        backend.connection_info(volume_id)


def test_raw_image_is_moved_in_and_grown_to_the_volume_size(backend, volume_id):
    data = os.urandom(100_000)
    with backend.staging(volume_id) as scratch:
        scratch.write_bytes(data)
        path = backend.create_from_image(volume_id, 1, scratch, "raw")
    assert path.stat().st_size == GIB
    with open(path, "rb") as fh:
        assert fh.read(len(data)) == data
        assert fh.read(4096) == bytes(4096)
    assert names(backend) == [volume_id]


def test_raw_image_larger_than_volume_is_refused_without_leftovers(backend, volume_id):
    with backend.staging(volume_id) as scratch:
        with open(scratch, "wb") as fh:
            fh.truncate(GIB + 1)
        with pytest.raises(BackendError, match="larger than 1 GiB"):
            backend.create_from_image(volume_id, 1, scratch, "raw")
    assert names(backend) == []


def test_qcow2_image_is_converted_to_raw(backend, volume_id, tmp_path):
    data = os.urandom(70_000) + bytes(200_000) + b"tail"
    source = qcow2_of(tmp_path, data)
    path = backend.create_from_image(volume_id, 1, source, "qcow2")
    assert path.stat().st_size == GIB
    with open(path, "rb") as fh:
        assert fh.read(len(data)) == data
    assert names(backend) == [volume_id]


def test_qcow2_with_backing_file_is_refused(backend, volume_id, tmp_path):
    secret = tmp_path / "host-secret.raw"
    secret.write_bytes(b"host data")
    evil = tmp_path / "evil.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-f", "qcow2", "-b", str(secret), "-F", "raw", str(evil)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(BackendError, match="backing file"):
        backend.create_from_image(volume_id, 1, evil, "qcow2")
    assert names(backend) == []


def test_qcow2_larger_virtual_size_than_volume_is_refused(backend, volume_id, tmp_path):
    big = tmp_path / "big.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-f", "qcow2", str(big), "2G"], check=True, capture_output=True
    )
    with pytest.raises(BackendError, match="virtual size"):
        backend.create_from_image(volume_id, 1, big, "qcow2")
    assert names(backend) == []


def test_data_that_is_not_qcow2_fails_conversion_without_leftovers(backend, volume_id, tmp_path):
    fake = tmp_path / "fake.qcow2"
    fake.write_bytes(b"not a qcow2 image at all" * 100)
    with pytest.raises(BackendError, match="qemu-img info failed"):
        backend.create_from_image(volume_id, 1, fake, "qcow2")
    assert names(backend) == []


def test_unknown_format_is_refused(backend, volume_id, tmp_path):
    source = tmp_path / "x.vmdk"
    source.write_bytes(b"x")
    with pytest.raises(BackendError, match="vmdk"):
        backend.create_from_image(volume_id, 1, source, "vmdk")


def test_staging_file_is_removed_on_leaving(backend, volume_id):
    with backend.staging(volume_id) as scratch:
        scratch.write_bytes(b"partial download")
    assert names(backend) == []
