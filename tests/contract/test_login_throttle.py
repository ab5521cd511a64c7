"""Service users are never locked out; failed logins are throttled per peer address.

A real identity behind a real gRPC server, called through the generated stub,
on every backend. The server also listens on [::1], so the same servicer can
be reached from a second peer address.
"""

from __future__ import annotations

import contextlib
import time

import grpc
import pytest
from google.protobuf import field_mask_pb2

from components.framework import errors
from components.framework.server import build_server
from components.identity.__main__ import COMPONENT
from components.identity.bootstrap import bootstrap
from components.identity.models import User
from stratus.identity.v1 import identity_service_pb2 as pb2
from stratus.identity.v1 import identity_service_pb2_grpc as pb2_grpc
from tests.contract.identity_fixtures import ADMIN_PASSWORD, DEMO_PASSWORD, md, serving_identity


def fails(fn, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    return info.value


def throttled_for(error: grpc.RpcError) -> float | None:
    """Seconds to wait if ``error`` is the documented throttling answer, else None."""
    if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
        return None
    info = errors.error_info(error)
    assert info is not None and info.reason == "LOGIN_THROTTLED"
    return int(info.metadata["retry_after_ms"]) / 1000


def issue_patiently(identity, username, password, project, stub=None, deadline_s=10.0):
    """IssueToken, waiting out throttling as a well-behaved client would (bounded)."""
    stub = stub or identity.stub("Identity")
    request = pb2.IssueTokenRequest(username=username, password=password, project_name=project)
    give_up = time.monotonic() + deadline_s
    while True:
        try:
            return stub.IssueToken(request)
        except grpc.RpcError as error:
            wait = throttled_for(error)
            if wait is None or time.monotonic() + wait > give_up:
                raise
            time.sleep(wait)


@pytest.fixture
def throttled(database_url, tmp_path, monkeypatch):
    """Identity with a small throttle (10 ms doubling to 40 ms) and lockout after 3."""
    with serving_identity(
        database_url,
        tmp_path,
        monkeypatch,
        login_throttle_base_seconds=0.01,
        login_throttle_max_seconds=0.04,
        login_throttle_peer_free_failures=100,
    ) as identity:
        yield identity


@pytest.fixture
def slow_throttle(database_url, tmp_path, monkeypatch):
    """Identity whose first failure delays the next attempt by 5 s; also on [::1]."""
    with (
        serving_identity(
            database_url,
            tmp_path,
            monkeypatch,
            login_throttle_base_seconds=5.0,
            login_throttle_max_seconds=30.0,
            login_throttle_peer_free_failures=2,
            login_throttle_user_free_failures=0,
        ) as identity,
        second_address(identity) as other,
    ):
        yield identity, other


@contextlib.contextmanager
def second_address(identity):
    """The same servicers (and so the same throttle) served on [::1]: another peer."""
    runtime = identity.runtime
    config = type(identity.config)(**{**vars(identity.config), "host": "[::1]"})
    server, port = build_server(
        config, runtime.server.services, COMPONENT.policy, runtime.validator, port=0
    )
    server.start()
    channel = grpc.insecure_channel(f"[::1]:{port}")
    try:
        yield pb2_grpc.IdentityStub(channel)
    finally:
        channel.close()
        server.stop(0)


def test_service_user_survives_20_wrong_passwords_then_logs_in(throttled):
    for _ in range(20):
        error = fails(issue_patiently, throttled, "compute", "wrong-password", "service")
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    password = throttled.service_password("compute")
    reply = issue_patiently(throttled, "compute", password, "service")
    assert reply.user.name == "compute" and [r.name for r in reply.roles] == ["service"]


def test_bootstrap_marks_service_users_and_not_people(throttled):
    admin = throttled.token("admin", ADMIN_PASSWORD, "admin")
    users = throttled.stub("Users").ListUsers(pb2.ListUsersRequest(), metadata=md(admin)).users
    ignoring = {u.name for u in users if u.options.ignore_lockout_failure_attempts}
    assert ignoring == {"api", "scheduler", "conductor", "compute", "image", "network", "volume"}


def test_bootstrap_again_unlocks_service_users_of_an_older_deployment(throttled):
    User.update(ignore_lockout_failure_attempts=False, locked_until=User.create_time).where(
        User.name == "compute"
    ).execute()
    bootstrap(throttled.config, demo=True)
    user = User.get(User.name == "compute")
    assert user.ignore_lockout_failure_attempts and user.locked_until is None


def test_normal_user_still_locks_out(throttled):
    for _ in range(3):
        error = fails(issue_patiently, throttled, "demo", "wrong-password", "demo")
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    locked = fails(issue_patiently, throttled, "demo", DEMO_PASSWORD, "demo")
    assert locked.code() == grpc.StatusCode.UNAUTHENTICATED
    time.sleep(2.1)
    assert issue_patiently(throttled, "demo", DEMO_PASSWORD, "demo").token


def test_admin_sets_the_option_and_the_user_is_no_longer_locked_out(throttled):
    admin = throttled.token("admin", ADMIN_PASSWORD, "admin")
    users = throttled.stub("Users")
    created = users.CreateUser(
        pb2.CreateUserRequest(
            name="robot",
            password="robot-password",
            options=pb2.UserOptions(ignore_lockout_failure_attempts=True),
        ),
        metadata=md(admin),
    )
    assert created.options.ignore_lockout_failure_attempts
    demo_id = (
        throttled.stub("Identity")
        .IssueToken(
            pb2.IssueTokenRequest(username="demo", password=DEMO_PASSWORD, project_name="demo")
        )
        .user.id
    )
    updated = users.UpdateUser(
        pb2.UpdateUserRequest(
            user=pb2.User(
                id=demo_id, options=pb2.UserOptions(ignore_lockout_failure_attempts=True)
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["options"]),
        ),
        metadata=md(admin),
    )
    assert updated.options.ignore_lockout_failure_attempts
    for _ in range(6):
        fails(issue_patiently, throttled, "demo", "wrong-password", "demo")
    assert issue_patiently(throttled, "demo", DEMO_PASSWORD, "demo").token


def test_throttled_peer_gets_resource_exhausted_login_throttled(slow_throttle):
    identity, _ = slow_throttle
    fails(identity.issue, "compute", "wrong-password", "service")
    error = fails(identity.issue, "compute", identity.service_password("compute"), "service")
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    info = errors.error_info(error)
    assert info.reason == "LOGIN_THROTTLED"
    assert 0 < int(info.metadata["retry_after_ms"]) <= 5000
    # Another user from the same peer is not delayed until the peer fails more.
    assert identity.issue("demo", DEMO_PASSWORD, "demo").token


def test_another_peer_with_the_right_password_is_not_throttled(slow_throttle):
    identity, other = slow_throttle
    for name in ("compute", "conductor", "scheduler"):
        fails(identity.issue, name, "wrong-password", "service")
    # Now 127.0.0.1 is throttled for every user ...
    error = fails(identity.issue, "demo", DEMO_PASSWORD, "demo")
    assert throttled_for(error) is not None
    # ... but the service user logs in from [::1] at once.
    password = identity.service_password("compute")
    reply = other.IssueToken(
        pb2.IssueTokenRequest(username="compute", password=password, project_name="service")
    )
    assert reply.user.name == "compute"


def test_a_service_user_keeps_logging_in_while_its_own_address_is_sprayed(slow_throttle):
    identity, _ = slow_throttle
    password = identity.service_password("compute")
    assert identity.issue("compute", password, "service").token
    for name in ("admin", "demo", "nobody"):
        fails(identity.issue, name, "wrong-password", "demo")
    assert throttled_for(fails(identity.issue, "conductor", "x-password", "service"))
    assert identity.issue("compute", password, "service").token


def test_a_typo_does_not_delay_the_next_login(database_url, tmp_path, monkeypatch):
    with serving_identity(
        database_url, tmp_path, monkeypatch, login_throttle_base_seconds=5.0
    ) as identity:
        fails(identity.issue, "demo", "a-typo-password", "demo")
        assert identity.issue("demo", DEMO_PASSWORD, "demo").token
