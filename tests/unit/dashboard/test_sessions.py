"""Server-side sessions: random ids, expiry with the token or when idle, a bounded store."""

from __future__ import annotations

import time

from google.protobuf import timestamp_pb2

from components.dashboard import sessions
from components.dashboard.sessions import SessionStore
from stratus.identity.v1 import identity_service_pb2 as identity_pb2


def login(expires_in: float = 3600.0, roles=("member",)) -> identity_pb2.IssueTokenResponse:
    return identity_pb2.IssueTokenResponse(
        token="secret-token",
        expires_time=timestamp_pb2.Timestamp(seconds=int(time.time() + expires_in)),
        roles=[identity_pb2.RoleSummary(name=r) for r in roles],
    )


def test_ids_and_csrf_tokens_are_long_random_and_distinct():
    store = SessionStore()
    made = [store.new() for _ in range(50)]
    assert len({s.id for s in made}) == 50
    assert len({s.csrf_token for s in made}) == 50
    assert all(len(s.id) >= 40 and s.id != s.csrf_token for s in made)


def test_signing_in_replaces_the_anonymous_session_by_a_new_id():
    store = SessionStore()
    anonymous = store.new()
    signed = store.sign_in(anonymous, login(), [("p1", "demo")])
    assert signed.id != anonymous.id and signed.csrf_token != anonymous.csrf_token
    assert store.get(anonymous.id) is None, "an id planted before sign-in must be worthless"
    assert store.get(signed.id) is signed and signed.signed_in


def test_a_session_ends_with_its_token():
    store = SessionStore()
    session = store.sign_in(None, login(expires_in=-1), [])
    assert store.get(session.id) is None
    assert len(store) == 0


def test_an_idle_session_ends(monkeypatch):
    store = SessionStore(idle_seconds=60)
    session = store.sign_in(None, login(), [])
    now = time.monotonic()
    monkeypatch.setattr(sessions.time, "monotonic", lambda: now + 61)
    assert store.get(session.id) is None


def test_the_store_keeps_at_most_max_sessions_dropping_the_least_recently_used():
    store = SessionStore(max_sessions=3)
    first, second, third = store.new(), store.new(), store.new()
    assert store.get(first.id) is first  # used: now the most recent
    store.new()
    assert len(store) == 3
    assert store.get(second.id) is None
    assert store.get(first.id) is first and store.get(third.id) is third


def test_csrf_check_needs_the_exact_token():
    session = SessionStore().new()
    assert session.csrf_ok(session.csrf_token)
    assert not session.csrf_ok("")
    assert not session.csrf_ok(session.csrf_token[:-1])
    assert not session.csrf_ok(session.csrf_token + "x")


def test_admin_is_read_from_the_tokens_roles_and_flashes_are_shown_once():
    session = SessionStore().sign_in(None, login(roles=("admin", "member")), [])
    assert session.is_admin
    session.flash("success", "done")
    assert session.take_flashes() == [("success", "done")]
    assert session.take_flashes() == []
