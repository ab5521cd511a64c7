"""Contract tests of stratus.identity.v1: a real server, the generated stubs, every backend."""

from __future__ import annotations

import dataclasses
import time

import grpc
import pytest
from google.protobuf import field_mask_pb2

from components.framework import errors
from components.identity import bootstrap, tokens
from stratus.identity.v1 import identity_service_pb2 as pb2
from tests.contract.identity_fixtures import (
    ADMIN_PASSWORD,
    DEMO_PASSWORD,
    md,
    serving_identity,
)

# Which test exercises each error case the proto comments name (tests/contract/conformance.py).
CONTRACT_CASES = {
    "stratus.identity.v1.Identity/IssueToken": {
        "INVALID_ARGUMENT": "test_missing_fields_are_invalid_argument_naming_the_field",
        "PERMISSION_DENIED": "test_project_without_a_role_is_permission_denied",
    },
    "stratus.identity.v1.Identity/ValidateToken": {
        "INVALID_ARGUMENT": "test_an_empty_subject_token_is_invalid_argument_not_the_callers_token",
        "NOT_FOUND": "test_tampered_or_garbage_subject_token_is_not_found",
        "PERMISSION_DENIED": "test_member_may_validate_only_its_own_users_tokens",
    },
    "stratus.identity.v1.Identity/RevokeToken": {
        "INVALID_ARGUMENT": "test_an_empty_subject_token_is_invalid_argument_not_the_callers_token",
        "NOT_FOUND": "test_revoking_an_expired_token_succeeds_one_never_issued_is_not_found",
        "PERMISSION_DENIED": "test_member_cannot_revoke_someone_elses_token",
    },
    "stratus.identity.v1.Identity/RescopeToken": {
        "INVALID_ARGUMENT": "test_rescope_needs_exactly_one_of_project_id_and_project_name",
        "PERMISSION_DENIED": "test_rescope_to_no_role_disabled_or_missing_is_one_answer",
    },
    "stratus.identity.v1.Identity/WatchRevocations": {
        "PERMISSION_DENIED": "test_watch_revocations_is_for_services_and_admins_only",
    },
    "stratus.identity.v1.Domains/CreateDomain": {
        "INVALID_ARGUMENT": "test_a_bad_create_or_update_is_invalid_argument",
    },
    "stratus.identity.v1.Domains/GetDomain": {
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Domains/ListDomains": {
        "INVALID_ARGUMENT": "test_a_bad_page_token_is_invalid_argument",
        "PERMISSION_DENIED": "test_list_domains_is_admin_only_and_a_user_reads_its_own_domain",
    },
    "stratus.identity.v1.Domains/UpdateDomain": {
        "INVALID_ARGUMENT": "test_a_bad_create_or_update_is_invalid_argument",
        "NOT_FOUND": "test_a_missing_target_is_not_found",
        "FAILED_PRECONDITION": "test_the_default_domain_cannot_be_disabled_or_renamed",
    },
    "stratus.identity.v1.Domains/DeleteDomain": {
        "FAILED_PRECONDITION": "test_built_in_roles_and_default_domain_are_protected",
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Projects/CreateProject": {
        "INVALID_ARGUMENT": "test_a_bad_create_or_update_is_invalid_argument",
    },
    "stratus.identity.v1.Projects/GetProject": {
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Projects/ListProjects": {
        "INVALID_ARGUMENT": "test_a_bad_page_token_is_invalid_argument",
    },
    "stratus.identity.v1.Projects/UpdateProject": {
        "INVALID_ARGUMENT": "test_a_bad_create_or_update_is_invalid_argument",
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Projects/DeleteProject": {
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Users/CreateUser": {
        "INVALID_ARGUMENT": "test_a_bad_create_or_update_is_invalid_argument",
    },
    "stratus.identity.v1.Users/GetUser": {
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Users/ListUsers": {
        "INVALID_ARGUMENT": "test_a_bad_page_token_is_invalid_argument",
    },
    "stratus.identity.v1.Users/UpdateUser": {
        "INVALID_ARGUMENT": "test_update_user_with_a_bad_value_is_invalid_argument",
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Users/DeleteUser": {
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Roles/CreateRole": {
        "INVALID_ARGUMENT": "test_a_bad_create_or_update_is_invalid_argument",
    },
    "stratus.identity.v1.Roles/GetRole": {
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Roles/ListRoles": {
        "INVALID_ARGUMENT": "test_a_bad_page_token_is_invalid_argument",
    },
    "stratus.identity.v1.Roles/UpdateRole": {
        "INVALID_ARGUMENT": "test_update_with_unknown_mask_path_is_invalid_argument",
        "NOT_FOUND": "test_a_missing_target_is_not_found",
        "FAILED_PRECONDITION": "test_a_built_in_role_cannot_be_renamed",
    },
    "stratus.identity.v1.Roles/DeleteRole": {
        "FAILED_PRECONDITION": "test_built_in_roles_and_default_domain_are_protected",
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Roles/AssignRole": {
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Roles/UnassignRole": {
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Roles/ListRoleAssignments": {
        "INVALID_ARGUMENT": "test_a_bad_page_token_is_invalid_argument",
        "PERMISSION_DENIED": "test_listing_another_users_role_assignments_is_permission_denied",
    },
    "stratus.identity.v1.Catalog/CreateService": {
        "INVALID_ARGUMENT": "test_a_bad_create_or_update_is_invalid_argument",
    },
    "stratus.identity.v1.Catalog/ListServices": {
        "INVALID_ARGUMENT": "test_a_bad_page_token_is_invalid_argument",
    },
    "stratus.identity.v1.Catalog/DeleteService": {
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Catalog/CreateEndpoint": {
        "INVALID_ARGUMENT": "test_a_bad_create_or_update_is_invalid_argument",
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
    "stratus.identity.v1.Catalog/ListEndpoints": {
        "INVALID_ARGUMENT": "test_a_bad_page_token_is_invalid_argument",
    },
    "stratus.identity.v1.Catalog/DeleteEndpoint": {
        "NOT_FOUND": "test_a_missing_target_is_not_found",
    },
}


def fails(fn, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.fixture
def admin(identity):
    return identity.token("admin", ADMIN_PASSWORD, "admin")


@pytest.fixture
def demo(identity):
    return identity.token("demo", DEMO_PASSWORD, "demo")


def find_role(identity, admin, name):
    roles = identity.stub("Roles").ListRoles(pb2.ListRolesRequest(name=name), metadata=md(admin))
    return roles.roles[0]


# Tokens -------------------------------------------------------------------------------


def test_issue_token_returns_small_token_with_user_project_roles_and_catalog(identity):
    reply = identity.issue("admin", ADMIN_PASSWORD, "admin")
    assert 0 < len(reply.token) < 255
    assert reply.user.name == "admin" and reply.project.name == "admin"
    assert [r.name for r in reply.roles] == ["admin"]
    types = {entry.type for entry in reply.catalog}
    assert {"identity", "api", "scheduler", "conductor", "image", "network", "volume"} <= types
    lifetime = reply.expires_time.seconds - reply.issued_time.seconds
    assert 3590 <= lifetime <= 3600


def test_wrong_password_and_unknown_user_get_the_same_answer(identity):
    wrong = fails(identity.issue, "demo", "not-the-password", "demo")
    unknown = fails(identity.issue, "nobody", "not-the-password", "demo")
    assert wrong.code() == unknown.code() == grpc.StatusCode.UNAUTHENTICATED
    assert wrong.details() == unknown.details()


def test_missing_fields_are_invalid_argument_naming_the_field(identity):
    error = fails(identity.issue, "demo", "", "demo")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == "password"


def test_lockout_after_consecutive_failures_then_unlocks(identity):
    for _ in range(3):
        fails(identity.issue, "demo", "wrong-password", "demo")
    locked = fails(identity.issue, "demo", DEMO_PASSWORD, "demo")
    assert locked.code() == grpc.StatusCode.UNAUTHENTICATED
    assert locked.details() == fails(identity.issue, "nobody", "x-password", "demo").details()
    time.sleep(2.1)
    assert identity.issue("demo", DEMO_PASSWORD, "demo").token


def test_project_without_a_role_is_permission_denied(identity):
    error = fails(identity.issue, "demo", DEMO_PASSWORD, "admin")
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_service_user_validates_a_users_token(identity, demo):
    service = identity.token("api", identity.service_password("api"), "service")
    reply = identity.stub("Identity").ValidateToken(
        pb2.ValidateTokenRequest(subject_token=demo), metadata=md(service)
    )
    assert reply.user.name == "demo"
    assert [r.name for r in reply.roles] == ["member"]
    assert reply.catalog


def test_member_may_validate_only_its_own_users_tokens(identity, demo, admin):
    stub = identity.stub("Identity")
    own = stub.ValidateToken(pb2.ValidateTokenRequest(subject_token=demo), metadata=md(demo))
    assert own.user.name == "demo"
    other_of_mine = identity.token("demo", DEMO_PASSWORD, "demo")
    reply = stub.ValidateToken(
        pb2.ValidateTokenRequest(subject_token=other_of_mine), metadata=md(demo)
    )
    assert reply.user.name == "demo" and reply.audit_id != own.audit_id
    error = fails(
        identity.stub("Identity").ValidateToken,
        pb2.ValidateTokenRequest(subject_token=admin),
        metadata=md(demo),
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("mangle", ["tamper", "garbage", "empty-ish"])
def test_tampered_or_garbage_subject_token_is_not_found(identity, admin, demo, mangle):
    subject = {
        "tamper": demo[:-6] + ("AAAAAA" if not demo.endswith("AAAAAA") else "BBBBBB"),
        "garbage": "not-a-token",
        "empty-ish": "=",
    }[mangle]
    error = fails(
        identity.stub("Identity").ValidateToken,
        pb2.ValidateTokenRequest(subject_token=subject),
        metadata=md(admin),
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_revoked_token_is_refused_everywhere(identity, admin, demo):
    stub = identity.stub("Identity")
    stub.RevokeToken(pb2.RevokeTokenRequest(subject_token=demo), metadata=md(demo))
    error = fails(
        stub.ValidateToken, pb2.ValidateTokenRequest(subject_token=demo), metadata=md(admin)
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    again = fails(stub.GetCatalog, pb2.GetCatalogRequest(), metadata=md(demo))
    assert again.code() == grpc.StatusCode.UNAUTHENTICATED
    # A new token for the same user is unaffected.
    assert stub.GetCatalog(
        pb2.GetCatalogRequest(), metadata=md(identity.token("demo", DEMO_PASSWORD, "demo"))
    )


def test_member_cannot_revoke_someone_elses_token(identity, admin, demo):
    error = fails(
        identity.stub("Identity").RevokeToken,
        pb2.RevokeTokenRequest(subject_token=admin),
        metadata=md(demo),
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert identity.stub("Identity").GetCatalog(pb2.GetCatalogRequest(), metadata=md(admin))


def test_a_user_may_revoke_another_of_its_own_tokens(identity, admin, demo):
    stub = identity.stub("Identity")
    other_of_mine = identity.token("demo", DEMO_PASSWORD, "demo")
    stub.RevokeToken(pb2.RevokeTokenRequest(subject_token=other_of_mine), metadata=md(demo))
    gone = fails(
        stub.ValidateToken,
        pb2.ValidateTokenRequest(subject_token=other_of_mine),
        metadata=md(admin),
    )
    assert gone.code() == grpc.StatusCode.NOT_FOUND
    assert stub.GetCatalog(pb2.GetCatalogRequest(), metadata=md(demo))


@pytest.mark.parametrize("method", ["ValidateToken", "RevokeToken"])
def test_an_empty_subject_token_is_invalid_argument_not_the_callers_token(identity, demo, method):
    stub = identity.stub("Identity")
    request_ = getattr(pb2, f"{method}Request")()
    error = fails(getattr(stub, method), request_, metadata=md(demo))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == "subject_token"
    # Nothing was done to the caller's own token.
    assert stub.GetCatalog(pb2.GetCatalogRequest(), metadata=md(demo))


def _forged(identity, demo, **changes) -> str:
    """A token signed with identity's keys: ``demo``'s payload with ``changes``."""
    provider = identity.runtime.state["provider"]
    payload = dataclasses.replace(provider.decode(demo), **changes)
    return provider.keys.fernet().encrypt(tokens.pack(payload)).decode().rstrip("=")


def test_revoking_an_expired_token_succeeds_one_never_issued_is_not_found(identity, admin, demo):
    stub = identity.stub("Identity")
    expired = _forged(identity, demo, expires_s=int(time.time()) - 60)
    stub.RevokeToken(pb2.RevokeTokenRequest(subject_token=expired), metadata=md(demo))
    stub.RevokeToken(pb2.RevokeTokenRequest(subject_token=expired), metadata=md(admin))
    tampered = demo[:-6] + ("AAAAAA" if not demo.endswith("AAAAAA") else "BBBBBB")
    for never_issued in ("not-a-token", tampered):
        error = fails(
            stub.RevokeToken, pb2.RevokeTokenRequest(subject_token=never_issued), metadata=md(admin)
        )
        assert error.code() == grpc.StatusCode.NOT_FOUND
    # Revoking twice is fine.
    stub.RevokeToken(pb2.RevokeTokenRequest(subject_token=demo), metadata=md(admin))
    stub.RevokeToken(pb2.RevokeTokenRequest(subject_token=demo), metadata=md(admin))


def test_watch_revocations_is_for_services_and_admins_only(identity, demo):
    stream = identity.stub("Identity").WatchRevocations(
        pb2.WatchRevocationsRequest(), metadata=md(demo), timeout=5
    )
    error = fails(next, stream)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


# RescopeToken -------------------------------------------------------------------------


def _rescope(identity, token, **project):
    return identity.stub("Identity").RescopeToken(
        pb2.RescopeTokenRequest(**project), metadata=md(token) if token else None
    )


def _demo_on_new_project(identity, admin, name, role="reader", **create):
    """A new project ``name`` on which the demo user holds ``role`` (``create``: more fields)."""
    project = identity.stub("Projects").CreateProject(
        pb2.CreateProjectRequest(name=name, **create), metadata=md(admin)
    )
    _assign_demo(identity, admin, project.id, role)
    return project


def _assign_demo(identity, admin, project_id, role):
    demo_id = identity.issue("demo", DEMO_PASSWORD, "demo").user.id
    identity.stub("Roles").AssignRole(
        pb2.AssignRoleRequest(
            user_id=demo_id, project_id=project_id, role_id=find_role(identity, admin, role).id
        ),
        metadata=md(admin),
    )


@pytest.mark.parametrize("by", ["id", "name"])
def test_rescope_gives_the_same_user_the_other_projects_roles_and_catalog(identity, admin, by):
    other = _demo_on_new_project(identity, admin, "demo-b", role="reader")
    caller = identity.issue("demo", DEMO_PASSWORD, "demo")
    named = {"project_id": other.id} if by == "id" else {"project_name": "demo-b"}
    reply = _rescope(identity, caller.token, **named)
    assert reply.token and reply.token != caller.token and reply.audit_id != caller.audit_id
    assert (reply.user.id, reply.user.name) == (caller.user.id, "demo")
    assert (reply.project.id, reply.project.name) == (other.id, "demo-b")
    assert [r.name for r in reply.roles] == ["reader"]
    assert [r.name for r in caller.roles] == ["member"]
    assert reply.catalog and list(reply.catalog) == list(caller.catalog)
    assert reply.expires_time.ToSeconds() <= caller.expires_time.ToSeconds()


def test_the_new_token_works_and_the_callers_token_stays_valid(identity, admin, demo):
    other = _demo_on_new_project(identity, admin, "demo-b", role="member")
    new = _rescope(identity, demo, project_id=other.id).token
    stub = identity.stub("Identity")
    seen = stub.ValidateToken(pb2.ValidateTokenRequest(subject_token=new), metadata=md(admin))
    assert seen.user.name == "demo" and seen.project.id == other.id
    assert [r.name for r in seen.roles] == ["member"]
    # The new token is accepted as a caller's token, and the old one still is.
    assert stub.GetCatalog(pb2.GetCatalogRequest(), metadata=md(new)).catalog
    old = stub.ValidateToken(pb2.ValidateTokenRequest(subject_token=demo), metadata=md(new))
    assert old.project.name == "demo"
    # Re-scoping back to the first project from the new token works too.
    assert _rescope(identity, new, project_name="demo").project.name == "demo"


def test_the_new_token_expires_when_the_callers_does_never_later(identity, admin):
    other = _demo_on_new_project(identity, admin, "demo-b")
    provider = identity.runtime.state["provider"]
    provider.lifetime_seconds = 120
    try:
        caller = identity.issue("demo", DEMO_PASSWORD, "demo")
    finally:
        provider.lifetime_seconds = 3600
    assert caller.expires_time.ToSeconds() <= time.time() + 120
    reply = _rescope(identity, caller.token, project_id=other.id)
    assert reply.expires_time.ToSeconds() == caller.expires_time.ToSeconds()
    # Re-scoping again from the new token does not lengthen it either.
    again = _rescope(identity, reply.token, project_name="demo")
    assert again.expires_time.ToSeconds() == caller.expires_time.ToSeconds()
    # A token from a longer-lived login keeps the provider's lifetime as its bound.
    long = identity.issue("demo", DEMO_PASSWORD, "demo")
    assert long.expires_time.ToSeconds() > caller.expires_time.ToSeconds()
    assert (
        _rescope(identity, long.token, project_id=other.id).expires_time.ToSeconds()
        <= long.expires_time.ToSeconds()
    )


@pytest.mark.parametrize("by", ["id", "name"])
def test_rescope_to_no_role_disabled_or_missing_is_one_answer(identity, admin, demo, by):
    """No role, disabled, deleted: the same project id or name, three states, one answer."""
    projects = identity.stub("Projects")
    project = projects.CreateProject(pb2.CreateProjectRequest(name="demo-b"), metadata=md(admin))
    named = {"project_id": project.id} if by == "id" else {"project_name": "demo-b"}

    def denied():
        error = fails(_rescope, identity, demo, **named)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert errors.error_info(error).reason == "NO_PROJECT_ACCESS"
        return error.details()

    without_role = denied()
    _assign_demo(identity, admin, project.id, "member")
    assert _rescope(identity, demo, **named).project.id == project.id
    projects.UpdateProject(
        pb2.UpdateProjectRequest(
            project=pb2.Project(id=project.id, enabled=False),
            update_mask=field_mask_pb2.FieldMask(paths=["enabled"]),
        ),
        metadata=md(admin),
    )
    disabled = denied()
    projects.DeleteProject(pb2.DeleteProjectRequest(project_id=project.id), metadata=md(admin))
    missing = denied()
    assert without_role == disabled == missing
    # The caller's token is untouched by the refusals.
    assert identity.stub("Identity").GetCatalog(pb2.GetCatalogRequest(), metadata=md(demo))


def test_rescope_to_a_project_the_user_holds_no_role_on_is_permission_denied(identity, demo):
    error = fails(_rescope, identity, demo, project_name="admin")
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert errors.error_info(error).reason == "NO_PROJECT_ACCESS"
    never = fails(_rescope, identity, demo, project_id="00000000-0000-4000-8000-000000000000")
    assert errors.error_info(never).reason == "NO_PROJECT_ACCESS"


def test_rescope_by_name_looks_only_in_the_users_domain(identity, admin, demo):
    domain = identity.stub("Domains").CreateDomain(
        pb2.CreateDomainRequest(name="partners"), metadata=md(admin)
    )
    elsewhere = _demo_on_new_project(identity, admin, "elsewhere", domain_id=domain.id)
    error = fails(_rescope, identity, demo, project_name="elsewhere")
    assert errors.error_info(error).reason == "NO_PROJECT_ACCESS"
    assert _rescope(identity, demo, project_id=elsewhere.id).project.name == "elsewhere"


@pytest.mark.parametrize("given", ["neither", "both"])
def test_rescope_needs_exactly_one_of_project_id_and_project_name(identity, demo, given):
    project_id = identity.issue("demo", DEMO_PASSWORD, "demo").project.id
    named = {} if given == "neither" else {"project_id": project_id, "project_name": "demo"}
    error = fails(_rescope, identity, demo, **named)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == "project_id"


def test_rescope_without_a_token_or_with_a_revoked_one_is_unauthenticated(identity, demo):
    anonymous = fails(_rescope, identity, "", project_name="demo")
    assert anonymous.code() == grpc.StatusCode.UNAUTHENTICATED
    identity.stub("Identity").RevokeToken(
        pb2.RevokeTokenRequest(subject_token=demo), metadata=md(demo)
    )
    revoked = fails(_rescope, identity, demo, project_name="demo")
    assert revoked.code() == grpc.StatusCode.UNAUTHENTICATED


def _update_user(identity, admin, user_id, mask, **fields):
    return identity.stub("Users").UpdateUser(
        pb2.UpdateUserRequest(
            user=pb2.User(id=user_id, **fields), update_mask=field_mask_pb2.FieldMask(paths=mask)
        ),
        metadata=md(admin),
    )


@pytest.mark.parametrize("change", ["password", "disable", "delete"])
def test_password_change_disable_or_delete_revokes_the_users_tokens(identity, admin, demo, change):
    stub = identity.stub("Identity")
    user_id = stub.ValidateToken(
        pb2.ValidateTokenRequest(subject_token=demo), metadata=md(demo)
    ).user.id
    if change == "password":
        _update_user(identity, admin, user_id, ["password"], password="a-new-password")
    elif change == "disable":
        _update_user(identity, admin, user_id, ["enabled"], enabled=False)
    else:
        identity.stub("Users").DeleteUser(
            pb2.DeleteUserRequest(user_id=user_id), metadata=md(admin)
        )
    error = fails(
        stub.ValidateToken, pb2.ValidateTokenRequest(subject_token=demo), metadata=md(admin)
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    if change == "password":
        assert identity.token("demo", "a-new-password", "demo")


def test_rotation_keeps_recent_tokens_and_drops_rotated_out_keys(identity, admin, demo):
    keys = identity.runtime.state["provider"].keys
    stub = identity.stub("Identity")
    keys.rotate()
    assert (
        stub.ValidateToken(
            pb2.ValidateTokenRequest(subject_token=demo), metadata=md(admin)
        ).user.name
        == "demo"
    )
    # With three active keys a token survives one rotation, not two.
    keys.rotate()
    fresh_admin = identity.token("admin", ADMIN_PASSWORD, "admin")
    error = fails(
        stub.ValidateToken, pb2.ValidateTokenRequest(subject_token=demo), metadata=md(fresh_admin)
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_catalog_is_returned_and_admin_manages_services_and_endpoints(identity, admin, demo):
    catalog = identity.stub("Catalog")
    svc = catalog.CreateService(
        pb2.CreateServiceRequest(type="dns", name="dns"), metadata=md(admin)
    )
    endpoint = catalog.CreateEndpoint(
        pb2.CreateEndpointRequest(service_id=svc.id, region="RegionOne", address="127.0.0.1:5353"),
        metadata=md(admin),
    )
    reply = identity.stub("Identity").GetCatalog(pb2.GetCatalogRequest(), metadata=md(demo))
    dns = next(e for e in reply.catalog if e.type == "dns")
    assert dns.endpoints[0].address == "127.0.0.1:5353"
    dup = fails(
        catalog.CreateEndpoint,
        pb2.CreateEndpointRequest(
            service_id=svc.id, region="RegionOne", address="127.0.0.1:5353", interface="public"
        ),
        metadata=md(admin),
    )
    assert dup.code() == grpc.StatusCode.ALREADY_EXISTS
    bad = fails(
        catalog.CreateEndpoint,
        pb2.CreateEndpointRequest(service_id=svc.id, region="Other", address="no-port"),
        metadata=md(admin),
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    denied = fails(
        catalog.CreateService, pb2.CreateServiceRequest(type="x", name="x"), metadata=md(demo)
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = catalog.ListEndpoints(pb2.ListEndpointsRequest(service_id=svc.id), metadata=md(demo))
    assert [e.id for e in listed.endpoints] == [endpoint.id]
    catalog.DeleteEndpoint(pb2.DeleteEndpointRequest(endpoint_id=endpoint.id), metadata=md(admin))
    catalog.DeleteService(pb2.DeleteServiceRequest(service_id=svc.id), metadata=md(admin))
    gone = fails(
        catalog.DeleteService, pb2.DeleteServiceRequest(service_id=svc.id), metadata=md(admin)
    )
    assert gone.code() == grpc.StatusCode.NOT_FOUND
    names = {
        s.type for s in catalog.ListServices(pb2.ListServicesRequest(), metadata=md(demo)).services
    }
    assert "dns" not in names


def test_a_service_has_several_endpoints_per_region_and_interface(identity, admin, demo):
    catalog = identity.stub("Catalog")
    svc = catalog.CreateService(
        pb2.CreateServiceRequest(type="dns", name="dns"), metadata=md(admin)
    )

    def create(address: str, interface: str = "") -> pb2.Endpoint:
        request = pb2.CreateEndpointRequest(
            service_id=svc.id, region="RegionOne", address=address, interface=interface
        )
        return catalog.CreateEndpoint(request, metadata=md(admin))

    internal = create("10.251.0.2:6353", "internal")
    replicas = [create("10.251.0.3:5353"), create("10.251.0.2:5353", "public")]
    # The same address on another interface is another endpoint.
    admin_endpoint = create("10.251.0.2:5353", "admin")
    assert [e.interface for e in replicas] == ["public", "public"]
    assert (internal.interface, admin_endpoint.interface) == ("internal", "admin")

    reply = identity.stub("Identity").GetCatalog(pb2.GetCatalogRequest(), metadata=md(demo))
    dns = next(e for e in reply.catalog if e.type == "dns")
    assert [(e.interface, e.address) for e in dns.endpoints] == [
        ("public", "10.251.0.2:5353"),
        ("public", "10.251.0.3:5353"),
        ("admin", "10.251.0.2:5353"),
        ("internal", "10.251.0.2:6353"),
    ]
    listed = catalog.ListEndpoints(
        pb2.ListEndpointsRequest(service_id=svc.id, interface="public"), metadata=md(demo)
    )
    assert sorted(e.id for e in listed.endpoints) == sorted(e.id for e in replicas)
    unknown = fails(
        catalog.ListEndpoints, pb2.ListEndpointsRequest(interface="private"), metadata=md(demo)
    )
    assert unknown.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(unknown).metadata["field"] == "interface"


def _catalog_entry(identity, token: str, type_: str) -> pb2.CatalogEntry:
    reply = identity.stub("Identity").GetCatalog(pb2.GetCatalogRequest(), metadata=md(token))
    return next(e for e in reply.catalog if e.type == type_)


def _endpoints(identity, token: str, type_: str) -> list[tuple[str, str]]:
    return [(e.interface, e.address) for e in _catalog_entry(identity, token, type_).endpoints]


def test_bootstrap_publishes_every_replica_public_and_internal_and_follows_changes(
    database_url, tmp_path, monkeypatch
):
    settings = {
        "catalog_endpoints": {"api": "10.251.0.2:8774|10.251.0.3:8774"},
        "catalog_internal_endpoints": {"api": "10.251.0.2:18774 | 10.251.0.3:18774"},
    }
    with serving_identity(database_url, tmp_path, monkeypatch, **settings) as identity:
        admin = identity.token("admin", ADMIN_PASSWORD, "admin")
        assert _endpoints(identity, admin, "api") == [
            ("public", "10.251.0.2:8774"),
            ("public", "10.251.0.3:8774"),
            ("internal", "10.251.0.2:18774"),
            ("internal", "10.251.0.3:18774"),
        ]
        # A type without internal addresses has public endpoints only.
        assert _endpoints(identity, admin, "image") == [("public", "127.0.0.1:9292")]
        ids = {e.address: e.id for e in _catalog_entry(identity, admin, "api").endpoints}

        # The next start: one replica moved, the internal interface dropped.
        moved = dataclasses.replace(
            identity.config,
            catalog_endpoints={"api": "10.251.0.3:8774|10.251.0.4:8774"},
            catalog_internal_endpoints={},
        )
        bootstrap.bootstrap(moved, demo=True)
        bootstrap.bootstrap(moved, demo=True)
        kept = _catalog_entry(identity, admin, "api").endpoints
        assert [(e.interface, e.address) for e in kept] == [
            ("public", "10.251.0.3:8774"),
            ("public", "10.251.0.4:8774"),
        ]
        assert kept[0].id == ids["10.251.0.3:8774"]


# Resources ----------------------------------------------------------------------------


def test_projects_users_roles_and_assignments_lifecycle(identity, admin):
    projects, users, roles = (identity.stub(n) for n in ("Projects", "Users", "Roles"))
    project = projects.CreateProject(pb2.CreateProjectRequest(name="team-b"), metadata=md(admin))
    dup = fails(projects.CreateProject, pb2.CreateProjectRequest(name="team-b"), metadata=md(admin))
    assert dup.code() == grpc.StatusCode.ALREADY_EXISTS
    user = users.CreateUser(
        pb2.CreateUserRequest(name="bob", password="bob-password"), metadata=md(admin)
    )
    assert user.password == ""
    member = find_role(identity, admin, "member")
    roles.AssignRole(
        pb2.AssignRoleRequest(user_id=user.id, project_id=project.id, role_id=member.id),
        metadata=md(admin),
    )
    token = identity.issue("bob", "bob-password", "team-b")
    assert token.project.id == project.id and [r.name for r in token.roles] == ["member"]
    listed = roles.ListRoleAssignments(
        pb2.ListRoleAssignmentsRequest(user_id=user.id), metadata=md(admin)
    )
    assert [(a.project_id, a.role_name) for a in listed.assignments] == [(project.id, "member")]
    roles.UnassignRole(
        pb2.UnassignRoleRequest(user_id=user.id, project_id=project.id, role_id=member.id),
        metadata=md(admin),
    )
    assert fails(identity.issue, "bob", "bob-password", "team-b").code() == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    renamed = projects.UpdateProject(
        pb2.UpdateProjectRequest(
            project=pb2.Project(id=project.id, name="team-c"),
            update_mask=field_mask_pb2.FieldMask(paths=["name"]),
        ),
        metadata=md(admin),
    )
    assert renamed.name == "team-c"
    projects.DeleteProject(pb2.DeleteProjectRequest(project_id=project.id), metadata=md(admin))
    assert (
        fails(
            projects.GetProject, pb2.GetProjectRequest(project_id=project.id), metadata=md(admin)
        ).code()
        == grpc.StatusCode.NOT_FOUND
    )


def test_list_pages_through_every_user_once(identity, admin):
    users = identity.stub("Users")
    for i in range(5):
        users.CreateUser(pb2.CreateUserRequest(name=f"pager-{i}"), metadata=md(admin))
    seen, token = [], ""
    while True:
        page = users.ListUsers(
            pb2.ListUsersRequest(page_size=3, page_token=token), metadata=md(admin)
        )
        assert len(page.users) <= 3
        seen += [u.name for u in page.users]
        token = page.next_page_token
        if not token:
            break
    # admin, demo, seven service users and the five made here, each exactly once.
    assert len(seen) == len(set(seen)) == 2 + 7 + 5
    bad = fails(users.ListUsers, pb2.ListUsersRequest(page_token="%%%"), metadata=md(admin))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "call, request_, field",
    [
        ("GetUser", pb2.GetUserRequest(user_id="not-a-uuid"), "user_id"),
        ("CreateUser", pb2.CreateUserRequest(name=""), "name"),
        ("CreateUser", pb2.CreateUserRequest(name="x" * 300), "name"),
        ("CreateUser", pb2.CreateUserRequest(name="shorty", password="short"), "password"),
    ],
)
def test_bad_input_is_invalid_argument_naming_the_field(identity, admin, call, request_, field):
    error = fails(getattr(identity.stub("Users"), call), request_, metadata=md(admin))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == field


MISSING = "00000000-0000-4000-8000-000000000000"
MASK = field_mask_pb2.FieldMask


@pytest.mark.parametrize(
    "service, method, request_",
    [
        ("Domains", "GetDomain", pb2.GetDomainRequest(domain_id=MISSING)),
        (
            "Domains",
            "UpdateDomain",
            pb2.UpdateDomainRequest(
                domain=pb2.Domain(id=MISSING), update_mask=MASK(paths=["description"])
            ),
        ),
        ("Domains", "DeleteDomain", pb2.DeleteDomainRequest(domain_id=MISSING)),
        ("Projects", "GetProject", pb2.GetProjectRequest(project_id=MISSING)),
        (
            "Projects",
            "UpdateProject",
            pb2.UpdateProjectRequest(
                project=pb2.Project(id=MISSING), update_mask=MASK(paths=["description"])
            ),
        ),
        ("Projects", "DeleteProject", pb2.DeleteProjectRequest(project_id=MISSING)),
        ("Users", "GetUser", pb2.GetUserRequest(user_id=MISSING)),
        (
            "Users",
            "UpdateUser",
            pb2.UpdateUserRequest(
                user=pb2.User(id=MISSING), update_mask=MASK(paths=["description"])
            ),
        ),
        ("Users", "DeleteUser", pb2.DeleteUserRequest(user_id=MISSING)),
        ("Roles", "GetRole", pb2.GetRoleRequest(role_id=MISSING)),
        (
            "Roles",
            "UpdateRole",
            pb2.UpdateRoleRequest(
                role=pb2.Role(id=MISSING), update_mask=MASK(paths=["description"])
            ),
        ),
        ("Roles", "DeleteRole", pb2.DeleteRoleRequest(role_id=MISSING)),
        ("Roles", "AssignRole", "assign-missing-role"),
        ("Roles", "UnassignRole", "unassign-unheld-role"),
        ("Catalog", "DeleteService", pb2.DeleteServiceRequest(service_id=MISSING)),
        (
            "Catalog",
            "CreateEndpoint",
            pb2.CreateEndpointRequest(service_id=MISSING, region="RegionOne", address="h:1"),
        ),
        ("Catalog", "DeleteEndpoint", pb2.DeleteEndpointRequest(endpoint_id=MISSING)),
    ],
)
def test_a_missing_target_is_not_found(identity, admin, service, method, request_):
    if isinstance(request_, str):
        # A real user and project, and a role that does not exist or is not held.
        user = identity.issue("demo", DEMO_PASSWORD, "demo")
        role_id = (
            MISSING if request_ == "assign-missing-role" else find_role(identity, admin, "admin").id
        )
        cls = getattr(pb2, f"{method}Request")
        request_ = cls(user_id=user.user.id, project_id=user.project.id, role_id=role_id)
    error = fails(getattr(identity.stub(service), method), request_, metadata=md(admin))
    assert error.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    "service, method",
    [
        ("Domains", "ListDomains"),
        ("Projects", "ListProjects"),
        ("Users", "ListUsers"),
        ("Roles", "ListRoles"),
        ("Roles", "ListRoleAssignments"),
        ("Catalog", "ListServices"),
        ("Catalog", "ListEndpoints"),
    ],
)
def test_a_bad_page_token_is_invalid_argument(identity, admin, service, method):
    request_ = getattr(pb2, f"{method}Request")(page_token="%%%")
    error = fails(getattr(identity.stub(service), method), request_, metadata=md(admin))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "service, method, request_, field",
    [
        ("Domains", "CreateDomain", pb2.CreateDomainRequest(name=""), "name"),
        ("Domains", "CreateDomain", pb2.CreateDomainRequest(name="d" * 65), "name"),
        ("Domains", "UpdateDomain", pb2.UpdateDomainRequest(domain=pb2.Domain(id=MISSING)), None),
        ("Projects", "CreateProject", pb2.CreateProjectRequest(name=""), "name"),
        (
            "Projects",
            "CreateProject",
            pb2.CreateProjectRequest(name="p", domain_id=MISSING),
            "domain_id",
        ),
        (
            "Projects",
            "UpdateProject",
            pb2.UpdateProjectRequest(
                project=pb2.Project(id=MISSING), update_mask=MASK(paths=["domain_id"])
            ),
            None,
        ),
        ("Users", "CreateUser", pb2.CreateUserRequest(name="u", domain_id=MISSING), "domain_id"),
        (
            "Users",
            "CreateUser",
            pb2.CreateUserRequest(name="u", default_project_id=MISSING),
            "default_project_id",
        ),
        ("Users", "CreateUser", pb2.CreateUserRequest(name="u", email="no-at-sign"), "email"),
        ("Roles", "CreateRole", pb2.CreateRoleRequest(name=""), "name"),
        ("Catalog", "CreateService", pb2.CreateServiceRequest(type="Not A Type"), "type"),
        (
            "Catalog",
            "CreateEndpoint",
            "endpoint-without-port",
            "address",
        ),
        ("Catalog", "CreateEndpoint", "endpoint-on-an-unknown-interface", "interface"),
    ],
)
def test_a_bad_create_or_update_is_invalid_argument(
    identity, admin, service, method, request_, field
):
    if request_ in ("endpoint-without-port", "endpoint-on-an-unknown-interface"):
        svc = identity.stub("Catalog").CreateService(
            pb2.CreateServiceRequest(type="dns", name="dns"), metadata=md(admin)
        )
        if request_ == "endpoint-without-port":
            request_ = pb2.CreateEndpointRequest(service_id=svc.id, address="no-port")
        else:
            request_ = pb2.CreateEndpointRequest(
                service_id=svc.id, address="127.0.0.1:5353", interface="private"
            )
    error = fails(getattr(identity.stub(service), method), request_, metadata=md(admin))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    if field is not None:
        assert errors.error_info(error).metadata["field"] == field


def test_update_user_with_a_bad_value_is_invalid_argument(identity, admin, demo):
    user_id = identity.issue("demo", DEMO_PASSWORD, "demo").user.id
    for paths, user, field in [
        (["email"], pb2.User(email="nobody"), "user.email"),
        (["default_project_id"], pb2.User(default_project_id=MISSING), "user.default_project_id"),
        (["domain_id"], pb2.User(domain_id=MISSING), None),
        ([], pb2.User(), None),
    ]:
        user.id = user_id
        error = fails(
            identity.stub("Users").UpdateUser,
            pb2.UpdateUserRequest(user=user, update_mask=MASK(paths=paths)),
            metadata=md(admin),
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, paths
        if field is not None:
            assert errors.error_info(error).metadata["field"] == field
    assert (
        identity.stub("Users")
        .GetUser(pb2.GetUserRequest(user_id=user_id), metadata=md(admin))
        .email
        == ""
    )


def test_list_domains_is_admin_only_and_a_user_reads_its_own_domain(identity, admin, demo):
    domains = identity.stub("Domains")
    denied = fails(domains.ListDomains, pb2.ListDomainsRequest(), metadata=md(demo))
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = domains.ListDomains(pb2.ListDomainsRequest(), metadata=md(admin)).domains
    default = next(d for d in listed if d.name == "default")
    other = domains.CreateDomain(pb2.CreateDomainRequest(name="elsewhere"), metadata=md(admin))
    assert {
        d.name for d in domains.ListDomains(pb2.ListDomainsRequest(), metadata=md(admin)).domains
    } == {
        "default",
        "elsewhere",
    }
    own = domains.GetDomain(pb2.GetDomainRequest(domain_id=default.id), metadata=md(demo))
    assert own.name == "default"
    hidden = fails(domains.GetDomain, pb2.GetDomainRequest(domain_id=other.id), metadata=md(demo))
    assert hidden.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("change", [{"enabled": False}, {"name": "renamed"}])
def test_the_default_domain_cannot_be_disabled_or_renamed(identity, admin, change):
    domains = identity.stub("Domains")
    default = domains.ListDomains(
        pb2.ListDomainsRequest(name="default"), metadata=md(admin)
    ).domains[0]
    error = fails(
        domains.UpdateDomain,
        pb2.UpdateDomainRequest(
            domain=pb2.Domain(id=default.id, **change), update_mask=MASK(paths=list(change))
        ),
        metadata=md(admin),
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    kept = domains.GetDomain(pb2.GetDomainRequest(domain_id=default.id), metadata=md(admin))
    assert (kept.name, kept.enabled) == ("default", True)
    described = domains.UpdateDomain(
        pb2.UpdateDomainRequest(
            domain=pb2.Domain(id=default.id, description="the first"),
            update_mask=MASK(paths=["description"]),
        ),
        metadata=md(admin),
    )
    assert described.description == "the first"


def test_listing_another_users_role_assignments_is_permission_denied(identity, admin, demo):
    admin_user = identity.issue("admin", ADMIN_PASSWORD, "admin").user.id
    error = fails(
        identity.stub("Roles").ListRoleAssignments,
        pb2.ListRoleAssignmentsRequest(user_id=admin_user),
        metadata=md(demo),
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_built_in_role_cannot_be_renamed(identity, admin):
    member = find_role(identity, admin, "member")
    error = fails(
        identity.stub("Roles").UpdateRole,
        pb2.UpdateRoleRequest(
            role=pb2.Role(id=member.id, name="members"), update_mask=MASK(paths=["name"])
        ),
        metadata=md(admin),
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert find_role(identity, admin, "member").id == member.id


def test_member_of_one_project_cannot_see_or_change_another(identity, admin, demo):
    admin_project = identity.issue("admin", ADMIN_PASSWORD, "admin").project.id
    projects = identity.stub("Projects")
    hidden = fails(
        projects.GetProject, pb2.GetProjectRequest(project_id=admin_project), metadata=md(demo)
    )
    assert hidden.code() == grpc.StatusCode.NOT_FOUND
    visible = projects.ListProjects(pb2.ListProjectsRequest(), metadata=md(demo))
    assert [p.name for p in visible.projects] == ["demo"]
    for call, request_ in [
        (
            projects.UpdateProject,
            pb2.UpdateProjectRequest(
                project=pb2.Project(id=admin_project, name="mine"),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
            ),
        ),
        (projects.DeleteProject, pb2.DeleteProjectRequest(project_id=admin_project)),
        (identity.stub("Users").ListUsers, pb2.ListUsersRequest()),
        (identity.stub("Roles").AssignRole, pb2.AssignRoleRequest()),
    ]:
        assert fails(call, request_, metadata=md(demo)).code() == (
            grpc.StatusCode.PERMISSION_DENIED
        )
    own = identity.stub("Roles").ListRoleAssignments(
        pb2.ListRoleAssignmentsRequest(), metadata=md(demo)
    )
    assert {a.role_name for a in own.assignments} == {"member"}


def test_reader_can_read_but_not_write(identity, admin):
    users, roles = identity.stub("Users"), identity.stub("Roles")
    user = users.CreateUser(
        pb2.CreateUserRequest(name="rita", password="rita-password"), metadata=md(admin)
    )
    demo_project = identity.issue("demo", DEMO_PASSWORD, "demo").project.id
    reader = find_role(identity, admin, "reader")
    roles.AssignRole(
        pb2.AssignRoleRequest(user_id=user.id, project_id=demo_project, role_id=reader.id),
        metadata=md(admin),
    )
    token = identity.token("rita", "rita-password", "demo")
    assert (
        identity.stub("Projects")
        .GetProject(pb2.GetProjectRequest(project_id=demo_project), metadata=md(token))
        .name
        == "demo"
    )
    error = fails(
        identity.stub("Projects").CreateProject,
        pb2.CreateProjectRequest(name="nope"),
        metadata=md(token),
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_built_in_roles_and_default_domain_are_protected(identity, admin):
    admin_role = find_role(identity, admin, "admin")
    error = fails(
        identity.stub("Roles").DeleteRole,
        pb2.DeleteRoleRequest(role_id=admin_role.id),
        metadata=md(admin),
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    default = (
        identity.stub("Domains")
        .ListDomains(pb2.ListDomainsRequest(name="default"), metadata=md(admin))
        .domains[0]
    )
    error = fails(
        identity.stub("Domains").DeleteDomain,
        pb2.DeleteDomainRequest(domain_id=default.id),
        metadata=md(admin),
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_domain_lifecycle(identity, admin):
    domains = identity.stub("Domains")
    domain = domains.CreateDomain(pb2.CreateDomainRequest(name="partners"), metadata=md(admin))
    in_use = fails(
        domains.DeleteDomain, pb2.DeleteDomainRequest(domain_id=domain.id), metadata=md(admin)
    )
    assert in_use.code() == grpc.StatusCode.FAILED_PRECONDITION
    domains.UpdateDomain(
        pb2.UpdateDomainRequest(
            domain=pb2.Domain(id=domain.id, enabled=False),
            update_mask=field_mask_pb2.FieldMask(paths=["enabled"]),
        ),
        metadata=md(admin),
    )
    domains.DeleteDomain(pb2.DeleteDomainRequest(domain_id=domain.id), metadata=md(admin))
    assert (
        fails(
            domains.GetDomain, pb2.GetDomainRequest(domain_id=domain.id), metadata=md(admin)
        ).code()
        == grpc.StatusCode.NOT_FOUND
    )


def test_update_with_unknown_mask_path_is_invalid_argument(identity, admin):
    error = fails(
        identity.stub("Roles").UpdateRole,
        pb2.UpdateRoleRequest(
            role=pb2.Role(id="00000000-0000-4000-8000-000000000000"),
            update_mask=field_mask_pb2.FieldMask(paths=["built_in"]),
        ),
        metadata=md(admin),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_repeated_request_id_returns_the_first_result(identity, admin):
    projects = identity.stub("Projects")
    first = projects.CreateProject(
        pb2.CreateProjectRequest(name="once", request_id="r-1"), metadata=md(admin)
    )
    second = projects.CreateProject(
        pb2.CreateProjectRequest(name="once", request_id="r-1"), metadata=md(admin)
    )
    assert first.id == second.id


def test_every_rpc_is_implemented(identity, admin):
    for service in pb2.DESCRIPTOR.services_by_name.values():
        stub = identity.stub(service.name)
        for method in service.methods:
            request_cls = getattr(pb2, method.input_type.name)
            try:
                getattr(stub, method.name)(request_cls(), metadata=md(admin))
            except grpc.RpcError as exc:
                assert exc.code() != grpc.StatusCode.UNIMPLEMENTED, method.full_name
                assert exc.code() != grpc.StatusCode.INTERNAL, method.full_name
