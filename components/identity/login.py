"""Password authentication and token issue (seed step 1).

A wrong user name, a wrong password, a disabled user and a locked-out user
all get the same answer, after the same bcrypt work, so the answer tells an
attacker nothing about which part was wrong.
"""

from __future__ import annotations

import logging

from components.framework import validation
from components.framework.errors import InvalidArgument, PermissionDenied, Unauthenticated
from components.identity import passwords, resources
from components.identity.config import IdentityConfig
from components.identity.models import Project, User
from components.identity.tokens import TokenData, TokenProvider, roles_on

log = logging.getLogger(__name__)

FAILED = "the user name or password is wrong, or the account is locked or disabled"


def _required(field: str, value: str) -> str:
    if not value:
        raise InvalidArgument(f"{field} is required", field=field)
    return value


def issue_token(
    config: IdentityConfig,
    provider: TokenProvider,
    username: str,
    password: str,
    project_name: str,
    domain_name: str,
) -> tuple[str, TokenData]:
    validation.name("username", _required("username", username), 255)
    _required("password", password)
    validation.name("project_name", _required("project_name", project_name), 255)
    domain = resources.domain_by_name(domain_name)
    user = None
    if domain is not None and domain.enabled:
        user = User.get_or_none((User.domain == domain) & (User.name == username))
    rounds = config.password_hash_rounds
    ok = passwords.verify(password, user.password_hash if user else None, rounds)
    if user is None:
        raise Unauthenticated(FAILED, reason="AUTHENTICATION_FAILED")
    if resources.is_locked(user) or not user.enabled or not ok:
        if not ok and not resources.is_locked(user):
            resources.record_failure(
                user, config.lockout_failure_attempts, config.lockout_duration_seconds
            )
        log.info("authentication failed for user id %s", user.id)
        raise Unauthenticated(FAILED, reason="AUTHENTICATION_FAILED")
    resources.record_success(user)
    project = Project.get_or_none((Project.domain == domain) & (Project.name == project_name))
    roles = roles_on(user.id, project.id) if project is not None and project.enabled else []
    if not roles:
        raise PermissionDenied(
            f"user has no role on an enabled project named {project_name!r}",
            reason="NO_PROJECT_ACCESS",
        )
    token, payload = provider.issue(user, project)
    return token, TokenData(
        user, project, roles, payload.issued_ms, payload.expires_s, payload.audit_id
    )
