"""Domains, projects, users, roles and role assignments: create, read, change, delete.

Every function takes the caller and enforces what the policy table cannot see:
a non-admin sees only its own domain, the projects it has a role on, and itself.
Anything the caller may not see is NOT_FOUND, as if it did not exist; asking
for another user's role assignments is PERMISSION_DENIED (as keystone answers
403). A request field naming a row that does not exist (a domain_id to create
in) is INVALID_ARGUMENT: the request is wrong, not its target missing.
"""

from __future__ import annotations

import datetime

import peewee

from components.framework import (
    AlreadyExists,
    Caller,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    paging,
    quote,
    transactions,
    utcnow,
    validation,
)
from components.identity import passwords
from components.identity.models import Domain, Project, Role, RoleAssignment, User
from components.identity.tokens import TokenProvider

DEFAULT_DOMAIN = "default"


def _get(model, field: str, value: str, what: str):
    validation.uuid_str(field, value)
    row = model.get_or_none(model.id == value)
    if row is None:
        raise NotFound(f"no {what} with id {quote(value)}", **{field: value})
    return row


def _unique(fn, what: str, name: str):
    try:
        return transactions.run(fn)
    except peewee.IntegrityError:
        raise AlreadyExists(f"a {what} named {quote(name)} already exists", name=name) from None


def _named(model, field: str, value: str, what: str):
    """The row ``value`` names in a field of the request: naming nothing is INVALID_ARGUMENT."""
    try:
        return _get(model, field, value, what)
    except NotFound as exc:
        raise InvalidArgument(exc.message, field=field) from None


def _email(field: str, email: str) -> str:
    if email and ("@" not in email or len(email) > 255):
        raise InvalidArgument(f"{field} is not an email address", field=field)
    return email


def project_ids_of(user_id: str) -> set[str]:
    query = RoleAssignment.select(RoleAssignment.project).where(RoleAssignment.user == user_id)
    return {row.project_id for row in query}


# Domains ------------------------------------------------------------------------------


def domain_by_name(name: str) -> Domain | None:
    return Domain.get_or_none(Domain.name == (name or DEFAULT_DOMAIN))


def create_domain(name: str, description: str, enabled: bool) -> Domain:
    name = validation.name("name", name, 64)
    return _unique(
        lambda: Domain.create(name=name, description=description, enabled=enabled), "domain", name
    )


def get_domain(who: Caller, domain_id: str) -> Domain:
    domain = _get(Domain, "domain_id", domain_id, "domain")
    if not who.is_admin and domain.id != who.domain_id:
        raise NotFound(f"no domain with id {quote(domain_id)}", domain_id=domain_id)
    return domain


def list_domains(name: str, size: int, token: str):
    """Every domain (admin only, by policy, as keystone's list_domains)."""
    query = Domain.select()
    if name:
        query = query.where(Domain.name == name)
    return paging.paginate(query, Domain, size, token)


def update_domain(domain_id: str, changes: dict, tokens: TokenProvider) -> Domain:
    domain = _get(Domain, "domain_id", domain_id, "domain")
    if "name" in changes:
        changes["name"] = validation.name("domain.name", changes["name"], 64)
    if domain.name == DEFAULT_DOMAIN and (
        changes.get("enabled") is False or changes.get("name", DEFAULT_DOMAIN) != DEFAULT_DOMAIN
    ):
        raise FailedPrecondition(
            "the default domain cannot be disabled or renamed", domain_id=domain_id
        )
    for key, value in changes.items():
        setattr(domain, key, value)
    domain = _unique(lambda: domain.save() and domain, "domain", domain.name)
    if changes.get("enabled") is False:
        tokens.announce(domain_id=domain.id)
    return domain


def delete_domain(domain_id: str, tokens: TokenProvider) -> None:
    domain = _get(Domain, "domain_id", domain_id, "domain")
    if domain.name == DEFAULT_DOMAIN:
        raise FailedPrecondition("the default domain cannot be deleted", domain_id=domain_id)
    if domain.enabled:
        raise FailedPrecondition("disable the domain before deleting it", domain_id=domain_id)
    if domain.projects.count() or domain.users.count():
        raise FailedPrecondition("the domain still has projects or users", domain_id=domain_id)
    domain.delete_instance()
    tokens.announce(domain_id=domain.id)


# Projects -----------------------------------------------------------------------------


def _domain_or_default(domain_id: str) -> Domain:
    if domain_id:
        return _named(Domain, "domain_id", domain_id, "domain")
    domain = domain_by_name(DEFAULT_DOMAIN)
    if domain is None:
        raise FailedPrecondition("no default domain: run identity bootstrap")
    return domain


def create_project(name: str, domain_id: str, description: str, enabled: bool) -> Project:
    name = validation.name("name", name, 64)
    domain = _domain_or_default(domain_id)
    return _unique(
        lambda: Project.create(name=name, domain=domain, description=description, enabled=enabled),
        "project",
        name,
    )


def get_project(who: Caller, project_id: str) -> Project:
    project = _get(Project, "project_id", project_id, "project")
    if not who.is_admin and project.id not in project_ids_of(who.user_id):
        raise NotFound(f"no project with id {quote(project_id)}", project_id=project_id)
    return project


def list_projects(who: Caller, domain_id: str, name: str, size: int, token: str):
    query = Project.select()
    if domain_id:
        query = query.where(Project.domain == validation.uuid_str("domain_id", domain_id))
    if name:
        query = query.where(Project.name == name)
    if not who.is_admin:
        query = query.where(Project.id.in_(project_ids_of(who.user_id) or {""}))
    return paging.paginate(query, Project, size, token)


def update_project(project_id: str, changes: dict, tokens: TokenProvider) -> Project:
    project = _get(Project, "project_id", project_id, "project")
    if "name" in changes:
        changes["name"] = validation.name("project.name", changes["name"], 64)
    for key, value in changes.items():
        setattr(project, key, value)
    project = _unique(lambda: project.save() and project, "project", project.name)
    if changes.get("enabled") is False:
        tokens.announce(project_id=project.id)
    return project


def delete_project(project_id: str, tokens: TokenProvider) -> None:
    project = _get(Project, "project_id", project_id, "project")

    def remove() -> None:
        RoleAssignment.delete().where(RoleAssignment.project == project.id).execute()
        project.delete_instance()

    transactions.run(remove)
    tokens.announce(project_id=project.id)


# Users --------------------------------------------------------------------------------


def create_user(fields: dict, rounds: int) -> User:
    name = validation.name("name", fields["name"], 64)
    domain = _domain_or_default(fields.get("domain_id", ""))
    password = fields.get("password", "")
    if password:
        passwords.check_strength(password)
    if fields.get("default_project_id"):
        _named(Project, "default_project_id", fields["default_project_id"], "project")
    return _unique(
        lambda: User.create(
            name=name,
            domain=domain,
            email=_email("email", fields.get("email", "")),
            description=fields.get("description", ""),
            enabled=fields.get("enabled", True),
            default_project_id=fields.get("default_project_id", ""),
            password_hash=passwords.hash_password(password, rounds) if password else "",
            ignore_lockout_failure_attempts=fields.get("ignore_lockout_failure_attempts", False),
        ),
        "user",
        name,
    )


def get_user(who: Caller, user_id: str) -> User:
    user = _get(User, "user_id", user_id, "user")
    if not who.is_admin and user.id != who.user_id:
        raise NotFound(f"no user with id {quote(user_id)}", user_id=user_id)
    return user


def list_users(domain_id: str, name: str, size: int, token: str):
    query = User.select()
    if domain_id:
        query = query.where(User.domain == validation.uuid_str("domain_id", domain_id))
    if name:
        query = query.where(User.name == name)
    return paging.paginate(query, User, size, token)


def update_user(user_id: str, changes: dict, tokens: TokenProvider, rounds: int) -> User:
    user = _get(User, "user_id", user_id, "user")
    revoke = False
    if "name" in changes:
        changes["name"] = validation.name("user.name", changes["name"], 64)
    if "password" in changes:
        passwords.check_strength(changes["password"], "user.password")
        changes["password_hash"] = passwords.hash_password(changes.pop("password"), rounds)
        changes.update(failed_auth_count=0, locked_until=None)
        revoke = True
    if changes.get("enabled") is False:
        revoke = True
    if changes.get("default_project_id"):
        _named(Project, "user.default_project_id", changes["default_project_id"], "project")
    if "email" in changes:
        _email("user.email", changes["email"])
    for key, value in changes.items():
        setattr(user, key, value)
    user = _unique(lambda: user.save() and user, "user", user.name)
    if revoke:
        tokens.revoke_user(user.id)
    return user


def delete_user(user_id: str, tokens: TokenProvider) -> None:
    user = _get(User, "user_id", user_id, "user")

    def remove() -> None:
        RoleAssignment.delete().where(RoleAssignment.user == user.id).execute()
        user.delete_instance()

    transactions.run(remove)
    tokens.revoke_user(user_id)


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def record_failure(user: User, attempts: int, duration_seconds: int) -> None:
    """Count a failed password; lock the user after ``attempts`` in a row (0: never)."""
    count = user.failed_auth_count + 1
    locked = None
    if attempts and count >= attempts:
        locked, count = utcnow() + datetime.timedelta(seconds=duration_seconds), 0
    User.update(failed_auth_count=count, locked_until=locked).where(User.id == user.id).execute()


def record_success(user: User) -> None:
    if user.failed_auth_count or user.locked_until:
        User.update(failed_auth_count=0, locked_until=None).where(User.id == user.id).execute()


# Roles and assignments ----------------------------------------------------------------


def create_role(name: str, description: str, built_in: bool = False) -> Role:
    name = validation.name("name", name, 64)
    return _unique(
        lambda: Role.create(name=name, description=description, built_in=built_in), "role", name
    )


def get_role(role_id: str) -> Role:
    return _get(Role, "role_id", role_id, "role")


def list_roles(name: str, size: int, token: str):
    query = Role.select()
    if name:
        query = query.where(Role.name == name)
    return paging.paginate(query, Role, size, token)


def update_role(role_id: str, changes: dict) -> Role:
    role = get_role(role_id)
    if role.built_in and "name" in changes:
        raise FailedPrecondition(f"the built-in role {role.name!r} cannot be renamed")
    if "name" in changes:
        changes["name"] = validation.name("role.name", changes["name"], 64)
    for key, value in changes.items():
        setattr(role, key, value)
    return _unique(lambda: role.save() and role, "role", role.name)


def delete_role(role_id: str, tokens: TokenProvider) -> None:
    role = get_role(role_id)
    if role.built_in:
        raise FailedPrecondition(f"the built-in role {role.name!r} cannot be deleted")
    role.delete_instance()
    # Any token may have carried the role: every watcher drops everything.
    tokens.announce()


def assign_role(user_id: str, project_id: str, role_id: str) -> RoleAssignment:
    """Idempotent: assigning a role the user already has returns the existing assignment."""
    user = _get(User, "user_id", user_id, "user")
    project = _get(Project, "project_id", project_id, "project")
    role = get_role(role_id)

    def assign() -> RoleAssignment:
        found = RoleAssignment.get_or_none(
            (RoleAssignment.user == user)
            & (RoleAssignment.project == project)
            & (RoleAssignment.role == role)
        )
        if found is not None:
            return found
        return RoleAssignment.create(user=user, project=project, role=role)

    return transactions.run(assign)


def unassign_role(user_id: str, project_id: str, role_id: str, tokens: TokenProvider) -> None:
    for field, value in (("user_id", user_id), ("project_id", project_id), ("role_id", role_id)):
        validation.uuid_str(field, value)
    deleted = (
        RoleAssignment.delete()
        .where(
            (RoleAssignment.user == user_id)
            & (RoleAssignment.project == project_id)
            & (RoleAssignment.role == role_id)
        )
        .execute()
    )
    if not deleted:
        raise NotFound(
            "no such role assignment", user_id=user_id, project_id=project_id, role_id=role_id
        )
    tokens.announce(user_id=user_id, project_id=project_id)


def list_assignments(who: Caller, user_id: str, project_id: str, size: int, token: str):
    query = RoleAssignment.select(RoleAssignment, Role).join(Role)
    if not who.is_admin:
        if user_id and user_id != who.user_id:
            raise PermissionDenied(
                "only admins may list another user's role assignments", reason="POLICY_DENIED"
            )
        user_id = who.user_id
    if user_id:
        query = query.where(RoleAssignment.user == validation.uuid_str("user_id", user_id))
    if project_id:
        query = query.where(RoleAssignment.project == validation.uuid_str("project_id", project_id))
    return paging.paginate(query, RoleAssignment, size, token)
