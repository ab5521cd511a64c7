"""Fernet tokens: nothing stored per token, everything needed is in the payload.

Payload (53 bytes before encryption): version, user id, project id, issue time
(ms), expiry (s), audit id. The token is the Fernet token without its base64
padding, about 164 characters, well under 255.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import struct
import time
import uuid

from cryptography.fernet import InvalidToken

from components.framework import Unauthenticated, utcnow
from components.identity.fernet_keys import KeyRepository
from components.identity.models import (
    Domain,
    Project,
    RevocationEvent,
    Role,
    RoleAssignment,
    User,
)
from components.identity.revocation_feed import Revocation, RevocationFeed

VERSION = 1
_LAYOUT = struct.Struct(">B16s16sQI8s")


@dataclasses.dataclass(frozen=True)
class Payload:
    user_id: str
    project_id: str
    issued_ms: int
    expires_s: int
    audit_id: str

    @property
    def expired(self) -> bool:
        return self.expires_s <= time.time()


@dataclasses.dataclass(frozen=True)
class TokenData:
    """What a valid token stands for, read fresh from the database."""

    user: User
    project: Project
    roles: list[Role]
    issued_ms: int
    expires_s: int
    audit_id: str

    @property
    def issued_time(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.issued_ms / 1000, datetime.UTC)

    @property
    def expires_time(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.expires_s, datetime.UTC)


def invalid(message: str = "the token is not valid") -> Unauthenticated:
    return Unauthenticated(message, reason="TOKEN_INVALID")


def pack(payload: Payload) -> bytes:
    return _LAYOUT.pack(
        VERSION,
        uuid.UUID(payload.user_id).bytes,
        uuid.UUID(payload.project_id).bytes,
        payload.issued_ms,
        payload.expires_s,
        bytes.fromhex(payload.audit_id),
    )


def unpack(raw: bytes) -> Payload:
    if len(raw) != _LAYOUT.size or raw[0] != VERSION:
        raise invalid()
    _, user, project, issued_ms, expires_s, audit = _LAYOUT.unpack(raw)
    return Payload(
        str(uuid.UUID(bytes=user)), str(uuid.UUID(bytes=project)), issued_ms, expires_s, audit.hex()
    )


class TokenProvider:
    """Issues and validates tokens with the keys of one repository."""

    def __init__(
        self, keys: KeyRepository, lifetime_seconds: int = 3600, feed: RevocationFeed | None = None
    ) -> None:
        self.keys = keys
        self.lifetime_seconds = lifetime_seconds
        # Where committed revocations are announced to WatchRevocations.
        self.feed = feed or RevocationFeed()

    def issue(
        self, user: User, project: Project, not_after_s: int | None = None
    ) -> tuple[str, Payload]:
        """A new token of ``user`` on ``project``, expiring after the configured lifetime
        or at ``not_after_s`` (epoch seconds) if that comes first (a re-scoped token)."""
        now_ms = int(time.time() * 1000)
        expires_s = now_ms // 1000 + self.lifetime_seconds
        if not_after_s is not None:
            expires_s = min(expires_s, not_after_s)
        payload = Payload(
            user_id=user.id,
            project_id=project.id,
            issued_ms=now_ms,
            expires_s=expires_s,
            audit_id=os.urandom(8).hex(),
        )
        token = self.keys.fernet().encrypt(pack(payload)).decode().rstrip("=")
        return token, payload

    def decode(self, token: str, allow_expired: bool = False) -> Payload:
        """The payload of an authentic token (not yet checked for revocation).

        Unless ``allow_expired`` (revoking an expired token is a no-op, not an
        error), an expired token is refused like a forged one.
        """
        if not token or len(token) > 255:
            raise invalid()
        try:
            raw = self.keys.fernet().decrypt((token + "=" * (-len(token) % 4)).encode())
        except (InvalidToken, ValueError, TypeError):
            raise invalid() from None
        payload = unpack(raw)
        if payload.expired and not allow_expired:
            raise invalid("the token has expired")
        return payload

    def validate(self, token: str) -> TokenData:
        """Everything a valid token stands for; refuses revoked tokens and disabled holders."""
        payload = self.decode(token)
        if is_revoked(payload):
            raise invalid("the token has been revoked")
        user = User.get_or_none(User.id == payload.user_id)
        project = Project.get_or_none(Project.id == payload.project_id)
        if user is None or not user.enabled or project is None or not project.enabled:
            raise invalid("the token's user or project is disabled or gone")
        if _disabled_domain({user.domain_id, project.domain_id}):
            raise invalid("the token's domain is disabled")
        roles = roles_on(user.id, project.id)
        if not roles:
            raise invalid("the token's user no longer has a role on its project")
        return TokenData(
            user, project, roles, payload.issued_ms, payload.expires_s, payload.audit_id
        )

    def revoke_token(self, payload: Payload) -> None:
        now_ms = int(time.time() * 1000)
        RevocationEvent.create(
            audit_id=payload.audit_id,
            revoked_before_ms=now_ms,
            expire_time=datetime.datetime.fromtimestamp(payload.expires_s, datetime.UTC).replace(
                tzinfo=None
            ),
        )
        purge_expired_events()
        self.announce(audit_id=payload.audit_id)

    def revoke_user(self, user_id: str) -> None:
        """Every token of ``user_id`` issued until now stops validating."""
        before_ms = int(time.time() * 1000) + 1
        RevocationEvent.create(
            user_id=user_id,
            revoked_before_ms=before_ms,
            expire_time=utcnow() + datetime.timedelta(seconds=self.lifetime_seconds),
        )
        purge_expired_events()
        self.announce(user_id=user_id, issued_before_ms=before_ms)

    def announce(self, **fields) -> None:
        """Tell watchers that the tokens matching ``fields`` stopped being valid.

        Called once the change is committed (a watcher that re-validates at once
        must see it). Changes that ``validate`` sees by itself in the database
        (a disabled project, a removed role) need no revocation row, only this.
        """
        self.feed.publish(Revocation(**fields))


def roles_on(user_id: str, project_id: str) -> list[Role]:
    return list(
        Role.select()
        .join(RoleAssignment)
        .where((RoleAssignment.user == user_id) & (RoleAssignment.project == project_id))
        .order_by(Role.name)
    )


def _disabled_domain(domain_ids: set[str]) -> bool:
    query = Domain.select(Domain.id).where(Domain.id.in_(domain_ids) & ~Domain.enabled)
    return query.exists()


def is_revoked(payload: Payload) -> bool:
    event = RevocationEvent.select(RevocationEvent.id).where(
        (RevocationEvent.audit_id == payload.audit_id)
        | (
            (RevocationEvent.user_id == payload.user_id)
            & (RevocationEvent.revoked_before_ms > payload.issued_ms)
        )
    )
    return event.exists()


def purge_expired_events() -> int:
    """Drop events whose tokens have all expired; keeps validation fast over time."""
    return RevocationEvent.delete().where(RevocationEvent.expire_time <= utcnow()).execute()
