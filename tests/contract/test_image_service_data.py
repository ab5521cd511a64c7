"""Contract of stratus.image.v1.Images: UploadImage and DownloadImage.

Format attacks, interrupted and concurrent uploads, the KILLED path, resumed
downloads. Records and visibility are in test_image_service.py.
"""

import hashlib
import os
import struct

import grpc
import pytest

from components.image.models import Image as ImageRow
from stratus.image.v1 import image_service_pb2 as pb2
from tests.contract import image_fixtures
from tests.contract.image_fixtures import (
    MAX_IMAGE_BYTES,
    MIB,
    MISSING,
    HeldUpload,
    Image,
    code_of,
    md,
    qcow2,
)


@pytest.fixture
def api(database_url, tmp_path):
    yield from image_fixtures.serve(database_url, tmp_path)


INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION

# Which test exercises each error case the proto comments name (test_conformance.py).
CONTRACT_CASES = {
    "stratus.image.v1.Images/UploadImage": {
        "INVALID_ARGUMENT": (
            "test_upload_not_matching_its_header_is_invalid_and_leaves_the_image_queued"
        ),
        "NOT_FOUND": "test_upload_into_a_missing_or_invisible_image_is_not_found",
        "PERMISSION_DENIED": "test_upload_into_another_projects_public_image_is_permission_denied",
        "FAILED_PRECONDITION": "test_upload_into_an_active_image_is_failed_precondition",
    },
    "stratus.image.v1.Images/DownloadImage": {
        "INVALID_ARGUMENT": "test_download_offset_outside_the_data_is_invalid_argument",
        "NOT_FOUND": "test_download_visibility_follows_the_image",
        "FAILED_PRECONDITION": "test_download_of_a_queued_image_is_failed_precondition",
    },
}


def assert_back_in_queued_with_no_data(api, image_id):
    image = api.get(image_id, "admin")
    assert image.status == Image.STATUS_QUEUED
    assert (image.size_bytes, image.checksum, image.os_hash_value) == (0, "", "")
    assert api.stored_files() == []


def test_upload_image_makes_it_active_with_size_and_hashes(api):
    data = os.urandom(2 * MIB + 123)
    image = api.create(name="raw")
    uploaded = api.upload(image.id, data, chunk=MIB)
    assert uploaded.status == Image.STATUS_ACTIVE
    assert uploaded.size_bytes == uploaded.virtual_size_bytes == len(data)
    assert uploaded.checksum == hashlib.md5(data).hexdigest()
    assert uploaded.os_hash_algo == "sha512"
    assert uploaded.os_hash_value == hashlib.sha512(data).hexdigest()
    assert api.get(image.id) == uploaded
    assert api.stored_files() == [image.id]
    assert (api.store_root / image.id).read_bytes() == data


def test_upload_qcow2_from_qemu_img_records_its_virtual_size(api, tmp_path):
    data = qcow2(tmp_path, "disk.qcow2", "-o", "size=64M")
    image = api.create(disk_format=Image.DISK_FORMAT_QCOW2)
    uploaded = api.upload(image.id, data, chunk=4096)
    assert uploaded.status == Image.STATUS_ACTIVE
    assert uploaded.size_bytes == len(data)
    assert uploaded.virtual_size_bytes == 64 * MIB


def test_upload_with_matching_expected_hashes_and_size_succeeds(api):
    data = os.urandom(5000)
    image = api.create()
    uploaded = api.upload(
        image.id,
        data,
        checksum=hashlib.md5(data).hexdigest().upper(),
        os_hash_value=hashlib.sha512(data).hexdigest(),
        size_bytes=len(data),
    )
    assert uploaded.status == Image.STATUS_ACTIVE


def test_upload_of_an_empty_raw_image_is_active_with_size_zero(api):
    image = api.create()
    uploaded = api.upload(image.id, b"")
    assert (uploaded.status, uploaded.size_bytes) == (Image.STATUS_ACTIVE, 0)
    assert uploaded.checksum == hashlib.md5(b"").hexdigest()


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"checksum": "0" * 32}, "CHECKSUM_MISMATCH"),
        ({"os_hash_value": "f" * 128}, "CHECKSUM_MISMATCH"),
        ({"size_bytes": 4999}, "INVALID_ARGUMENT"),
        ({"size_bytes": 5001}, "INVALID_ARGUMENT"),
        ({"checksum": "not hex"}, "INVALID_ARGUMENT"),
        ({"os_hash_value": "abc"}, "INVALID_ARGUMENT"),
    ],
)
def test_upload_not_matching_its_header_is_invalid_and_leaves_the_image_queued(api, header, reason):
    image = api.create()
    assert code_of(api.upload, image.id, os.urandom(5000), **header) == (INVALID, reason)
    assert_back_in_queued_with_no_data(api, image.id)


def test_upload_chunk_over_1_mib_is_invalid_argument_and_leaves_no_data(api):
    image = api.create()
    code = code_of(api.upload, image.id, os.urandom(MIB + 1), chunk=MIB + 1)
    assert code[0] == INVALID
    assert_back_in_queued_with_no_data(api, image.id)


def test_upload_whose_first_message_is_not_a_header_is_invalid_argument(api):
    requests = iter([pb2.UploadImageRequest(chunk=b"data")])
    assert code_of(api.stub.UploadImage, requests, metadata=md("alice"))[0] == INVALID


def test_upload_with_a_second_header_is_invalid_and_leaves_the_image_queued(api):
    image = api.create()
    header = pb2.UploadImageHeader(image_id=image.id)
    requests = iter(
        [
            pb2.UploadImageRequest(header=header),
            pb2.UploadImageRequest(chunk=b"data"),
            pb2.UploadImageRequest(header=header),
        ]
    )
    assert code_of(api.stub.UploadImage, requests, metadata=md("alice"))[0] == INVALID
    assert_back_in_queued_with_no_data(api, image.id)


def test_upload_with_an_empty_message_is_invalid_argument(api):
    image = api.create()
    requests = iter(
        [
            pb2.UploadImageRequest(header=pb2.UploadImageHeader(image_id=image.id)),
            pb2.UploadImageRequest(),
        ]
    )
    assert code_of(api.stub.UploadImage, requests, metadata=md("alice"))[0] == INVALID
    assert_back_in_queued_with_no_data(api, image.id)


def test_upload_past_the_maximum_image_size_is_resource_exhausted(api):
    image = api.create()
    code = code_of(api.upload, image.id, os.urandom(MAX_IMAGE_BYTES + 1))
    assert code == (grpc.StatusCode.RESOURCE_EXHAUSTED, "IMAGE_TOO_LARGE")
    assert_back_in_queued_with_no_data(api, image.id)


def test_upload_announcing_more_than_the_maximum_is_refused_at_once(api):
    image = api.create()
    code = code_of(api.upload, image.id, b"x", size_bytes=MAX_IMAGE_BYTES + 1)
    assert code == (grpc.StatusCode.RESOURCE_EXHAUSTED, "IMAGE_TOO_LARGE")
    assert api.get(image.id).status == Image.STATUS_QUEUED


def test_upload_into_an_active_image_is_failed_precondition(api):
    image = api.active()
    code = code_of(api.upload, image.id, b"again")
    assert code == (PRECONDITION, "IMAGE_STATUS_CONFLICT")
    assert api.get(image.id).size_bytes == 3000


def test_upload_into_a_missing_or_invisible_image_is_not_found(api):
    assert code_of(api.upload, MISSING, b"x")[0] == NOT_FOUND
    image = api.create()
    assert code_of(api.upload, image.id, b"x", "bob")[0] == NOT_FOUND
    assert code_of(api.upload, "junk", b"x")[0] == INVALID


def test_upload_into_another_projects_public_image_is_permission_denied(api):
    image = api.create("admin", visibility=Image.VISIBILITY_PUBLIC)
    assert code_of(api.upload, image.id, b"x", "bob") == (
        grpc.StatusCode.PERMISSION_DENIED,
        "IMAGE_NOT_OWNED",
    )
    assert code_of(api.upload, image.id, b"x", "reader")[0] == grpc.StatusCode.PERMISSION_DENIED


def test_upload_retried_with_its_request_id_returns_the_active_image(api):
    image = api.create()
    data = os.urandom(4000)
    request_id = "c7a1e0d4-5b6f-4f3e-8a2d-9e8f7a6b5c4d"
    first = api.upload(image.id, data, request_id=request_id)
    again = api.upload(image.id, b"different bytes", request_id=request_id)
    assert again == first
    assert again.checksum == hashlib.md5(data).hexdigest()


# Format attacks


def test_qcow2_with_a_backing_file_is_refused(api, tmp_path):
    qcow2(tmp_path, "base.qcow2", "-o", "size=1M")
    data = qcow2(tmp_path, "evil.qcow2", "-b", "base.qcow2", "-F", "qcow2")
    image = api.create(disk_format=Image.DISK_FORMAT_QCOW2)
    assert code_of(api.upload, image.id, data) == (INVALID, "QCOW2_BACKING_FILE")
    assert_back_in_queued_with_no_data(api, image.id)


HOST_FILE = b"/etc/hostname"
SCRATCH = b"scratch.data1"  # as long as HOST_FILE, so the header keeps its layout
EXT_DATA_FILE = 0x44415441


def data_file_named(header: bytes) -> bytes | None:
    """The external data file a qcow2 v3 header's extensions name, if any."""
    (offset,) = struct.unpack_from(">I", header, 100)
    while offset + 8 <= len(header):
        kind, length = struct.unpack_from(">II", header, offset)
        if kind == 0:
            return None
        if kind == EXT_DATA_FILE:
            return header[offset + 8 : offset + 8 + length]
        offset += 8 + (length + 7) // 8 * 8
    return None


def qcow2_naming_a_host_data_file(tmp_path) -> bytes:
    """A qcow2 whose header names /etc/hostname as its external data file.

    qemu-img creates and zero-fills the data file it is given, so it only ever
    sees a scratch file in tmp_path; the name is then rewritten in the header
    bytes. Naming the host file is harmless: nothing here opens it.
    """
    data = qcow2(tmp_path, "evil.qcow2", "-o", f"data_file={SCRATCH.decode()},size=1M")
    assert data_file_named(data) == SCRATCH
    evil = data.replace(SCRATCH, HOST_FILE, 1)
    assert data_file_named(evil) == HOST_FILE
    return evil


def test_qcow2_with_an_external_data_file_is_refused(api, tmp_path):
    data = qcow2_naming_a_host_data_file(tmp_path)
    image = api.create(disk_format=Image.DISK_FORMAT_QCOW2)
    assert code_of(api.upload, image.id, data) == (INVALID, "QCOW2_DATA_FILE")
    assert_back_in_queued_with_no_data(api, image.id)


def test_qcow2_uploaded_as_raw_is_refused(api, tmp_path):
    data = qcow2(tmp_path, "disk.qcow2", "-o", "size=1M")
    image = api.create(disk_format=Image.DISK_FORMAT_RAW)
    assert code_of(api.upload, image.id, data) == (INVALID, "DISK_FORMAT_MISMATCH")
    assert_back_in_queued_with_no_data(api, image.id)


def test_raw_bytes_uploaded_as_qcow2_are_refused(api):
    image = api.create(disk_format=Image.DISK_FORMAT_QCOW2)
    assert code_of(api.upload, image.id, os.urandom(MIB)) == (INVALID, "DISK_FORMAT_MISMATCH")
    assert_back_in_queued_with_no_data(api, image.id)


def test_refused_upload_can_be_retried_with_good_data(api, tmp_path):
    image = api.create(disk_format=Image.DISK_FORMAT_QCOW2)
    code_of(api.upload, image.id, os.urandom(1000))
    uploaded = api.upload(image.id, qcow2(tmp_path, "good.qcow2", "-o", "size=2M"))
    assert uploaded.status == Image.STATUS_ACTIVE


# Interrupted, concurrent and killed uploads


def test_cancelled_upload_leaves_no_partial_file_and_the_image_queued(api):
    image = api.create()
    held = HeldUpload(api, "alice", image.id)
    assert api.get(image.id).status == Image.STATUS_SAVING
    held.future.cancel()
    held.release()
    api.wait_status(image.id, Image.STATUS_QUEUED)
    assert_back_in_queued_with_no_data(api, image.id)
    assert api.upload(image.id, b"retry").status == Image.STATUS_ACTIVE


def test_upload_whose_client_stream_fails_leaves_the_image_queued(api):
    image = api.create()

    def requests():
        yield pb2.UploadImageRequest(header=pb2.UploadImageHeader(image_id=image.id))
        yield pb2.UploadImageRequest(chunk=os.urandom(MIB))
        api.wait_status(image.id, Image.STATUS_SAVING)
        raise OSError("the disk the client reads from failed")

    with pytest.raises(grpc.RpcError):
        api.stub.UploadImage(requests(), metadata=md("alice"))
    api.wait_status(image.id, Image.STATUS_QUEUED)
    assert_back_in_queued_with_no_data(api, image.id)


def test_concurrent_second_upload_is_failed_precondition(api):
    image = api.create()
    held = HeldUpload(api, "alice", image.id)
    code = code_of(api.upload, image.id, b"second", "ann")
    assert code == (PRECONDITION, "IMAGE_STATUS_CONFLICT")
    uploaded = held.release().result(timeout=10)
    assert uploaded.status == Image.STATUS_ACTIVE
    assert uploaded.checksum == hashlib.md5(b"headtail").hexdigest()


def test_delete_during_an_upload_aborts_it_and_leaves_nothing(api):
    image = api.create()
    held = HeldUpload(api, "alice", image.id)
    api.delete(image.id)
    with pytest.raises(grpc.RpcError) as info:
        held.release().result(timeout=10)
    assert info.value.code() == NOT_FOUND
    assert code_of(api.get, image.id, "admin")[0] == NOT_FOUND
    assert api.stored_files() == []


def test_store_failing_to_commit_kills_the_image(api):
    image = api.create()
    (api.store_root / image.id).mkdir()  # the rename into place will fail
    code = code_of(api.upload, image.id, b"data")
    assert code == (grpc.StatusCode.INTERNAL, "IMAGE_STORE_FAILED")
    assert api.get(image.id).status == Image.STATUS_KILLED
    assert code_of(api.upload, image.id, b"data")[0] == PRECONDITION
    assert code_of(api.download, image.id)[0] == PRECONDITION
    (api.store_root / image.id).rmdir()
    api.delete(image.id)
    assert api.stored_files() == []


def test_active_image_whose_data_is_lost_is_killed_on_download(api):
    image = api.active()
    (api.store_root / image.id).unlink()
    assert code_of(api.download, image.id) == (grpc.StatusCode.INTERNAL, "IMAGE_DATA_MISSING")
    assert api.get(image.id).status == Image.STATUS_KILLED


def test_restart_requeues_uploads_cut_off_by_a_crash(api):
    image = api.create()
    ImageRow.update(status="saving", upload_id=MISSING).where(ImageRow.id == image.id).execute()
    leftover = api.store_root / "incoming" / f"{image.id}.dead.part"
    leftover.write_bytes(b"partial")
    api.runtime.state["data"].recover()
    assert_back_in_queued_with_no_data(api, image.id)


# DownloadImage


def test_download_streams_the_data_in_chunks_of_at_most_1_mib_with_offsets(api):
    data = os.urandom(2 * MIB + 5)
    image = api.active(data=data)
    chunks = api.download(image.id)
    assert [len(c.chunk) for c in chunks] == [MIB, MIB, 5]
    assert [c.offset_bytes for c in chunks] == [0, MIB, 2 * MIB]
    assert b"".join(c.chunk for c in chunks) == data


def test_download_resumes_from_an_offset(api):
    data = os.urandom(MIB + 100)
    image = api.active(data=data)
    chunks = api.download(image.id, offset=1000)
    assert chunks[0].offset_bytes == 1000
    assert b"".join(c.chunk for c in chunks) == data[1000:]


def test_download_from_the_end_sends_no_chunk(api):
    image = api.active(data=b"12345")
    assert api.download(image.id, offset=5) == []


@pytest.mark.parametrize("offset", [-1, 6, 10**12])
def test_download_offset_outside_the_data_is_invalid_argument(api, offset):
    image = api.active(data=b"12345")
    assert code_of(api.download, image.id, offset=offset)[0] == INVALID


def test_download_of_a_queued_image_is_failed_precondition(api):
    image = api.create()
    assert code_of(api.download, image.id) == (PRECONDITION, "IMAGE_NOT_ACTIVE")


def test_download_of_a_deactivated_image_is_for_admins_only(api):
    image = api.active(data=b"secret")
    api.stub.DeactivateImage(pb2.DeactivateImageRequest(image_id=image.id), metadata=md("admin"))
    assert code_of(api.download, image.id) == (PRECONDITION, "IMAGE_NOT_ACTIVE")
    assert b"".join(c.chunk for c in api.download(image.id, "admin")) == b"secret"


def test_download_visibility_follows_the_image(api):
    private = api.active(data=b"mine")
    assert code_of(api.download, private.id, "bob")[0] == NOT_FOUND
    assert api.download(private.id, "reader")[0].chunk == b"mine"
    assert api.download(private.id, "service")[0].chunk == b"mine"
    public = api.active("admin", data=b"ours", visibility=Image.VISIBILITY_PUBLIC)
    assert api.download(public.id, "bob")[0].chunk == b"ours"
    assert code_of(api.download, MISSING)[0] == NOT_FOUND


def test_download_by_a_malformed_image_id_is_invalid_argument(api):
    assert code_of(api.download, "junk")[0] == INVALID
