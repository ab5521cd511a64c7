"""Server-side sessions: the browser holds a random id, the dashboard everything else.

A session is made for anyone who opens the sign-in page (its CSRF token guards
that form too); signing in replaces it by a new one (a new id, so an id planted
before sign-in is worth nothing afterwards) that holds the IssueToken reply.
The cookie carries only the id: ``HttpOnly`` (no script reads it),
``SameSite=Strict`` (no other site's page sends it) and ``Secure`` when served
over TLS. A session ends at sign-out, when its token expires, or after
``idle_seconds`` unused; at most ``max_sessions`` are kept (the least recently
used go first).
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets
import time
from collections import OrderedDict

from stratus.identity.v1 import identity_service_pb2 as identity_pb2

COOKIE = "stratus_session"
# A session nobody signed in with lasts this long (the sign-in form's CSRF token).
ANONYMOUS_SECONDS = 3600.0


@dataclasses.dataclass
class Session:
    id: str
    csrf_token: str
    login: identity_pb2.IssueTokenResponse | None = None
    # Projects the user may switch to: (id, name), read at sign-in.
    projects: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    # Messages for the next page shown: (kind, text), kind "success" or "error".
    flashes: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    last_used: float = dataclasses.field(default_factory=time.monotonic)

    @property
    def signed_in(self) -> bool:
        return self.login is not None

    @property
    def roles(self) -> set[str]:
        return {role.name for role in self.login.roles} if self.login else set()

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def expired(self, now_wall: float) -> bool:
        return self.login is not None and self.login.expires_time.seconds <= now_wall

    def flash(self, kind: str, text: str) -> None:
        self.flashes.append((kind, text))

    def take_flashes(self) -> list[tuple[str, str]]:
        taken, self.flashes = self.flashes, []
        return taken

    def csrf_ok(self, given: str) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.csrf_token.encode())


class SessionStore:
    """Sessions in this process's memory, by id."""

    def __init__(self, idle_seconds: float = 3600.0, max_sessions: int = 10_000) -> None:
        self.idle_seconds = idle_seconds
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def new(self) -> Session:
        session = Session(id=secrets.token_urlsafe(32), csrf_token=secrets.token_urlsafe(32))
        self._sessions[session.id] = session
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str) -> Session | None:
        """The live session ``session_id`` names, or None (unknown, idle too long, or its
        token expired: then it is dropped)."""
        session = self._sessions.get(session_id or "")
        if session is None:
            return None
        now = time.monotonic()
        limit = self.idle_seconds if session.signed_in else ANONYMOUS_SECONDS
        if now - session.last_used > limit or session.expired(time.time()):
            self.drop(session.id)
            return None
        session.last_used = now
        self._sessions.move_to_end(session.id)
        return session

    def sign_in(
        self,
        previous: Session | None,
        login: identity_pb2.IssueTokenResponse,
        projects: list[tuple[str, str]],
    ) -> Session:
        """A new session holding ``login``; ``previous`` (the anonymous one) is dropped."""
        if previous is not None:
            self.drop(previous.id)
        session = self.new()
        session.login = login
        session.projects = projects
        return session

    def drop(self, session_id: str) -> Session | None:
        return self._sessions.pop(session_id, None)
