"""Contract of stratus.image.v1.Images: records, visibility, updates, deletes, statuses.

Uploads and downloads are in test_image_service_data.py.
"""

import grpc
import pytest
from google.protobuf import field_mask_pb2

from stratus.image.v1 import image_service_pb2 as pb2
from tests.contract import image_fixtures
from tests.contract.image_fixtures import (
    MISSING,
    PROJECT_A,
    PROJECT_B,
    Image,
    code_of,
    md,
)


@pytest.fixture
def api(database_url, tmp_path):
    yield from image_fixtures.serve(database_url, tmp_path)


OK = grpc.StatusCode.OK
INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION

# Which test exercises each error case the proto comments name (test_conformance.py);
# UploadImage and DownloadImage are in test_image_service_data.py.
CONTRACT_CASES = {
    "stratus.image.v1.Images/CreateImage": {
        "INVALID_ARGUMENT": "test_create_image_with_an_invalid_field_is_invalid_argument",
        "PERMISSION_DENIED": "test_create_public_image_needs_admin",
    },
    "stratus.image.v1.Images/GetImage": {
        "INVALID_ARGUMENT": "test_get_image_with_a_malformed_id_is_invalid_argument",
        "NOT_FOUND": "test_private_image_is_not_found_for_another_project",
    },
    "stratus.image.v1.Images/ListImages": {
        "INVALID_ARGUMENT": "test_list_images_with_bad_paging_or_filter_is_invalid_argument",
    },
    "stratus.image.v1.Images/UpdateImage": {
        "INVALID_ARGUMENT": "test_update_image_with_a_bad_mask_or_value_is_invalid_argument",
        "NOT_FOUND": "test_update_image_of_another_project_is_not_found_or_denied_if_public",
        "PERMISSION_DENIED": "test_update_image_to_public_needs_admin",
    },
    "stratus.image.v1.Images/DeleteImage": {
        "INVALID_ARGUMENT": "test_delete_image_with_a_malformed_id_is_invalid_argument",
        "NOT_FOUND": "test_delete_image_of_another_project_is_not_found_or_denied_if_public",
        "PERMISSION_DENIED": (
            "test_delete_image_of_another_project_is_not_found_or_denied_if_public"
        ),
        "FAILED_PRECONDITION": (
            "test_delete_protected_image_is_failed_precondition_until_unprotected"
        ),
    },
    "stratus.image.v1.Images/DeactivateImage": {
        "INVALID_ARGUMENT": "test_changing_an_image_by_a_malformed_id_is_invalid_argument",
        "NOT_FOUND": "test_deactivate_missing_image_is_not_found",
        "PERMISSION_DENIED": "test_deactivate_and_reactivate_need_admin",
        "FAILED_PRECONDITION": (
            "test_deactivate_or_reactivate_a_queued_image_is_failed_precondition"
        ),
    },
    "stratus.image.v1.Images/ReactivateImage": {
        "INVALID_ARGUMENT": "test_changing_an_image_by_a_malformed_id_is_invalid_argument",
        "NOT_FOUND": "test_deactivate_missing_image_is_not_found",
        "PERMISSION_DENIED": "test_deactivate_and_reactivate_need_admin",
        "FAILED_PRECONDITION": (
            "test_deactivate_or_reactivate_a_queued_image_is_failed_precondition"
        ),
    },
}


def update(api, image_id, token="alice", paths=(), **values):
    request = pb2.UpdateImageRequest(
        image=pb2.Image(id=image_id, **values),
        update_mask=field_mask_pb2.FieldMask(paths=list(paths)),
    )
    return api.stub.UpdateImage(request, metadata=md(token))


def deactivate(api, image_id, token="admin"):
    request = pb2.DeactivateImageRequest(image_id=image_id)
    return api.stub.DeactivateImage(request, metadata=md(token)).image


def reactivate(api, image_id, token="admin"):
    request = pb2.ReactivateImageRequest(image_id=image_id)
    return api.stub.ReactivateImage(request, metadata=md(token)).image


def test_every_rpc_of_the_images_service_is_implemented(api):
    service = pb2.DESCRIPTOR.services_by_name["Images"]
    for method in service.methods:
        request = getattr(pb2, method.input_type.name)()
        call = getattr(api.stub, method.name)
        try:
            if method.client_streaming:
                call(iter([request]), metadata=md("admin"))
            elif method.server_streaming:
                list(call(request, metadata=md("admin")))
            else:
                call(request, metadata=md("admin"))
        except grpc.RpcError as error:
            assert error.code() != grpc.StatusCode.UNIMPLEMENTED, method.name
            assert error.code() != grpc.StatusCode.INTERNAL, method.name


def test_every_rpc_needs_a_token(api):
    assert code_of(api.create, None)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert code_of(api.get, MISSING, None)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert code_of(api.create, "forged")[0] == grpc.StatusCode.UNAUTHENTICATED


# CreateImage


def test_create_image_is_queued_private_bare_and_owned_by_the_callers_project(api):
    image = api.create(
        name="cirros",
        disk_format=Image.DISK_FORMAT_QCOW2,
        min_disk_gib=1,
        min_ram_mib=64,
        properties={"architecture": "x86_64", "hypervisor_type": "qemu"},
    )
    assert image.status == Image.STATUS_QUEUED
    assert image.visibility == Image.VISIBILITY_PRIVATE
    assert image.container_format == Image.CONTAINER_FORMAT_BARE
    assert image.disk_format == Image.DISK_FORMAT_QCOW2
    assert image.project_id == PROJECT_A
    assert (image.min_disk_gib, image.min_ram_mib) == (1, 64)
    assert dict(image.properties) == {"architecture": "x86_64", "hypervisor_type": "qemu"}
    assert (image.size_bytes, image.checksum, image.os_hash_algo) == (0, "", "")
    assert not image.protected
    assert image.create_time.seconds > 0
    assert api.get(image.id) == image


def test_create_image_without_disk_format_is_invalid_argument(api):
    code, _ = code_of(api.create, disk_format=Image.DISK_FORMAT_UNSPECIFIED)
    assert code == INVALID


@pytest.mark.parametrize(
    "fields",
    [
        {"min_disk_gib": -1},
        {"min_ram_mib": -5},
        {"name": "x" * 256},
        {"name": "bad\x00name"},
        {"properties": {"status": "active"}},
        {"properties": {"": "empty key"}},
        {"properties": {"k" * 256: "v"}},
        {"properties": {"big": "v" * 65536}},
        {"properties": {f"k{i}": "v" for i in range(129)}},
        {"container_format": 7},
        {"disk_format": 9},
    ],
)
def test_create_image_with_an_invalid_field_is_invalid_argument(api, fields):
    assert code_of(api.create, **fields)[0] == INVALID


def test_create_public_image_needs_admin(api):
    code, reason = code_of(api.create, visibility=Image.VISIBILITY_PUBLIC)
    assert (code, reason) == (DENIED, "PUBLICIZE_IMAGE_DENIED")
    image = api.create("admin", visibility=Image.VISIBILITY_PUBLIC)
    assert image.visibility == Image.VISIBILITY_PUBLIC


def test_create_image_by_a_reader_is_permission_denied(api):
    assert code_of(api.create, "reader") == (DENIED, "POLICY_DENIED")


def test_create_image_retried_with_its_request_id_returns_the_first_image(api):
    first = api.create(name="once", request_id="5e0a4c1e-3b3c-4f1e-9f43-7a1b2c3d4e5f")
    again = api.create(name="once", request_id="5e0a4c1e-3b3c-4f1e-9f43-7a1b2c3d4e5f")
    assert again.id == first.id
    assert [i.id for i in api.list(name="once")] == [first.id]


# GetImage and visibility


def test_get_image_with_a_malformed_id_is_invalid_argument(api):
    assert code_of(api.get, "not-a-uuid")[0] == INVALID


def test_get_missing_image_is_not_found(api):
    assert code_of(api.get, MISSING) == (NOT_FOUND, "IMAGE_NOT_FOUND")


def test_private_image_is_not_found_for_another_project(api):
    image = api.create()
    assert code_of(api.get, image.id, "bob") == (NOT_FOUND, "IMAGE_NOT_FOUND")
    assert api.get(image.id, "ann").id == image.id
    assert api.get(image.id, "reader").id == image.id
    assert api.get(image.id, "admin").id == image.id
    assert api.get(image.id, "service").id == image.id


def test_public_image_is_visible_to_every_project(api):
    image = api.create("admin", visibility=Image.VISIBILITY_PUBLIC)
    assert api.get(image.id, "bob").id == image.id
    assert api.get(image.id, "alice").id == image.id


# ListImages


def test_list_images_shows_own_and_public_images_only(api):
    mine = api.create(name="mine")
    theirs = api.create("bob", name="theirs")
    public = api.create("admin", name="public", visibility=Image.VISIBILITY_PUBLIC)
    admins = api.create("admin", name="admins")
    assert {i.id for i in api.list("alice")} == {mine.id, public.id}
    assert {i.id for i in api.list("reader")} == {mine.id, public.id}
    assert {i.id for i in api.list("bob")} == {theirs.id, public.id}
    assert {i.id for i in api.list("admin")} == {mine.id, theirs.id, public.id, admins.id}


def test_list_images_pages_in_create_time_then_id_order(api):
    created = [api.create(name=f"img-{i}") for i in range(5)]
    pages, token = [], ""
    while True:
        reply = api.stub.ListImages(
            pb2.ListImagesRequest(page_size=2, page_token=token), metadata=md("alice")
        )
        pages.append([i.id for i in reply.images])
        token = reply.next_page_token
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    listed = [image_id for page in pages for image_id in page]
    by_key = sorted(created, key=lambda i: (i.create_time.ToDatetime(), i.id))
    assert sorted(listed) == sorted(i.id for i in created)
    assert len(set(listed)) == 5
    again = api.list("alice")
    assert [i.id for i in again] == listed
    assert {i.id for i in by_key} == set(listed)


def test_list_images_filters_by_name_status_and_visibility(api):
    queued = api.create(name="a")
    active = api.active(name="b")
    public = api.create("admin", name="a", visibility=Image.VISIBILITY_PUBLIC)
    assert {i.id for i in api.list(name="a")} == {queued.id, public.id}
    assert [i.id for i in api.list(status=Image.STATUS_ACTIVE)] == [active.id]
    assert [i.id for i in api.list(visibility=Image.VISIBILITY_PUBLIC)] == [public.id]
    assert api.list(status=Image.STATUS_DELETED) == []
    assert api.list(name="a", visibility=Image.VISIBILITY_PRIVATE)[0].id == queued.id


def test_list_images_page_token_with_changed_filters_is_invalid_argument(api):
    for _ in range(3):
        api.create(name="same")
    first = api.stub.ListImages(
        pb2.ListImagesRequest(page_size=1, name="same"), metadata=md("alice")
    )
    changed = pb2.ListImagesRequest(page_size=1, name="other", page_token=first.next_page_token)
    assert code_of(api.stub.ListImages, changed, metadata=md("alice"))[0] == INVALID


@pytest.mark.parametrize(
    "request_",
    [
        pb2.ListImagesRequest(page_size=-1),
        pb2.ListImagesRequest(page_token="junk"),
        pb2.ListImagesRequest(status=99),
        pb2.ListImagesRequest(visibility=99),
    ],
)
def test_list_images_with_bad_paging_or_filter_is_invalid_argument(api, request_):
    assert code_of(api.stub.ListImages, request_, metadata=md("alice"))[0] == INVALID


def test_deleted_images_are_never_listed(api):
    image = api.create()
    api.delete(image.id)
    assert api.list("admin") == []


# UpdateImage


def test_update_image_changes_only_the_masked_fields(api):
    image = api.create(name="old", min_ram_mib=64, properties={"a": "1", "b": "2"})
    updated = update(
        api, image.id, paths=["name", "min_disk_gib"], name="new", min_disk_gib=5, min_ram_mib=999
    )
    assert (updated.name, updated.min_disk_gib, updated.min_ram_mib) == ("new", 5, 64)
    assert dict(updated.properties) == {"a": "1", "b": "2"}
    assert api.get(image.id) == updated


def test_update_image_sets_and_removes_single_properties(api):
    image = api.create(properties={"a": "1", "b": "2"})
    updated = update(api, image.id, paths=["properties.a", "properties.c"], properties={"c": "3"})
    assert dict(updated.properties) == {"b": "2", "c": "3"}


def test_update_image_replaces_the_whole_property_map(api):
    image = api.create(properties={"a": "1", "b": "2"})
    updated = update(api, image.id, paths=["properties"], properties={"kernel_id": MISSING})
    assert dict(updated.properties) == {"kernel_id": MISSING}


def test_update_image_is_idempotent(api):
    image = api.create()
    first = update(api, image.id, paths=["name", "protected"], name="n", protected=True)
    second = update(api, image.id, paths=["name", "protected"], name="n", protected=True)
    assert (second.name, second.protected) == (first.name, first.protected) == ("n", True)


@pytest.mark.parametrize(
    ("paths", "values"),
    [
        ([], {}),
        (["disk_format"], {"disk_format": Image.DISK_FORMAT_QCOW2}),
        (["status"], {"status": Image.STATUS_ACTIVE}),
        (["size_bytes"], {}),
        (["no_such_field"], {}),
        (["min_ram_mib"], {"min_ram_mib": -1}),
        (["visibility"], {}),
        (["properties.status"], {"properties": {"status": "x"}}),
        (["properties"], {"properties": {"id": "x"}}),
        (["name"], {"name": "n" * 256}),
    ],
)
def test_update_image_with_a_bad_mask_or_value_is_invalid_argument(api, paths, values):
    image = api.create()
    assert code_of(update, api, image.id, paths=paths, **values)[0] == INVALID


def test_update_image_to_public_needs_admin(api):
    image = api.create()
    code, reason = code_of(
        update, api, image.id, paths=["visibility"], visibility=Image.VISIBILITY_PUBLIC
    )
    assert (code, reason) == (DENIED, "PUBLICIZE_IMAGE_DENIED")
    made = update(api, image.id, "admin", paths=["visibility"], visibility=Image.VISIBILITY_PUBLIC)
    assert made.visibility == Image.VISIBILITY_PUBLIC
    back = update(api, image.id, paths=["visibility"], visibility=Image.VISIBILITY_PRIVATE)
    assert back.visibility == Image.VISIBILITY_PRIVATE


def test_update_image_of_another_project_is_not_found_or_denied_if_public(api):
    private = api.create()
    assert code_of(update, api, private.id, "bob", paths=["name"], name="x")[0] == NOT_FOUND
    public = api.create("admin", visibility=Image.VISIBILITY_PUBLIC)
    code, reason = code_of(update, api, public.id, "bob", paths=["name"], name="x")
    assert (code, reason) == (DENIED, "IMAGE_NOT_OWNED")
    assert update(api, private.id, "admin", paths=["name"], name="by admin").name == "by admin"


def test_update_image_by_a_reader_is_permission_denied(api):
    image = api.create()
    assert code_of(update, api, image.id, "reader", paths=["name"], name="x")[0] == DENIED


def test_update_missing_image_is_not_found(api):
    assert code_of(update, api, MISSING, paths=["name"], name="x")[0] == NOT_FOUND


# DeleteImage


def test_delete_image_removes_record_and_data(api):
    image = api.active()
    assert api.stored_files() == [image.id]
    api.delete(image.id)
    assert code_of(api.get, image.id, "admin")[0] == NOT_FOUND
    assert api.stored_files() == []
    assert code_of(api.delete, image.id)[0] == NOT_FOUND


def test_delete_protected_image_is_failed_precondition_until_unprotected(api):
    image = api.active(protected=True)
    assert code_of(api.delete, image.id) == (PRECONDITION, "IMAGE_PROTECTED")
    assert code_of(api.delete, image.id, "admin") == (PRECONDITION, "IMAGE_PROTECTED")
    assert api.get(image.id).status == Image.STATUS_ACTIVE
    update(api, image.id, paths=["protected"], protected=False)
    api.delete(image.id)
    assert api.stored_files() == []


def test_delete_image_retried_with_its_request_id_succeeds_again(api):
    image = api.create()
    request_id = "3f1c0ad2-7a43-4a7a-b1de-51f8d6d1a001"
    api.delete(image.id, request_id=request_id)
    api.delete(image.id, request_id=request_id)
    assert code_of(api.delete, image.id)[0] == NOT_FOUND


def test_delete_image_of_another_project_is_not_found_or_denied_if_public(api):
    private = api.create()
    assert code_of(api.delete, private.id, "bob")[0] == NOT_FOUND
    public = api.create("admin", visibility=Image.VISIBILITY_PUBLIC)
    assert code_of(api.delete, public.id, "bob")[0] == DENIED
    assert code_of(api.delete, private.id, "reader")[0] == DENIED
    api.delete(private.id, "admin")


def test_delete_image_with_a_malformed_id_is_invalid_argument(api):
    assert code_of(api.delete, "nope")[0] == INVALID


@pytest.mark.parametrize(
    "call",
    [
        lambda api: update(api, "nope", paths=["name"], name="x"),
        lambda api: deactivate(api, "nope"),
        lambda api: reactivate(api, "nope"),
    ],
    ids=["UpdateImage", "DeactivateImage", "ReactivateImage"],
)
def test_changing_an_image_by_a_malformed_id_is_invalid_argument(api, call):
    assert code_of(call, api)[0] == INVALID


# DeactivateImage / ReactivateImage


def test_deactivate_and_reactivate_an_active_image(api):
    image = api.active()
    assert deactivate(api, image.id).status == Image.STATUS_DEACTIVATED
    assert deactivate(api, image.id).status == Image.STATUS_DEACTIVATED
    assert api.get(image.id).status == Image.STATUS_DEACTIVATED
    assert reactivate(api, image.id).status == Image.STATUS_ACTIVE
    assert reactivate(api, image.id).status == Image.STATUS_ACTIVE


def test_deactivate_or_reactivate_a_queued_image_is_failed_precondition(api):
    image = api.create()
    assert code_of(deactivate, api, image.id) == (PRECONDITION, "IMAGE_STATUS_CONFLICT")
    assert code_of(reactivate, api, image.id) == (PRECONDITION, "IMAGE_STATUS_CONFLICT")
    assert api.get(image.id).status == Image.STATUS_QUEUED


def test_deactivate_and_reactivate_need_admin(api):
    image = api.active()
    assert code_of(deactivate, api, image.id, "alice") == (DENIED, "POLICY_DENIED")
    assert code_of(reactivate, api, image.id, "alice") == (DENIED, "POLICY_DENIED")


def test_deactivate_missing_image_is_not_found(api):
    assert code_of(deactivate, api, MISSING)[0] == NOT_FOUND
    assert code_of(reactivate, api, MISSING)[0] == NOT_FOUND


def test_deactivated_image_can_still_be_deleted(api):
    image = api.active()
    deactivate(api, image.id)
    api.delete(image.id)
    assert api.stored_files() == []


def test_projects_are_isolated_end_to_end(api):
    a = api.active("alice", name="a")
    b = api.active("bob", name="b")
    assert [i.id for i in api.list("alice")] == [a.id]
    assert [i.id for i in api.list("bob")] == [b.id]
    for token, other in (("alice", b), ("bob", a)):
        assert code_of(api.get, other.id, token)[0] == NOT_FOUND
        assert code_of(api.download, other.id, token)[0] == NOT_FOUND
        assert code_of(api.delete, other.id, token)[0] == NOT_FOUND
        assert code_of(api.upload, other.id, b"x", token)[0] == NOT_FOUND
    assert api.get(a.id).project_id == PROJECT_A
    assert api.get(b.id, "bob").project_id == PROJECT_B
