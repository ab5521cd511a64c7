"""Who is calling, and may they: the caller's identity and per-method policy rules.

The server interceptor validates ``x-auth-token`` through a pluggable
:class:`TokenValidator` (cached briefly), checks the method's rule from the
component's policy table, and makes the caller available to the servicer
through :func:`caller`. Ownership ("this project's server") is checked by the
domain code with :meth:`Caller.can_access`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import hashlib
import threading
from collections.abc import Callable, Mapping
from typing import Protocol

from components.framework.cache import TTLCache
from components.framework.errors import PermissionDenied, Unauthenticated

TOKEN_HEADER = "x-auth-token"

ADMIN = "admin"
MEMBER = "member"
READER = "reader"
SERVICE = "service"


@dataclasses.dataclass(frozen=True)
class Caller:
    """The validated holder of a token."""

    user_id: str
    user_name: str
    project_id: str
    project_name: str
    roles: frozenset[str]
    token: str = dataclasses.field(repr=False, default="")
    expires_time: datetime.datetime | None = None
    domain_id: str = "default"
    # The token's audit id, and the domain of its project (revocation events name them).
    audit_id: str = ""
    project_domain_id: str = ""

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_service(self) -> bool:
        return SERVICE in self.roles or ADMIN in self.roles

    def can_access(self, project_id: str) -> bool:
        """Whether the caller may see resources owned by ``project_id``."""
        return self.is_admin or self.is_service or project_id == self.project_id


Rule = Callable[[Caller], bool]


def public(_: Caller) -> bool:
    """Needs no token at all (IssueToken, health, reflection)."""
    return True


def authenticated(_: Caller) -> bool:
    """Any valid token."""
    return True


def reader(c: Caller) -> bool:
    """Read access: any role on the project (reader, member, admin, service)."""
    return bool(c.roles & {READER, MEMBER, ADMIN, SERVICE})


def member(c: Caller) -> bool:
    """Write access to the project's own resources."""
    return bool(c.roles & {MEMBER, ADMIN})


def admin_required(c: Caller) -> bool:
    return ADMIN in c.roles


def service_or_admin(c: Caller) -> bool:
    """Other Stratus components acting for the cloud, or an admin."""
    return bool(c.roles & {SERVICE, ADMIN})


def member_or_service(c: Caller) -> bool:
    return bool(c.roles & {MEMBER, ADMIN, SERVICE})


# Methods that every component serves and that stay open.
OPEN_SERVICES = (
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
)


class Policy:
    """One component's table of rules, keyed by ``/package.Service/Method``.

    A method without a rule is refused (fail closed); tests assert that every RPC
    in a component's protos has one.
    """

    def __init__(self, rules: Mapping[str, Rule]) -> None:
        self.rules = dict(rules)

    @classmethod
    def of(cls, services: Mapping[str, Mapping[str, Rule]]) -> Policy:
        """``Policy.of({"stratus.image.v1.Images": {"GetImage": reader, ...}})``."""
        return cls(
            {
                f"/{service}/{method}": rule
                for service, methods in services.items()
                for method, rule in methods.items()
            }
        )

    def rule_for(self, method: str) -> Rule | None:
        if method.lstrip("/").split("/")[0] in OPEN_SERVICES:
            return public
        return self.rules.get(method)

    def is_public(self, method: str) -> bool:
        return self.rule_for(method) is public

    def check(self, method: str, who: Caller) -> None:
        rule = self.rule_for(method)
        if rule is None or not rule(who):
            raise PermissionDenied(
                f"{method.rsplit('/', 1)[-1]} is not allowed for roles "
                f"{', '.join(sorted(who.roles)) or '(none)'}",
                reason="POLICY_DENIED",
                rule=getattr(rule, "__name__", "none"),
            )


class TokenValidator(Protocol):
    """Turns a token into its :class:`Caller`, or raises :class:`Unauthenticated`."""

    def validate(self, token: str) -> Caller: ...


@dataclasses.dataclass(frozen=True)
class Revoked:
    """Tokens that stopped being valid: those matching every non-empty field."""

    audit_id: str = ""
    user_id: str = ""
    project_id: str = ""
    domain_id: str = ""

    def covers(self, who: Caller) -> bool:
        return (
            (not self.audit_id or self.audit_id == who.audit_id)
            and (not self.user_id or self.user_id == who.user_id)
            and (not self.project_id or self.project_id == who.project_id)
            and (not self.domain_id or self.domain_id in (who.domain_id, who.project_domain_id))
        )


class RevocationSink(Protocol):
    """What a revocation watcher tells: these tokens are revoked, or forget everything."""

    def revoke(self, event: Revoked) -> None: ...

    def reset(self) -> None: ...


class Watcher(Protocol):
    def stop(self) -> None: ...


class CachingValidator:
    """Remembers valid tokens for a few seconds (never past their expiry).

    If the inner validator can watch revocations (``watch_revocations(sink)``,
    as the identity client can), the first ``validate`` starts that watch, and
    revoked tokens leave the cache as soon as identity announces them; while
    the watch is down, entries live at most ``ttl``. An answer that raced with
    a revocation is returned but not cached.
    """

    def __init__(self, inner: TokenValidator, ttl: float = 30.0) -> None:
        self.inner = inner
        self.cache: TTLCache[Caller] = TTLCache(ttl)
        self.watcher: Watcher | None = None
        self._watch_started = False
        self._generation = 0
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.blake2b(token.encode(), digest_size=16).hexdigest()

    def validate(self, token: str) -> Caller:
        if not self._watch_started:
            self._start_watch()
        key = self._key(token)
        found = self.cache.get(key)
        if found is not None:
            return found
        generation = self._generation
        who = self.inner.validate(token)
        life = None
        if who.expires_time is not None:
            now = datetime.datetime.now(datetime.UTC)
            expires = who.expires_time
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=datetime.UTC)
            life = (expires - now).total_seconds()
        with self._lock:
            if generation == self._generation:
                self.cache.put(key, who, life)
        return who

    def _start_watch(self) -> None:
        with self._lock:
            if self._watch_started:
                return
            self._watch_started = True
        watch = getattr(self.inner, "watch_revocations", None)
        if watch is not None:
            self.watcher = watch(self)

    def revoke(self, event: Revoked) -> None:
        """Drop the cached tokens ``event`` covers."""
        with self._lock:
            self._generation += 1
            self.cache.drop_where(event.covers)

    def reset(self) -> None:
        """Drop every cached token (revocations may have been missed)."""
        with self._lock:
            self._generation += 1
            self.cache.clear()

    def forget(self, token: str) -> None:
        self.cache.pop(self._key(token))

    def close(self) -> None:
        """Stop watching revocations (the cache keeps working on its lifetime alone)."""
        with self._lock:
            self._watch_started = True
            watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.stop()


_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("caller", default=None)


def caller() -> Caller:
    """The caller of the RPC being served; raises if the method was public."""
    who = _caller.get()
    if who is None:
        raise Unauthenticated("this call needs an x-auth-token")
    return who


def optional_caller() -> Caller | None:
    return _caller.get()


def set_caller(who: Caller | None) -> contextvars.Token:
    return _caller.set(who)


def reset_caller(token: contextvars.Token) -> None:
    _caller.reset(token)
