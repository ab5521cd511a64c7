"""Signing in to the dashboard, out of it, and switching project, against the real cloud.

The token stays on the server: the browser's cookie is only a random id. Sign-out
revokes the token (identity announces the revocation), and switching project
re-scopes with RescopeToken and revokes the previous token.
"""

from __future__ import annotations

import html
import queue
import threading
import uuid

import httpx
import pytest

from components.dashboard.sessions import COOKIE
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from tests.e2e.dashboard_client import csrf, post_form, sign_in, signed_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def url(cloud) -> str:
    assert cloud.dashboard, "run-all started no dashboard"
    return cloud.dashboard


def new_user(cloud, projects: list[str]) -> tuple[str, str, str]:
    """A user with `member` on each named project: (id, name, password)."""
    admin = cloud.md("admin")
    channel = cloud.channel("identity")
    name, password = f"dash-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    user = identity_grpc.UsersStub(channel).CreateUser(
        identity_pb2.CreateUserRequest(name=name, password=password), metadata=admin
    )
    roles = identity_grpc.RolesStub(channel)
    member = roles.ListRoles(identity_pb2.ListRolesRequest(name="member"), metadata=admin)
    for project_id in projects:
        roles.AssignRole(
            identity_pb2.AssignRoleRequest(
                user_id=user.id, project_id=project_id, role_id=member.roles[0].id
            ),
            metadata=admin,
        )
    return user.id, name, password


def new_project(cloud) -> identity_pb2.Project:
    return identity_grpc.ProjectsStub(cloud.channel("identity")).CreateProject(
        identity_pb2.CreateProjectRequest(name=f"dash-{uuid.uuid4().hex[:8]}"),
        metadata=cloud.md("admin"),
    )


class Revocations:
    """Identity's revocation events, watched from now on (as admin)."""

    def __init__(self, cloud) -> None:
        self.events: queue.Queue = queue.Queue()
        stub = identity_grpc.IdentityStub(cloud.channel("identity"))
        self._stream = stub.WatchRevocations(
            identity_pb2.WatchRevocationsRequest(), metadata=cloud.md("admin")
        )
        next(self._stream)  # the first answer: watching has begun
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for reply in self._stream:
                for event in reply.events:
                    self.events.put(event)
        except Exception:  # cancelled at the end of the test
            pass

    def of_user(self, user_id: str, timeout: float = 10.0) -> identity_pb2.RevocationEvent:
        while True:
            event = self.events.get(timeout=timeout)
            # A token's revocation names its audit id (and its user, when it does).
            if event.audit_id and event.user_id in ("", user_id):
                return event

    def close(self) -> None:
        self._stream.cancel()


def test_signing_in_keeps_the_token_on_the_server_and_the_id_in_a_strict_cookie(cloud, url):
    with httpx.Client(base_url=url, timeout=30.0) as client:
        reply = sign_in(client, "demo", cloud.passwords["demo"])
        assert reply.status_code == 303 and reply.headers["location"] == "/project/"
        cookie = reply.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        session_id = client.cookies[COOKIE]
        assert cloud.token("demo") not in cookie and len(session_id) >= 40
        page = client.get("/project/")
        assert page.status_code == 200
        assert "demo" in page.text and 'action="/auth/logout"' in page.text


def test_a_wrong_password_is_told_and_signs_nobody_in(url):
    with httpx.Client(base_url=url, timeout=30.0) as client:
        reply = sign_in(client, "demo", "not-the-password")
        assert reply.status_code == 401
        assert "Wrong user name or password" in reply.text
        assert client.get("/project/", follow_redirects=False).status_code == 303


def test_a_project_without_a_role_is_told(cloud, url):
    with httpx.Client(base_url=url, timeout=30.0) as client:
        reply = sign_in(client, "demo", cloud.passwords["demo"], project="admin")
        assert reply.status_code == 400
        assert "cannot use project 'admin'" in html.unescape(reply.text)


def test_sign_out_revokes_the_token_and_ends_the_session(cloud, url):
    user_id, name, password = new_user(cloud, [cloud.token_reply("demo").project.id])
    client = signed_in(url, name, password, project="demo")
    revocations = Revocations(cloud)
    try:
        reply = post_form(client, "/auth/logout", {})
        assert reply.status_code == 303 and reply.headers["location"] == "/auth/login"
        event = revocations.of_user(user_id)
        assert event.audit_id, "sign-out revoked no token"
    finally:
        revocations.close()
    assert (
        client.get("/project/", follow_redirects=False)
        .headers["location"]
        .startswith("/auth/login")
    )
    client.close()


def test_switching_project_rescopes_and_revokes_the_previous_token(cloud, url):
    other = new_project(cloud)
    user_id, name, password = new_user(cloud, [cloud.token_reply("demo").project.id, other.id])
    client = signed_in(url, name, password, project="demo")
    page = client.get("/project/")
    assert f'value="{other.id}"' in page.text, "the other project is not offered"
    revocations = Revocations(cloud)
    try:
        reply = client.post(
            "/auth/switch", data={"csrf_token": csrf(client, "/project/"), "project_id": other.id}
        )
        assert reply.status_code == 303
        assert revocations.of_user(user_id).audit_id, "the previous token was not revoked"
    finally:
        revocations.close()
    page = client.get("/project/")
    assert f'<option value="{other.id}" selected' in page.text
    assert f"Now working in project {other.name}" in page.text
    client.close()


def test_switching_to_a_project_without_a_role_is_refused_with_the_services_message(cloud, url):
    client = signed_in(url, "demo", cloud.passwords["demo"])
    admin_project = cloud.token_reply("admin").project.id
    reply = client.post(
        "/auth/switch",
        data={"csrf_token": csrf(client, "/project/"), "project_id": admin_project},
        headers={"referer": f"{url.rstrip('/')}/project/"},
    )
    assert reply.status_code == 303
    page = client.get(reply.headers["location"])
    assert page.status_code == 200, page.headers.get("location")
    assert "no role on an enabled project" in page.text
    assert f'<option value="{admin_project}" selected' not in page.text
    client.close()
