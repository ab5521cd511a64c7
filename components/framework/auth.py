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


class CachingValidator:
    """Remembers valid tokens for a few seconds (never past their expiry)."""

    def __init__(self, inner: TokenValidator, ttl: float = 30.0) -> None:
        self.inner = inner
        self.cache: TTLCache[Caller] = TTLCache(ttl)

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.blake2b(token.encode(), digest_size=16).hexdigest()

    def validate(self, token: str) -> Caller:
        key = self._key(token)
        found = self.cache.get(key)
        if found is not None:
            return found
        who = self.inner.validate(token)
        life = None
        if who.expires_time is not None:
            now = datetime.datetime.now(datetime.UTC)
            expires = who.expires_time
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=datetime.UTC)
            life = (expires - now).total_seconds()
        self.cache.put(key, who, life)
        return who

    def forget(self, token: str) -> None:
        self.cache.pop(self._key(token))


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
