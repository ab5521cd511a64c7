"""WatchRevocations: a real identity and the token validator every component uses.

The validator is built as the framework builds it (CachingValidator around
IdentityValidator, with the api service user's token) and talks to a real
identity server on 127.0.0.1:0, on every backend.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import time

import grpc
import pytest
from google.protobuf import field_mask_pb2

from components.framework import errors, identity_client
from components.framework.auth import CachingValidator
from components.framework.config import Config
from stratus.identity.v1 import identity_service_pb2 as pb2
from tests.contract.identity_fixtures import ADMIN_PASSWORD, md, serving_identity

WITHIN_SECONDS = 1.0


@pytest.fixture
def identity(database_url, tmp_path, monkeypatch):
    with serving_identity(
        database_url, tmp_path, monkeypatch, login_throttle_base_seconds=0.0
    ) as served:
        yield served


@pytest.fixture
def admin(identity):
    return identity.token("admin", ADMIN_PASSWORD, "admin")


def component_config(identity, ttl: float) -> Config:
    return Config(
        component="api",
        identity_address=f"127.0.0.1:{identity.runtime.port}",
        data_dir=identity.config.data_dir,
        token_cache_seconds=ttl,
    )


@contextlib.contextmanager
def component_validator(identity, ttl: float = 30.0):
    """The validator a component builds (framework.component.prepare), closed after."""
    clients = identity_client.clients_for(component_config(identity, ttl))
    validator = CachingValidator(identity_client.IdentityValidator(clients), ttl)
    try:
        yield validator
    finally:
        validator.close()
        clients.close()


def cached(validator: CachingValidator, token: str):
    """Validate ``token`` once the revocation watch is up, and check it is cached."""
    who = validator.validate(token)
    assert validator.watcher is not None and validator.watcher.connected.wait(5)
    who = validator.validate(token)
    assert validator.cache.get(validator._key(token)) is not None
    return who


def refused_within(validator: CachingValidator, token: str, seconds: float) -> bool:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        try:
            validator.validate(token)
        except errors.Unauthenticated:
            return True
        time.sleep(0.02)
    return False


class World:
    """A domain with a project and a member user, made through the admin RPCs."""

    def __init__(self, identity, admin: str) -> None:
        self.identity = identity
        meta = md(admin)
        self.domain = identity.stub("Domains").CreateDomain(
            pb2.CreateDomainRequest(name="acme"), metadata=meta
        )
        self.project = identity.stub("Projects").CreateProject(
            pb2.CreateProjectRequest(name="shop", domain_id=self.domain.id), metadata=meta
        )
        self.user = identity.stub("Users").CreateUser(
            pb2.CreateUserRequest(name="ann", domain_id=self.domain.id, password="ann-password"),
            metadata=meta,
        )
        roles = identity.stub("Roles").ListRoles(pb2.ListRolesRequest(name="member"), metadata=meta)
        self.role = roles.roles[0]
        identity.stub("Roles").AssignRole(
            pb2.AssignRoleRequest(
                user_id=self.user.id, project_id=self.project.id, role_id=self.role.id
            ),
            metadata=meta,
        )

    def token(self) -> str:
        return (
            self.identity.stub("Identity")
            .IssueToken(
                pb2.IssueTokenRequest(
                    username="ann",
                    password="ann-password",
                    project_name="shop",
                    domain_name="acme",
                )
            )
            .token
        )


def _mask(*paths):
    return field_mask_pb2.FieldMask(paths=list(paths))


CHANGES = {
    "revoke-token": lambda w, meta, token: w.identity.stub("Identity").RevokeToken(
        pb2.RevokeTokenRequest(subject_token=token), metadata=meta
    ),
    "delete-user": lambda w, meta, token: w.identity.stub("Users").DeleteUser(
        pb2.DeleteUserRequest(user_id=w.user.id), metadata=meta
    ),
    "disable-user": lambda w, meta, token: w.identity.stub("Users").UpdateUser(
        pb2.UpdateUserRequest(
            user=pb2.User(id=w.user.id, enabled=False), update_mask=_mask("enabled")
        ),
        metadata=meta,
    ),
    "change-password": lambda w, meta, token: w.identity.stub("Users").UpdateUser(
        pb2.UpdateUserRequest(
            user=pb2.User(id=w.user.id, password="another-password"),
            update_mask=_mask("password"),
        ),
        metadata=meta,
    ),
    "disable-project": lambda w, meta, token: w.identity.stub("Projects").UpdateProject(
        pb2.UpdateProjectRequest(
            project=pb2.Project(id=w.project.id, enabled=False), update_mask=_mask("enabled")
        ),
        metadata=meta,
    ),
    "delete-project": lambda w, meta, token: w.identity.stub("Projects").DeleteProject(
        pb2.DeleteProjectRequest(project_id=w.project.id), metadata=meta
    ),
    "disable-domain": lambda w, meta, token: w.identity.stub("Domains").UpdateDomain(
        pb2.UpdateDomainRequest(
            domain=pb2.Domain(id=w.domain.id, enabled=False), update_mask=_mask("enabled")
        ),
        metadata=meta,
    ),
    "unassign-role": lambda w, meta, token: w.identity.stub("Roles").UnassignRole(
        pb2.UnassignRoleRequest(user_id=w.user.id, project_id=w.project.id, role_id=w.role.id),
        metadata=meta,
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_cached_token_is_refused_within_a_second_of_the_change(identity, admin, change):
    world = World(identity, admin)
    token = world.token()
    with component_validator(identity) as validator:
        assert cached(validator, token).user_id == world.user.id
        CHANGES[change](world, md(admin), token)
        assert refused_within(validator, token, WITHIN_SECONDS)


def test_other_cached_tokens_stay_cached(identity, admin):
    world = World(identity, admin)
    token, other = world.token(), identity.token("admin", ADMIN_PASSWORD, "admin")
    with component_validator(identity) as validator:
        cached(validator, token)
        cached(validator, other)
        CHANGES["revoke-token"](world, md(admin), token)
        assert refused_within(validator, token, WITHIN_SECONDS)
        assert validator.cache.get(validator._key(other)) is not None


def test_without_identity_the_cache_answers_until_its_lifetime(identity, admin):
    world = World(identity, admin)
    token = world.token()
    ttl = 1.5
    with component_validator(identity, ttl=ttl) as validator:
        who = cached(validator, token)
        identity.runtime.server.stop(0)
        assert validator.validate(token) == who
        give_up = time.monotonic() + ttl + 3
        outcome = None
        while outcome is None and time.monotonic() < give_up:
            try:
                validator.validate(token)
                time.sleep(0.05)
            except errors.Unavailable as exc:
                outcome = exc
        assert isinstance(outcome, errors.Unavailable)


def test_watch_needs_the_service_role(identity):
    demo = identity.token("demo", "demo-secret-1", "demo")
    stream = identity.stub("Identity").WatchRevocations(
        pb2.WatchRevocationsRequest(), metadata=md(demo)
    )
    with pytest.raises(grpc.RpcError) as info:
        next(stream)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_watch_starts_with_a_reset_and_resumes_without_missing_events(identity, admin):
    watch = identity.stub("Identity").WatchRevocations
    stream = watch(pb2.WatchRevocationsRequest(), metadata=md(admin))
    first = next(stream)
    assert first.reset and not first.events and first.resume_token
    stream.cancel()
    world = World(identity, admin)
    token = world.token()
    CHANGES["revoke-token"](world, md(admin), token)
    CHANGES["delete-user"](world, md(admin), token)
    stream = watch(pb2.WatchRevocationsRequest(resume_token=first.resume_token), metadata=md(admin))
    resumed = next(stream)
    stream.cancel()
    assert not resumed.reset
    assert [e.user_id for e in resumed.events] == ["", world.user.id]
    assert resumed.events[0].audit_id and resumed.events[1].HasField("issued_before")
    unknown = watch(pb2.WatchRevocationsRequest(resume_token="nope.7"), metadata=md(admin))
    assert next(unknown).reset
    unknown.cancel()


def test_watch_delivers_new_events_on_an_open_stream(identity, admin):
    stream = identity.stub("Identity").WatchRevocations(
        pb2.WatchRevocationsRequest(), metadata=md(admin)
    )
    next(stream)
    world = World(identity, admin)
    CHANGES["delete-project"](world, md(admin), "")
    reply = next(stream)
    stream.cancel()
    assert [e.project_id for e in reply.events] == [world.project.id]


def test_too_many_watchers_is_resource_exhausted(identity, admin):
    identity.config.max_revocation_watchers = 1
    watch = identity.stub("Identity").WatchRevocations
    first = watch(pb2.WatchRevocationsRequest(), metadata=md(admin))
    next(first)
    second = watch(pb2.WatchRevocationsRequest(), metadata=md(admin))
    with pytest.raises(grpc.RpcError) as info:
        next(second)
    first.cancel()
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert errors.error_info(info.value).reason == "TOO_MANY_WATCHERS"


def test_closing_the_validator_stops_its_watcher(identity, admin):
    with component_validator(identity) as validator:
        cached(validator, admin)
        watcher = validator.watcher
        validator.close()
        watcher._thread.join(2)
        assert not watcher._thread.is_alive()


def test_the_watcher_never_keeps_a_process_from_exiting(identity, admin):
    config = component_config(identity, 30.0)
    script = textwrap.dedent(
        f"""
        from components.framework import identity_client
        from components.framework.auth import CachingValidator
        from components.framework.config import Config
        config = Config(component="api", identity_address={config.identity_address!r},
                        data_dir={config.data_dir!r})
        clients = identity_client.clients_for(config)
        validator = CachingValidator(identity_client.IdentityValidator(clients), 30)
        validator.validate({admin!r})
        assert validator.watcher.connected.wait(5)
        print("watching", flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "watching" in done.stdout
