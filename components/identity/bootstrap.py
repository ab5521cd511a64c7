"""``python -m components.identity bootstrap``: the cloud's first users, roles and catalog.

Idempotent: running it again changes nothing but what the environment asks
for (a new STRATUS_ADMIN_PASSWORD) and the configuration (the components'
endpoints become exactly those of catalog_endpoints, public, and
catalog_internal_endpoints, internal), and gives service users of an older
deployment the ignore_lockout_failure_attempts option (clearing a lockout).
Passwords that are not given are generated and written, mode 0600, to
<data_dir>/secrets/<user>.password, where the components and ``make run-all``
read them.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from components.framework import secret_path, transactions
from components.identity import catalog, passwords, resources
from components.identity.config import IdentityConfig
from components.identity.models import Domain, Project, Role, User

log = logging.getLogger(__name__)

BUILT_IN_ROLES = {
    "admin": "Everything, in every project.",
    "member": "Create, change and delete the project's resources.",
    "reader": "Read the project's resources.",
    "service": "Stratus components acting for the cloud.",
}
# Catalog type -> default port (DESIGN.md); one service user per component.
COMPONENTS = {
    "identity": 5000,
    "api": 8774,
    "scheduler": 8780,
    "conductor": 8781,
    "image": 9292,
    "network": 9696,
    "volume": 8776,
}
SERVICE_USERS = ("api", "scheduler", "conductor", "compute", "image", "network", "volume")


def addresses(setting: str | list[str]) -> list[str]:
    """The addresses of one catalog_endpoints value: "a:1|b:2" (or a TOML list)."""
    items = setting.split("|") if isinstance(setting, str) else setting
    return [item.strip() for item in items if item.strip()]


def _password(config: IdentityConfig, user: str, given: str | None) -> tuple[str, bool]:
    """The password for ``user``: given, else the one on file, else a new one (on file)."""
    path = secret_path(config.data_dir, user)
    if given:
        _write_secret(path, given)
        return given, True
    if path.exists():
        return path.read_text().strip(), False
    generated = secrets.token_urlsafe(18)
    _write_secret(path, generated)
    return generated, True


def _write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    os.chmod(path, 0o600)


def _ensure_user(config, domain, name: str, password: str, changed: bool) -> User:
    """The user with ``password``; a service user is never locked out (lockout would
    stop the cloud: a host that cannot get a token cannot heartbeat or build)."""
    user = User.get_or_none((User.domain == domain) & (User.name == name))
    rounds = config.password_hash_rounds
    service = name in SERVICE_USERS
    if user is None:
        return User.create(
            name=name,
            domain=domain,
            password_hash=passwords.hash_password(password, rounds),
            ignore_lockout_failure_attempts=service,
        )
    if changed or not passwords.verify(password, user.password_hash, rounds):
        user.password_hash = passwords.hash_password(password, rounds)
        user.save()
    if service and (not user.ignore_lockout_failure_attempts or user.locked_until):
        user.ignore_lockout_failure_attempts = True
        user.failed_auth_count, user.locked_until = 0, None
        user.save()
    return user


def _ensure_project(domain: Domain, name: str, description: str) -> Project:
    project = Project.get_or_none((Project.domain == domain) & (Project.name == name))
    return project or Project.create(name=name, domain=domain, description=description)


def _ensure_role(name: str) -> Role:
    role = Role.get_or_none(Role.name == name)
    return role or resources.create_role(name, BUILT_IN_ROLES.get(name, ""), built_in=True)


def bootstrap(config: IdentityConfig, demo: bool = False) -> dict[str, str]:
    """Create what is missing; returns the passwords written this time, by user."""
    written: dict[str, str] = {}
    # One transaction, not run again on a transient failure: it writes password files.
    with transactions.atomic():
        domain = resources.domain_by_name(resources.DEFAULT_DOMAIN) or Domain.create(
            name=resources.DEFAULT_DOMAIN, description="The default domain"
        )
        roles = {name: _ensure_role(name) for name in BUILT_IN_ROLES}
        people = [("admin", "admin", "admin", os.environ.get("STRATUS_ADMIN_PASSWORD"))]
        people += [(name, "service", "service", None) for name in SERVICE_USERS]
        if demo:
            people.append(("demo", "demo", "member", os.environ.get("STRATUS_DEMO_PASSWORD")))
        for user_name, project_name, role_name, given in people:
            password, changed = _password(config, user_name, given)
            if changed:
                written[user_name] = password
            user = _ensure_user(config, domain, user_name, password, changed)
            project = _ensure_project(domain, project_name, f"The {project_name} project")
            resources.assign_role(user.id, project.id, roles[role_name].id)
        for name, port in COMPONENTS.items():
            public = config.catalog_endpoints.get(name, f"{config.catalog_host}:{port}")
            internal = config.catalog_internal_endpoints.get(name, "")
            catalog.ensure(name, name, config.region, addresses(public), "public")
            catalog.ensure(name, name, config.region, addresses(internal), "internal")
    log.info("bootstrap done; passwords are in %s", secret_path(config.data_dir, "x").parent)
    return written
