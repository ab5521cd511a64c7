"""What every page shares: sign-in required, CSRF on unsafe requests, errors as messages,
the session cookie's flags, redirects that stay on this site."""

from __future__ import annotations

import grpc
import pytest
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

from components.dashboard.app import build
from components.dashboard.cloud import ServiceError
from components.dashboard.config import DashboardConfig
from components.dashboard.sessions import COOKIE
from components.dashboard.web import Pages, local_path
from tests.unit.dashboard.test_sessions import login

calls: list[str] = []
pages = Pages()


@pages.get("/test/page")
async def page(request, cloud):
    return PlainTextResponse("page")


@pages.get("/test/admin", admin=True)
async def admin_page(request, cloud):
    return PlainTextResponse("admin page")


@pages.post("/test/act")
async def act(request, cloud):
    calls.append("act")
    return PlainTextResponse("acted")


@pages.get("/test/down")
async def down(request, cloud):
    raise ServiceError(
        "Cannot reach the image service at 127.0.0.1:9292: connection refused",
        grpc.StatusCode.UNAVAILABLE,
        "image",
    )


@pages.post("/test/refused")
async def refused(request, cloud):
    raise ServiceError("Invalid request: name is required", grpc.StatusCode.INVALID_ARGUMENT)


@pages.get("/test/expired")
async def expired(request, cloud):
    raise ServiceError("Not authenticated: token expired", grpc.StatusCode.UNAUTHENTICATED)


@pages.get("/test/bug")
async def bug(request, cloud):
    raise RuntimeError("secret internals")


def client_of(config: DashboardConfig | None = None, roles=("member",)):
    app = build(config or DashboardConfig())
    app.router.routes.extend(pages.routes)
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
    session = app.state.dashboard.sessions.sign_in(None, login(roles=roles), [("p", "demo")])
    client.cookies.set(COOKIE, session.id)
    return client, session, app


@pytest.fixture(autouse=True)
def _clear_calls():
    calls.clear()


def test_a_page_needs_a_sign_in_and_says_where_to_come_back():
    client, _, _ = client_of()
    client.cookies.clear()
    reply = client.get("/test/page", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/auth/login?next=/test/page"


def test_the_sign_in_page_sets_an_httponly_strict_cookie_with_a_random_id():
    client = TestClient(build(DashboardConfig()))
    reply = client.get("/auth/login")
    assert reply.status_code == 200 and 'name="csrf_token"' in reply.text
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie


def test_over_tls_the_cookie_is_secure():
    config = DashboardConfig(tls_cert_file="/x/cert.pem", tls_key_file="/x/key.pem")
    client = TestClient(build(config), base_url="https://testserver")
    assert "Secure" in client.get("/auth/login").headers["set-cookie"]


def test_a_post_without_the_csrf_token_is_refused_and_does_nothing():
    client, session, _ = client_of()
    for data, headers in (({}, {}), ({"csrf_token": "forged"}, {}), ({}, {"x-csrf-token": "x"})):
        reply = client.post("/test/act", data=data, headers=headers)
        assert reply.status_code == 403 and "CSRF" in reply.text
    assert calls == []
    assert client.post("/test/act", data={"csrf_token": session.csrf_token}).text == "acted"
    assert client.post("/test/act", headers={"x-csrf-token": session.csrf_token}).text == "acted"
    assert calls == ["act", "act"]


def test_a_csrf_token_of_another_session_is_refused():
    client, _, app = client_of()
    other = app.state.dashboard.sessions.new()
    assert client.post("/test/act", data={"csrf_token": other.csrf_token}).status_code == 403


def test_a_member_gets_403_on_an_admin_page_and_an_admin_gets_it():
    member, _, _ = client_of()
    reply = member.get("/test/admin")
    assert reply.status_code == 403 and "Only administrators" in reply.text
    assert 'href="/admin/' not in reply.text
    admin, _, _ = client_of(roles=("admin",))
    assert admin.get("/test/admin").text == "admin page"


def test_a_service_that_is_down_is_named_on_the_page_with_503():
    client, _, _ = client_of()
    reply = client.get("/test/down")
    assert reply.status_code == 503
    assert "Cannot reach the image service at 127.0.0.1:9292" in reply.text


def test_a_refused_form_flashes_the_services_message_and_goes_back():
    client, session, _ = client_of()
    reply = client.post(
        "/test/refused",
        data={"csrf_token": session.csrf_token},
        headers={"referer": "http://testserver/test/page?x=1"},
        follow_redirects=False,
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/test/page?x=1"
    assert session.take_flashes() == [("error", "Invalid request: name is required")]


def test_going_back_never_leaves_the_site():
    client, session, _ = client_of()
    for referer in (
        "http://testserver//evil.example/x",
        "http://evil.example/project/",
        "javascript:alert(1)",
    ):
        reply = client.post(
            "/test/refused",
            data={"csrf_token": session.csrf_token},
            headers={"referer": referer},
            follow_redirects=False,
        )
        assert reply.headers["location"] == "/", referer


def test_a_script_gets_the_message_as_text_with_a_status():
    client, session, _ = client_of()
    reply = client.post(
        "/test/refused", headers={"x-csrf-token": session.csrf_token, "x-requested-with": "fetch"}
    )
    assert reply.status_code == 400 and reply.text == "Invalid request: name is required"


def test_a_token_the_services_refuse_ends_the_session():
    client, session, app = client_of()
    reply = client.get("/test/expired", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"].startswith("/auth/login")
    assert app.state.dashboard.sessions.get(session.id) is None


def test_a_bug_is_a_page_without_the_stack_trace():
    client, _, _ = client_of()
    reply = client.get("/test/bug")
    assert reply.status_code == 500
    assert "secret internals" not in reply.text and "Traceback" not in reply.text
    assert "Something went wrong in the dashboard" in reply.text


def test_an_unknown_page_is_a_404_page():
    client, _, _ = client_of()
    reply = client.get("/no/such/page")
    assert reply.status_code == 404 and "There is no page at /no/such/page" in reply.text


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/project/instances", "/project/instances"),
        ("/project/?a=1", "/project/?a=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("project", "/"),
        ("", "/"),
    ],
)
def test_after_sign_in_only_this_sites_paths_are_followed(target, expected):
    assert local_path(target) == expected


def test_health_answers_without_a_session():
    assert TestClient(build(DashboardConfig())).get("/healthz").text == "ok"
