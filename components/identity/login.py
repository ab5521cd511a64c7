"""Password authentication and token issue (seed step 1).

A wrong user name, a wrong password, a disabled user and a locked-out user
all get the same answer, after the same bcrypt work, so the answer tells an
attacker nothing about which part was wrong. Failed attempts are throttled
per peer address (throttle.py) before any of that work is done; users with
``ignore_lockout_failure_attempts`` (service users) are throttled but never
locked out.
"""

from __future__ import annotations

import dataclasses
import logging
import math

from components.framework import (
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    validation,
)
from components.identity import passwords, resources
from components.identity.config import IdentityConfig
from components.identity.models import Project, User
from components.identity.throttle import LoginThrottle
from components.identity.tokens import TokenData, TokenProvider, roles_on

log = logging.getLogger(__name__)

FAILED = "the user name or password is wrong, or the account is locked or disabled"


def _required(field: str, value: str) -> str:
    if not value:
        raise InvalidArgument(f"{field} is required", field=field)
    return value


@dataclasses.dataclass(frozen=True)
class Attempt:
    """One IssueToken call: the credentials, the scope, and where it came from."""

    username: str
    password: str
    project_name: str
    domain_name: str = ""
    # The caller's address without its port ("127.0.0.1", "[::1]"); "" if unknown.
    peer: str = ""

    @property
    def throttle_key(self) -> str:
        return f"{self.domain_name or resources.DEFAULT_DOMAIN}/{self.username}"


def _check_throttle(throttle: LoginThrottle, attempt: Attempt) -> None:
    wait = throttle.retry_after(attempt.throttle_key, attempt.peer)
    if wait > 0:
        raise ResourceExhausted(
            f"too many failed logins from this address; retry in {wait:.1f} s",
            reason="LOGIN_THROTTLED",
            retry_after_ms=math.ceil(wait * 1000),
        )


def _authenticate(config: IdentityConfig, attempt: Attempt) -> User | None:
    """The user if the password is right and the user may log in, else None."""
    domain = resources.domain_by_name(attempt.domain_name)
    user = None
    if domain is not None and domain.enabled:
        user = User.get_or_none((User.domain == domain) & (User.name == attempt.username))
    rounds = config.password_hash_rounds
    ok = passwords.verify(attempt.password, user.password_hash if user else None, rounds)
    if user is None:
        return None
    locked = resources.is_locked(user)
    if locked or not user.enabled or not ok:
        if not ok and not locked and not user.ignore_lockout_failure_attempts:
            resources.record_failure(
                user, config.lockout_failure_attempts, config.lockout_duration_seconds
            )
        log.info("authentication failed for user id %s", user.id)
        return None
    resources.record_success(user)
    return user


def issue_token(
    config: IdentityConfig,
    provider: TokenProvider,
    throttle: LoginThrottle,
    attempt: Attempt,
) -> tuple[str, TokenData]:
    validation.name("username", _required("username", attempt.username), 255)
    _required("password", attempt.password)
    project_name = attempt.project_name
    validation.name("project_name", _required("project_name", project_name), 255)
    _check_throttle(throttle, attempt)
    user = _authenticate(config, attempt)
    if user is None:
        throttle.failed(attempt.throttle_key, attempt.peer)
        raise Unauthenticated(FAILED, reason="AUTHENTICATION_FAILED")
    throttle.succeeded(attempt.throttle_key, attempt.peer)
    project = Project.get_or_none(
        (Project.domain == user.domain_id) & (Project.name == project_name)
    )
    return _scoped(provider, user, project, f"named {validation.quote(project_name)}")


def rescope(
    provider: TokenProvider, token: str, project_id: str, project_name: str
) -> tuple[str, TokenData]:
    """A new token of the user holding ``token`` (a valid one) on another project, expiring
    no later than ``token``: exactly one of ``project_id`` and ``project_name`` (in the
    user's domain) names the project."""
    if bool(project_id) == bool(project_name):
        raise InvalidArgument(
            "exactly one of project_id and project_name is required", field="project_id"
        )
    current = provider.validate(token)
    user = current.user
    if project_id:
        validation.name("project_id", project_id, 64)
        project = Project.get_or_none(Project.id == project_id)
        named = f"with id {validation.quote(project_id)}"
    else:
        validation.name("project_name", project_name, 255)
        project = Project.get_or_none(
            (Project.domain == user.domain_id) & (Project.name == project_name)
        )
        named = f"named {validation.quote(project_name)}"
    return _scoped(provider, user, project, named, not_after_s=current.expires_s)


def _scoped(
    provider: TokenProvider,
    user: User,
    project: Project | None,
    named: str,
    not_after_s: int | None = None,
) -> tuple[str, TokenData]:
    """A token of ``user`` on ``project`` if the user holds a role on it and it is enabled."""
    roles = roles_on(user.id, project.id) if project is not None and project.enabled else []
    if not roles:
        raise PermissionDenied(
            f"user has no role on an enabled project {named}", reason="NO_PROJECT_ACCESS"
        )
    token, payload = provider.issue(user, project, not_after_s)
    return token, TokenData(
        user, project, roles, payload.issued_ms, payload.expires_s, payload.audit_id
    )
