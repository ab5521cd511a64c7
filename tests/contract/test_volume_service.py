"""The Volumes contract: the real volume component on 127.0.0.1:0, called through its stub,
on every database backend; a fake image service on the far side of the image contract."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import os
import shutil
import time
import uuid
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2

from components.framework import errors
from components.framework.clock import utcnow
from components.volume.__main__ import COMPONENT
from components.volume.backend import GIB
from components.volume.config import VolumeConfig
from components.volume.models import Quota, Volume
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.volume.v1 import volume_service_pb2 as pb2
from stratus.volume.v1 import volume_service_pb2_grpc as pb2_grpc
from tests.contract.volume_fakes import qcow2_bytes, serving_images
from tests.harness import StaticValidator, caller, metadata, serving_component

PROJECT_A = "aaaaaaaa-0000-4000-8000-000000000001"
PROJECT_B = "bbbbbbbb-0000-4000-8000-000000000002"
ADMIN_PROJECT = "cccccccc-0000-4000-8000-000000000003"
SERVICE_PROJECT = "dddddddd-0000-4000-8000-000000000004"
INSTANCE = "11111111-0000-4000-8000-000000000001"
OTHER_INSTANCE = "22222222-0000-4000-8000-000000000002"
VALIDATOR = StaticValidator(
    {
        "member-a": caller(["member"], project_id=PROJECT_A, token="member-a"),
        "reader-a": caller(["reader"], project_id=PROJECT_A, token="reader-a"),
        "member-b": caller(["member"], project_id=PROJECT_B, token="member-b"),
        "admin": caller(["admin"], project_id=ADMIN_PROJECT, token="admin"),
        "service": caller(["service"], project_id=SERVICE_PROJECT, token="service"),
    }
)
V = pb2.Volume
CODE = grpc.StatusCode

# Which test exercises each error case the proto comments name (test_conformance.py).
CONTRACT_CASES = {
    "stratus.volume.v1.Volumes/CreateVolume": {
        "INVALID_ARGUMENT": "test_create_bad_field_is_invalid_argument_naming_it",
        "NOT_FOUND": "test_create_from_missing_or_invisible_image_is_not_found",
        "PERMISSION_DENIED": "test_create_by_reader_is_permission_denied",
        "FAILED_PRECONDITION": "test_create_from_inactive_image_is_failed_precondition",
    },
    "stratus.volume.v1.Volumes/GetVolume": {
        "INVALID_ARGUMENT": "test_get_missing_or_malformed_volume",
        "NOT_FOUND": "test_get_missing_or_malformed_volume",
    },
    "stratus.volume.v1.Volumes/ListVolumes": {
        "INVALID_ARGUMENT": "test_list_bad_page_token_size_or_changed_filter_is_invalid_argument",
    },
    "stratus.volume.v1.Volumes/DeleteVolume": {
        "INVALID_ARGUMENT": "test_every_change_by_a_malformed_volume_id_is_invalid_argument",
        "NOT_FOUND": "test_delete_other_projects_or_missing_volume_is_not_found",
        "PERMISSION_DENIED": "test_delete_other_projects_or_missing_volume_is_not_found",
        "FAILED_PRECONDITION": "test_delete_in_busy_status_is_failed_precondition",
    },
    "stratus.volume.v1.Volumes/ExtendVolume": {
        "INVALID_ARGUMENT": "test_extend_not_larger_is_invalid_argument",
        "NOT_FOUND": "test_extend_other_projects_volume_is_not_found",
        "PERMISSION_DENIED": (
            "test_every_change_by_a_reader_is_denied_and_by_another_project_not_found"
        ),
        "FAILED_PRECONDITION": "test_extend_attached_volume_is_failed_precondition",
    },
    "stratus.volume.v1.Volumes/ReserveVolume": {
        "INVALID_ARGUMENT": "test_reserve_bad_instance_or_foreign_volume",
        "NOT_FOUND": "test_reserve_bad_instance_or_foreign_volume",
        "PERMISSION_DENIED": (
            "test_every_change_by_a_reader_is_denied_and_by_another_project_not_found"
        ),
        "FAILED_PRECONDITION": "test_reserve_for_another_instance_is_failed_precondition",
    },
    "stratus.volume.v1.Volumes/UnreserveVolume": {
        "INVALID_ARGUMENT": (
            "test_reserve_or_unreserve_with_a_malformed_instance_id_is_invalid_argument"
        ),
        "NOT_FOUND": "test_every_change_by_a_reader_is_denied_and_by_another_project_not_found",
        "PERMISSION_DENIED": (
            "test_every_change_by_a_reader_is_denied_and_by_another_project_not_found"
        ),
        "FAILED_PRECONDITION": "test_reserve_for_another_instance_is_failed_precondition",
    },
    "stratus.volume.v1.Volumes/AttachVolume": {
        "INVALID_ARGUMENT": "test_attach_bad_field_is_invalid_argument_naming_it",
        "NOT_FOUND": "test_attach_other_projects_volume_is_not_found_and_reader_is_denied",
        "PERMISSION_DENIED": "test_attach_other_projects_volume_is_not_found_and_reader_is_denied",
        "FAILED_PRECONDITION": "test_attach_to_second_instance_is_failed_precondition",
    },
    "stratus.volume.v1.Volumes/DetachVolume": {
        "INVALID_ARGUMENT": "test_detach_bad_request",
        "NOT_FOUND": "test_detach_bad_request",
        "PERMISSION_DENIED": (
            "test_every_change_by_a_reader_is_denied_and_by_another_project_not_found"
        ),
        "FAILED_PRECONDITION": "test_detach_while_attaching_is_failed_precondition",
    },
    "stratus.volume.v1.Volumes/GetQuota": {
        "INVALID_ARGUMENT": "test_get_quota_of_other_project_or_malformed_id",
        "PERMISSION_DENIED": "test_get_quota_of_other_project_or_malformed_id",
    },
    "stratus.volume.v1.Volumes/UpdateQuota": {
        "INVALID_ARGUMENT": "test_update_quota_bad_requests",
        "PERMISSION_DENIED": "test_update_quota_bad_requests",
    },
}


@dataclasses.dataclass
class Env:
    stub: pb2_grpc.VolumesStub
    runtime: object
    images: object
    storage: Path

    def call(self, method: str, token: str | None = "member-a", **fields):
        request = getattr(pb2, f"{method}Request")(**fields)
        return getattr(self.stub, method)(request, metadata=metadata(token), timeout=20)

    def create(self, token: str = "member-a", **fields) -> pb2.Volume:
        fields.setdefault("size_gib", 1)
        return self.call("CreateVolume", token, **fields)

    def get(self, volume_id: str, token: str = "member-a") -> pb2.Volume:
        return self.call("GetVolume", token, volume_id=volume_id)

    def wait(self, volume_id: str, timeout: float = 15.0) -> pb2.Volume:
        deadline = time.monotonic() + timeout
        while (volume := self.get(volume_id)).status == V.STATUS_CREATING:
            assert time.monotonic() < deadline, "volume stayed CREATING"
            time.sleep(0.02)
        return volume

    def file(self, volume_id: str) -> Path:
        return self.storage / volume_id

    def quota(self, token: str = "member-a", project_id: str = "") -> pb2.Quota:
        return self.call("GetQuota", token, project_id=project_id)

    def set_quota(self, project_id: str = PROJECT_A, **limits) -> pb2.Quota:
        return self.call(
            "UpdateQuota",
            "admin",
            quota=pb2.Quota(project_id=project_id, **limits),
            update_mask=field_mask_pb2.FieldMask(paths=list(limits)),
        )

    def attach(self, volume_id: str, instance_id: str = INSTANCE, token="member-a", **fields):
        fields.setdefault("host", "compute-1")
        fields.setdefault("device", "/dev/vdb")
        return self.call(
            "AttachVolume", token, volume_id=volume_id, instance_id=instance_id, **fields
        )


@pytest.fixture
def overrides():
    return {}


@pytest.fixture
def env(database_url, tmp_path, overrides):
    with serving_images(VALIDATOR) as (images, image_port):
        config = VolumeConfig(data_dir=str(tmp_path / "data"), **overrides)
        with serving_component(
            COMPONENT,
            VALIDATOR,
            database_url,
            config=config,
            endpoints={"image": f"127.0.0.1:{image_port}"},
        ) as (runtime, channel):
            yield Env(pb2_grpc.VolumesStub(channel), runtime, images, tmp_path / "data" / "volume")


def fails(code, fn, *args, reason: str | None = None, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        fn(*args, **kwargs)
    error = raised.value
    assert error.code() == code, error.details()
    if reason is not None:
        assert errors.error_info(error).reason == reason
    return error


def set_status(volume_id: str, status: str) -> None:
    """Put a volume in a transient status no RPC leaves it in (a call caught half way)."""
    Volume.update(status=status).where(Volume.id == volume_id).execute()


# --- every RPC ---------------------------------------------------------------


def test_every_rpc_is_implemented(env):
    service = pb2.DESCRIPTOR.services_by_name["Volumes"]
    for method in service.methods:
        try:
            env.call(method.name, "admin")
        except grpc.RpcError as exc:
            assert exc.code() != CODE.UNIMPLEMENTED, method.name
            assert exc.code() != CODE.INTERNAL, (method.name, exc.details())
            assert errors.error_info(exc).reason != "POLICY_DENIED", method.name


def test_call_without_token_is_unauthenticated(env):
    fails(CODE.UNAUTHENTICATED, env.call, "ListVolumes", None)


# --- CreateVolume ------------------------------------------------------------


def test_create_blank_volume_is_available_with_sparse_file(env):
    volume = env.create(name="data", description="line one\nline two", size_gib=2)
    assert volume.status == V.STATUS_AVAILABLE
    assert (volume.name, volume.size_gib, volume.project_id) == ("data", 2, PROJECT_A)
    assert volume.description == "line one\nline two"
    uuid.UUID(volume.id)
    assert volume.create_time.seconds > 0 and not volume.attachments
    assert env.file(volume.id).stat().st_size == 2 * GIB
    assert env.quota().volumes_used == 1 and env.quota().size_gib_used == 2


def test_create_bad_field_is_invalid_argument_naming_it(env):
    cases = [
        ({"size_gib": 0}, "size_gib"),
        ({"size_gib": -3}, "size_gib"),
        ({"name": "n" * 256}, "name"),
        ({"name": "bad\x07name"}, "name"),
        ({"description": "d" * 256}, "description"),
        ({"image_id": "not-a-uuid"}, "image_id"),
        ({"request_id": "r" * 129}, "request_id"),
    ]
    for fields, field in cases:
        fields.setdefault("size_gib", 1)
        error = fails(CODE.INVALID_ARGUMENT, env.call, "CreateVolume", **fields)
        assert errors.error_info(error).metadata["field"] == field, fields
    assert env.quota().volumes_used == 0


def test_create_by_reader_is_permission_denied(env):
    fails(CODE.PERMISSION_DENIED, env.create, "reader-a")


def test_create_with_same_request_id_returns_the_first_volume(env):
    request_id = str(uuid.uuid4())
    first = env.create(request_id=request_id, name="once")
    again = env.create(request_id=request_id, name="once")
    assert again.id == first.id
    assert env.quota().volumes_used == 1
    listed = env.call("ListVolumes").volumes
    assert [v.id for v in listed] == [first.id]


def test_create_retried_with_its_request_id_makes_nothing_new(env):
    request_id = str(uuid.uuid4())
    first = env.create(request_id=request_id, name="once", size_gib=2)
    assert env.create(request_id=request_id, name="once", size_gib=2) == first
    assert [v.id for v in env.call("ListVolumes").volumes] == [first.id]
    assert (env.quota().volumes_used, env.quota().size_gib_used) == (1, 2)
    assert sorted(p.name for p in env.storage.iterdir()) == [first.id]


def test_a_request_id_reused_for_a_different_volume_is_refused(env):
    request_id = str(uuid.uuid4())
    first = env.create(request_id=request_id, name="once", size_gib=1)
    error = fails(
        CODE.INVALID_ARGUMENT,
        env.create,
        request_id=request_id,
        name="once",
        size_gib=5,
        reason="REQUEST_ID_REUSED",
    )
    assert errors.error_info(error).metadata["field"] == "request_id"
    assert [v.id for v in env.call("ListVolumes").volumes] == [first.id]
    assert env.quota().size_gib_used == 1


def test_another_projects_request_id_is_its_own(env):
    request_id = str(uuid.uuid4())
    mine = env.create(request_id=request_id)
    theirs = env.create("member-b", request_id=request_id)
    assert theirs.id != mine.id and theirs.project_id == PROJECT_B


def test_parallel_creates_with_one_request_id_make_one_volume(env):
    request_id = str(uuid.uuid4())
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: env.create(request_id=request_id).id, range(8)))
    assert len(ids) == 1
    assert env.quota().volumes_used == 1


def test_create_when_storage_fails_is_error_and_delete_cleans_up(env):
    shutil.rmtree(env.storage)
    env.storage.write_text("storage is broken")
    volume = env.create(size_gib=3)
    assert volume.status == V.STATUS_ERROR
    assert env.quota().size_gib_used == 3
    env.call("DeleteVolume", volume_id=volume.id)
    assert env.get(volume.id).status == V.STATUS_ERROR_DELETING
    env.storage.unlink()
    env.storage.mkdir()
    env.call("DeleteVolume", volume_id=volume.id)
    fails(CODE.NOT_FOUND, env.get, volume.id)
    assert env.quota().size_gib_used == 0
    assert list(env.storage.iterdir()) == []


# --- CreateVolume from an image ----------------------------------------------


def test_create_from_raw_image_copies_data_with_the_users_token(env):
    data = os.urandom(150_000) + bytes(300_000) + b"end"
    image_id = env.images.add(data, PROJECT_A, "raw")
    volume = env.create(image_id=image_id, size_gib=1)
    assert volume.source_image_id == image_id
    assert env.wait(volume.id).status == V.STATUS_AVAILABLE
    path = env.file(volume.id)
    assert path.stat().st_size == GIB
    with open(path, "rb") as fh:
        assert fh.read(len(data)) == data
    assert set(env.images.tokens_seen) == {"member-a"}
    assert sorted(p.name for p in env.storage.iterdir()) == [volume.id]


def test_create_from_qcow2_image_converts_to_raw(env, tmp_path):
    raw = os.urandom(100_000) + bytes(1 << 20) + b"qcow2 end"
    data, virtual = qcow2_bytes(raw, tmp_path)
    image_id = env.images.add(data, PROJECT_A, "qcow2", virtual_size_bytes=virtual)
    volume = env.wait(env.create(image_id=image_id, size_gib=1).id)
    assert volume.status == V.STATUS_AVAILABLE
    with open(env.file(volume.id), "rb") as fh:
        assert fh.read(len(raw)) == raw
    attached = env.attach(volume.id)
    assert attached.connection_info.format == "raw"


def test_create_smaller_than_image_virtual_size_is_invalid_argument(env):
    image_id = env.images.add(b"x" * 1000, PROJECT_A, "qcow2", virtual_size_bytes=2 * GIB + 1)
    error = fails(CODE.INVALID_ARGUMENT, env.create, image_id=image_id, size_gib=2)
    assert errors.error_info(error).metadata["field"] == "size_gib"
    assert env.quota().volumes_used == 0


def test_create_smaller_than_image_min_disk_is_invalid_argument(env):
    image_id = env.images.add(b"x" * 1000, PROJECT_A, "raw", min_disk_gib=5)
    fails(CODE.INVALID_ARGUMENT, env.create, image_id=image_id, size_gib=4)
    assert env.wait(env.create(image_id=image_id, size_gib=5).id).status == V.STATUS_AVAILABLE


def test_create_from_missing_or_invisible_image_is_not_found(env):
    fails(CODE.NOT_FOUND, env.create, image_id=str(uuid.uuid4()))
    private_b = env.images.add(b"b" * 100, PROJECT_B, "raw")
    fails(CODE.NOT_FOUND, env.create, image_id=private_b)
    assert env.images.tokens_seen[-1] == "member-a"


def test_create_from_inactive_image_is_failed_precondition(env):
    image_id = env.images.add(b"q", PROJECT_A, "raw", status=image_pb2.Image.STATUS_QUEUED)
    fails(CODE.FAILED_PRECONDITION, env.create, image_id=image_id, reason="IMAGE_NOT_ACTIVE")


def test_create_from_image_with_bad_checksum_is_error_without_file(env):
    image_id = env.images.add(os.urandom(200_000), PROJECT_A, "raw", sha512="0" * 128)
    volume = env.wait(env.create(image_id=image_id).id)
    assert volume.status == V.STATUS_ERROR
    assert list(env.storage.iterdir()) == []
    env.call("DeleteVolume", volume_id=volume.id)
    assert env.quota().volumes_used == 0


def test_create_from_image_whose_download_breaks_is_error_without_file(env):
    image_id = env.images.add(os.urandom(300_000), PROJECT_A, "raw", fail_after=128 * 1024)
    volume = env.wait(env.create(image_id=image_id).id)
    assert volume.status == V.STATUS_ERROR
    assert list(env.storage.iterdir()) == []


# --- GetVolume and ListVolumes -----------------------------------------------


def test_get_returns_volume_to_member_reader_admin_and_service(env):
    volume = env.create(name="seen")
    for token in ("member-a", "reader-a", "admin", "service"):
        assert env.get(volume.id, token) == volume


def test_get_other_projects_volume_is_not_found(env):
    volume = env.create()
    fails(CODE.NOT_FOUND, env.get, volume.id, "member-b")


def test_get_missing_or_malformed_volume(env):
    fails(CODE.NOT_FOUND, env.get, str(uuid.uuid4()))
    fails(CODE.INVALID_ARGUMENT, env.get, "volume-1")


def test_list_shows_own_project_and_everything_to_admin(env):
    mine = env.create().id
    theirs = env.create("member-b").id
    assert [v.id for v in env.call("ListVolumes").volumes] == [mine]
    assert [v.id for v in env.call("ListVolumes", "member-b").volumes] == [theirs]
    assert {v.id for v in env.call("ListVolumes", "admin").volumes} == {mine, theirs}


def test_list_pages_through_every_volume_once(env):
    created = {env.create(name=f"v{i}").id for i in range(5)}
    seen, token = [], ""
    while True:
        page = env.call("ListVolumes", page_size=2, page_token=token)
        assert len(page.volumes) <= 2
        seen += [v.id for v in page.volumes]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(created)


def test_list_filters_by_status(env):
    reserved = env.create().id
    env.create()
    env.call("ReserveVolume", volume_id=reserved, instance_id=INSTANCE)
    page = env.call("ListVolumes", status=V.STATUS_RESERVED)
    assert [v.id for v in page.volumes] == [reserved]
    assert page.volumes[0].reserved_instance_id == INSTANCE


def test_list_bad_page_token_size_or_changed_filter_is_invalid_argument(env):
    for _ in range(3):
        env.create()
    fails(CODE.INVALID_ARGUMENT, env.call, "ListVolumes", page_token="garbage")
    fails(CODE.INVALID_ARGUMENT, env.call, "ListVolumes", page_size=-1)
    token = env.call("ListVolumes", page_size=1, status=V.STATUS_AVAILABLE).next_page_token
    assert token
    fails(CODE.INVALID_ARGUMENT, env.call, "ListVolumes", page_size=1, page_token=token)
    fails(CODE.INVALID_ARGUMENT, env.call, "ListVolumes", status=99)


# --- DeleteVolume ------------------------------------------------------------


def test_delete_removes_volume_file_and_quota(env):
    volume = env.create(size_gib=4)
    env.call("DeleteVolume", volume_id=volume.id)
    fails(CODE.NOT_FOUND, env.get, volume.id)
    assert not env.file(volume.id).exists()
    quota = env.quota()
    assert (quota.volumes_used, quota.size_gib_used) == (0, 0)
    fails(CODE.NOT_FOUND, env.call, "DeleteVolume", volume_id=volume.id)


def test_delete_repeated_with_request_id_succeeds_after_the_volume_is_gone(env):
    volume = env.create()
    request_id = str(uuid.uuid4())
    env.call("DeleteVolume", volume_id=volume.id, request_id=request_id)
    env.call("DeleteVolume", volume_id=volume.id, request_id=request_id)


def test_delete_while_deleting_changes_nothing(env):
    volume = env.create()
    set_status(volume.id, "deleting")
    env.call("DeleteVolume", volume_id=volume.id)
    assert env.get(volume.id).status == V.STATUS_DELETING
    assert env.file(volume.id).exists()


def test_delete_other_projects_or_missing_volume_is_not_found(env):
    volume = env.create()
    fails(CODE.NOT_FOUND, env.call, "DeleteVolume", "member-b", volume_id=volume.id)
    fails(CODE.NOT_FOUND, env.call, "DeleteVolume", volume_id=str(uuid.uuid4()))
    fails(CODE.PERMISSION_DENIED, env.call, "DeleteVolume", "reader-a", volume_id=volume.id)
    assert env.get(volume.id).status == V.STATUS_AVAILABLE


def test_delete_in_busy_status_is_failed_precondition(env):
    volume = env.create()
    for status in ("reserved", "in_use", "creating", "attaching", "detaching", "extending"):
        set_status(volume.id, status)
        error = fails(
            CODE.FAILED_PRECONDITION,
            env.call,
            "DeleteVolume",
            volume_id=volume.id,
            reason="INVALID_VOLUME_STATUS",
        )
        assert errors.error_info(error).metadata == {"status": status, "operation": "delete"}
    assert env.file(volume.id).exists()


def test_service_may_delete_any_projects_volume(env):
    volume = env.create()
    env.call("DeleteVolume", "service", volume_id=volume.id)
    fails(CODE.NOT_FOUND, env.get, volume.id)


# --- ExtendVolume ------------------------------------------------------------


def test_extend_grows_file_keeps_data_and_counts_quota(env):
    volume = env.create(size_gib=1)
    with open(env.file(volume.id), "r+b") as fh:
        fh.write(b"precious")
    extended = env.call("ExtendVolume", volume_id=volume.id, new_size_gib=3).volume
    assert (extended.status, extended.size_gib) == (V.STATUS_AVAILABLE, 3)
    assert env.file(volume.id).stat().st_size == 3 * GIB
    with open(env.file(volume.id), "rb") as fh:
        assert fh.read(8) == b"precious"
    assert env.quota().size_gib_used == 3


def test_extend_not_larger_is_invalid_argument(env):
    volume = env.create(size_gib=2)
    for size in (2, 1, 0):
        fails(
            CODE.INVALID_ARGUMENT, env.call, "ExtendVolume", volume_id=volume.id, new_size_gib=size
        )


def test_extend_repeated_with_request_id_returns_first_result(env):
    volume = env.create(size_gib=1)
    request_id = str(uuid.uuid4())
    first = env.call("ExtendVolume", volume_id=volume.id, new_size_gib=2, request_id=request_id)
    again = env.call("ExtendVolume", volume_id=volume.id, new_size_gib=2, request_id=request_id)
    assert again.volume.size_gib == first.volume.size_gib == 2
    fails(CODE.INVALID_ARGUMENT, env.call, "ExtendVolume", volume_id=volume.id, new_size_gib=2)


def test_extend_attached_volume_is_failed_precondition(env):
    volume = env.create()
    env.attach(volume.id)
    fails(
        CODE.FAILED_PRECONDITION,
        env.call,
        "ExtendVolume",
        volume_id=volume.id,
        new_size_gib=5,
        reason="INVALID_VOLUME_STATUS",
    )


def test_extend_over_size_quota_is_resource_exhausted(env):
    env.set_quota(size_gib_limit=5)
    volume = env.create(size_gib=2)
    fails(
        CODE.RESOURCE_EXHAUSTED,
        env.call,
        "ExtendVolume",
        volume_id=volume.id,
        new_size_gib=6,
        reason="QUOTA_EXCEEDED",
    )
    assert env.get(volume.id).status == V.STATUS_AVAILABLE
    assert env.call("ExtendVolume", volume_id=volume.id, new_size_gib=5).volume.size_gib == 5


def test_extend_failure_leaves_error_and_releases_the_added_size(env):
    volume = env.create(size_gib=1)
    env.file(volume.id).unlink()
    env.file(volume.id).mkdir()
    extended = env.call("ExtendVolume", volume_id=volume.id, new_size_gib=4).volume
    assert (extended.status, extended.size_gib) == (V.STATUS_ERROR, 1)
    assert env.quota().size_gib_used == 1


def test_extend_other_projects_volume_is_not_found(env):
    volume = env.create()
    fails(CODE.NOT_FOUND, env.call, "ExtendVolume", "member-b", volume_id=volume.id, new_size_gib=2)


# --- ReserveVolume and UnreserveVolume ---------------------------------------


def test_reserve_and_unreserve(env):
    volume = env.create()
    reserved = env.call("ReserveVolume", volume_id=volume.id, instance_id=INSTANCE).volume
    assert (reserved.status, reserved.reserved_instance_id) == (V.STATUS_RESERVED, INSTANCE)
    again = env.call("ReserveVolume", volume_id=volume.id, instance_id=INSTANCE).volume
    assert again.status == V.STATUS_RESERVED
    released = env.call("UnreserveVolume", volume_id=volume.id, instance_id=INSTANCE).volume
    assert (released.status, released.reserved_instance_id) == (V.STATUS_AVAILABLE, "")
    # Unreserving an AVAILABLE volume is a no-op, so cleanups can always call it.
    assert env.call("UnreserveVolume", volume_id=volume.id).volume.status == V.STATUS_AVAILABLE


def test_reserve_for_another_instance_is_failed_precondition(env):
    volume = env.create()
    env.call("ReserveVolume", "service", volume_id=volume.id, instance_id=INSTANCE)
    fails(
        CODE.FAILED_PRECONDITION,
        env.call,
        "ReserveVolume",
        volume_id=volume.id,
        instance_id=OTHER_INSTANCE,
        reason="RESERVED_FOR_ANOTHER_INSTANCE",
    )
    fails(
        CODE.FAILED_PRECONDITION,
        env.call,
        "UnreserveVolume",
        volume_id=volume.id,
        instance_id=OTHER_INSTANCE,
    )
    assert env.get(volume.id).reserved_instance_id == INSTANCE


def test_reserve_bad_instance_or_foreign_volume(env):
    volume = env.create()
    fails(CODE.INVALID_ARGUMENT, env.call, "ReserveVolume", volume_id=volume.id)
    fails(
        CODE.NOT_FOUND,
        env.call,
        "ReserveVolume",
        "member-b",
        volume_id=volume.id,
        instance_id=INSTANCE,
    )


def test_reserve_or_unreserve_attached_volume_is_failed_precondition(env):
    volume = env.create()
    env.attach(volume.id)
    fails(
        CODE.FAILED_PRECONDITION,
        env.call,
        "ReserveVolume",
        volume_id=volume.id,
        instance_id=INSTANCE,
        reason="INVALID_VOLUME_STATUS",
    )
    fails(CODE.FAILED_PRECONDITION, env.call, "UnreserveVolume", volume_id=volume.id)


# --- AttachVolume and DetachVolume -------------------------------------------


def test_attach_returns_file_connection_and_is_idempotent(env):
    volume = env.create()
    attached = env.attach(volume.id, device="/dev/vdc")
    assert attached.volume.status == V.STATUS_IN_USE
    info = attached.connection_info
    assert (info.driver_volume_type, info.format) == ("file", "raw")
    assert Path(info.path) == env.file(volume.id).resolve()
    (attachment,) = attached.volume.attachments
    assert (attachment.id, attachment.instance_id) == (attached.attachment_id, INSTANCE)
    assert (attachment.host, attachment.device) == ("compute-1", "/dev/vdc")
    again = env.attach(volume.id, device="/dev/vdc")
    assert again.attachment_id == attached.attachment_id
    assert env.get(volume.id).attachments[0].id == attached.attachment_id


def test_attach_reserved_volume_for_its_instance(env):
    volume = env.create()
    env.call("ReserveVolume", volume_id=volume.id, instance_id=INSTANCE)
    fails(
        CODE.FAILED_PRECONDITION,
        env.attach,
        volume.id,
        OTHER_INSTANCE,
        reason="RESERVED_FOR_ANOTHER_INSTANCE",
    )
    attached = env.attach(volume.id, INSTANCE, token="service")
    assert attached.volume.status == V.STATUS_IN_USE
    assert attached.volume.reserved_instance_id == ""


def test_attach_to_second_instance_is_failed_precondition(env):
    volume = env.create()
    env.attach(volume.id, INSTANCE)
    error = fails(CODE.FAILED_PRECONDITION, env.attach, volume.id, OTHER_INSTANCE)
    assert errors.error_info(error).metadata == {"status": "in_use", "operation": "attach"}


def test_attach_bad_field_is_invalid_argument_naming_it(env):
    volume = env.create()
    cases = [
        ({"instance_id": "vm-1"}, "instance_id"),
        ({"host": ""}, "host"),
        ({"device": "vdb"}, "device"),
        ({"device": "/dev/../etc/passwd"}, "device"),
        ({"device": "/dev/vd b"}, "device"),
    ]
    for fields, field in cases:
        fields = {"instance_id": INSTANCE, "host": "compute-1", **fields}
        error = fails(
            CODE.INVALID_ARGUMENT, env.call, "AttachVolume", volume_id=volume.id, **fields
        )
        assert errors.error_info(error).metadata["field"] == field, fields
    assert env.get(volume.id).status == V.STATUS_AVAILABLE


def test_attach_without_device_leaves_it_to_the_host(env):
    volume = env.create()
    assert env.attach(volume.id, device="").volume.attachments[0].device == ""


def test_attach_failure_returns_volume_to_previous_status(env):
    volume = env.create()
    env.call("ReserveVolume", volume_id=volume.id, instance_id=INSTANCE)
    env.file(volume.id).unlink()
    request_id = str(uuid.uuid4())
    fails(CODE.UNAVAILABLE, env.attach, volume.id, request_id=request_id, reason="BACKEND_FAILED")
    after = env.get(volume.id)
    assert (after.status, after.reserved_instance_id) == (V.STATUS_RESERVED, INSTANCE)
    assert not after.attachments


def test_attach_other_projects_volume_is_not_found_and_reader_is_denied(env):
    volume = env.create()
    fails(CODE.NOT_FOUND, env.attach, volume.id, token="member-b")
    fails(CODE.PERMISSION_DENIED, env.attach, volume.id, token="reader-a")


def test_detach_by_instance_makes_volume_available(env):
    volume = env.create()
    env.attach(volume.id)
    detached = env.call("DetachVolume", volume_id=volume.id, instance_id=INSTANCE).volume
    assert (detached.status, list(detached.attachments)) == (V.STATUS_AVAILABLE, [])
    again = env.call("DetachVolume", volume_id=volume.id, instance_id=INSTANCE).volume
    assert again.status == V.STATUS_AVAILABLE


def test_detach_by_attachment_id(env):
    volume = env.create()
    attachment_id = env.attach(volume.id, token="service").attachment_id
    detached = env.call("DetachVolume", "service", volume_id=volume.id, attachment_id=attachment_id)
    assert detached.volume.status == V.STATUS_AVAILABLE


def test_detach_other_instance_changes_nothing(env):
    volume = env.create()
    env.attach(volume.id)
    unchanged = env.call("DetachVolume", volume_id=volume.id, instance_id=OTHER_INSTANCE).volume
    assert unchanged.status == V.STATUS_IN_USE and unchanged.attachments


def test_detach_left_detaching_can_be_repeated(env):
    volume = env.create()
    env.attach(volume.id)
    set_status(volume.id, "detaching")
    detached = env.call("DetachVolume", volume_id=volume.id, instance_id=INSTANCE).volume
    assert detached.status == V.STATUS_AVAILABLE


def test_detach_while_attaching_is_failed_precondition(env):
    volume = env.create()
    env.attach(volume.id)
    set_status(volume.id, "attaching")
    fails(
        CODE.FAILED_PRECONDITION,
        env.call,
        "DetachVolume",
        volume_id=volume.id,
        instance_id=INSTANCE,
        reason="INVALID_VOLUME_STATUS",
    )


def test_detach_bad_request(env):
    volume = env.create()
    fails(CODE.INVALID_ARGUMENT, env.call, "DetachVolume", volume_id=volume.id)
    fails(CODE.INVALID_ARGUMENT, env.call, "DetachVolume", volume_id=volume.id, attachment_id="a")
    fails(
        CODE.NOT_FOUND,
        env.call,
        "DetachVolume",
        "member-b",
        volume_id=volume.id,
        instance_id=INSTANCE,
    )


def test_attach_retried_with_request_id_after_detach_replays_without_attaching(env):
    volume = env.create()
    request_id = str(uuid.uuid4())
    first = env.attach(volume.id, request_id=request_id)
    env.call("DetachVolume", volume_id=volume.id, instance_id=INSTANCE)
    assert env.attach(volume.id, request_id=request_id) == first
    assert env.get(volume.id).status == V.STATUS_AVAILABLE


# --- illegal transitions through the API -------------------------------------


def test_busy_or_failed_volume_refuses_every_change(env):
    volume = env.create()
    calls = {
        "reserve": ("ReserveVolume", {"instance_id": INSTANCE}),
        "extend": ("ExtendVolume", {"new_size_gib": 2}),
        "attach": ("AttachVolume", {"instance_id": INSTANCE, "host": "h"}),
        "unreserve": ("UnreserveVolume", {}),
    }
    for status in ("creating", "attaching", "detaching", "extending", "deleting", "error"):
        set_status(volume.id, status)
        for operation, (method, fields) in calls.items():
            error = fails(
                CODE.FAILED_PRECONDITION,
                env.call,
                method,
                volume_id=volume.id,
                reason="INVALID_VOLUME_STATUS",
                **fields,
            )
            assert errors.error_info(error).metadata == {"status": status, "operation": operation}
        assert env.get(volume.id).status == V.Status.Value(f"STATUS_{status.upper()}")


# --- every change, by the wrong caller or with a malformed id -----------------

CHANGES = {
    "DeleteVolume": {},
    "ExtendVolume": {"new_size_gib": 2},
    "ReserveVolume": {"instance_id": INSTANCE},
    "UnreserveVolume": {},
    "AttachVolume": {"instance_id": INSTANCE, "host": "compute-1"},
    "DetachVolume": {"instance_id": INSTANCE},
}


@pytest.mark.parametrize("method", CHANGES)
def test_every_change_by_a_malformed_volume_id_is_invalid_argument(env, method):
    fails(CODE.INVALID_ARGUMENT, env.call, method, volume_id="volume-1", **CHANGES[method])


@pytest.mark.parametrize("method", CHANGES)
def test_every_change_by_a_reader_is_denied_and_by_another_project_not_found(env, method):
    volume = env.create()
    fails(
        CODE.PERMISSION_DENIED, env.call, method, "reader-a", volume_id=volume.id, **CHANGES[method]
    )
    fails(CODE.NOT_FOUND, env.call, method, "member-b", volume_id=volume.id, **CHANGES[method])
    assert env.get(volume.id).status == V.STATUS_AVAILABLE


@pytest.mark.parametrize("method", ["ReserveVolume", "UnreserveVolume"])
def test_reserve_or_unreserve_with_a_malformed_instance_id_is_invalid_argument(env, method):
    volume = env.create()
    fails(CODE.INVALID_ARGUMENT, env.call, method, volume_id=volume.id, instance_id="vm-1")


# --- quotas ------------------------------------------------------------------


def test_get_quota_defaults_and_usage(env):
    quota = env.quota()
    assert (quota.project_id, quota.volumes_limit, quota.size_gib_limit) == (PROJECT_A, 10, 1000)
    assert quota.is_default
    env.create(size_gib=3)
    assert (env.quota("reader-a").volumes_used, env.quota().size_gib_used) == (1, 3)
    assert env.quota("admin", PROJECT_A).volumes_used == 1
    assert env.quota("service", PROJECT_B).is_default


def test_get_quota_of_other_project_or_malformed_id(env):
    fails(CODE.PERMISSION_DENIED, env.quota, "member-a", PROJECT_B)
    fails(CODE.INVALID_ARGUMENT, env.quota, "admin", "project-b")


def test_update_quota_sets_named_limits_only(env):
    quota = env.set_quota(volumes_limit=3)
    assert (quota.volumes_limit, quota.size_gib_limit, quota.is_default) == (3, 1000, False)
    assert env.set_quota(volumes_limit=3) == quota
    assert env.set_quota(size_gib_limit=-1).size_gib_limit == -1


def test_update_quota_bad_requests(env):
    fails(
        CODE.PERMISSION_DENIED,
        env.call,
        "UpdateQuota",
        quota=pb2.Quota(project_id=PROJECT_A, volumes_limit=100),
        update_mask=field_mask_pb2.FieldMask(paths=["volumes_limit"]),
    )
    fails(CODE.INVALID_ARGUMENT, env.set_quota)
    fails(CODE.INVALID_ARGUMENT, env.set_quota, volumes_used=0)
    fails(CODE.INVALID_ARGUMENT, env.set_quota, volumes_limit=-2)
    fails(CODE.INVALID_ARGUMENT, env.set_quota, "project-a", volumes_limit=1)


def test_volume_quota_exceeded_is_resource_exhausted(env):
    env.set_quota(volumes_limit=2)
    env.create()
    env.create()
    error = fails(CODE.RESOURCE_EXHAUSTED, env.create, reason="QUOTA_EXCEEDED")
    assert errors.error_info(error).metadata["resource"] == "volumes"
    assert env.quota().volumes_used == 2
    env.create("member-b")


def test_size_quota_exceeded_is_resource_exhausted(env):
    env.set_quota(size_gib_limit=10)
    env.create(size_gib=8)
    fails(CODE.RESOURCE_EXHAUSTED, env.create, size_gib=3, reason="QUOTA_EXCEEDED")
    env.create(size_gib=2)


def test_limit_lowered_below_usage_refuses_until_usage_falls(env):
    volumes = [env.create().id for _ in range(3)]
    env.set_quota(volumes_limit=2)
    fails(CODE.RESOURCE_EXHAUSTED, env.create)
    env.call("DeleteVolume", volume_id=volumes[0])
    fails(CODE.RESOURCE_EXHAUSTED, env.create)
    env.call("DeleteVolume", volume_id=volumes[1])
    env.create()


@pytest.mark.parametrize("overrides", [{"default_volumes_limit": 5}])
def test_twenty_parallel_creates_with_limit_five_exactly_five_succeed(env):
    assert env.quota().volumes_limit == 5

    def create(_):
        try:
            return env.create().id
        except grpc.RpcError as exc:
            assert exc.code() == CODE.RESOURCE_EXHAUSTED, exc.details()
            return None

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(create, range(20)))
    made = [r for r in results if r]
    assert len(made) == 5
    assert env.quota().volumes_used == 5
    assert len(env.call("ListVolumes").volumes) == 5
    assert sorted(p.name for p in env.storage.iterdir()) == sorted(made)


# --- restart -----------------------------------------------------------------


def test_restart_settles_volumes_left_half_way(env):
    created = {status: env.create(size_gib=2).id for status in ("creating", "deleting")}
    extending = env.create(size_gib=1).id
    attaching = env.create().id
    env.attach(attaching)
    # Interrupted between ATTACHING and IN_USE: the reservation is still recorded.
    Volume.update(status="attaching", reserved_instance_id=INSTANCE).where(
        Volume.id == attaching
    ).execute()
    # Interrupted while growing from 1 to 3 GiB: the 2 GiB added are already charged.
    Volume.update(status="extending", pending_size_gib=3).where(Volume.id == extending).execute()
    Quota.update(size_gib_used=Quota.size_gib_used + 2).execute()
    for status, volume_id in created.items():
        set_status(volume_id, status)
    # As a new process would find them: last touched before it started.
    Volume.update(update_time=utcnow() - datetime.timedelta(hours=1)).execute()
    env.runtime.state["volumes"].recover()
    assert env.get(created["creating"]).status == V.STATUS_ERROR
    assert not env.file(created["creating"]).exists()
    fails(CODE.NOT_FOUND, env.get, created["deleting"])
    assert env.get(extending).status == V.STATUS_ERROR
    after = env.get(attaching)
    assert (after.status, after.reserved_instance_id) == (V.STATUS_RESERVED, INSTANCE)
    assert not after.attachments
    assert env.quota().size_gib_used == 2 + 1 + 1
