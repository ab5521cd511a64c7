"""``project``, ``user`` and ``role`` commands (identity; mostly for admin)."""

from __future__ import annotations

import click

from components.cli import batch, resolve
from components.cli.output import Listing, Record, formatted, when
from components.cli.session import Session, every
from stratus.identity.v1 import identity_service_pb2 as pb2
from stratus.identity.v1 import identity_service_pb2_grpc as pb2_grpc

DOMAIN_HELP = "Domain (name or id); the default domain when not given."


def _domain_id(session: Session, ref: str | None) -> str:
    return resolve.domain(session, ref).id if ref else ""


def _enabled(value: bool | None) -> dict:
    return {} if value is None else {"enabled": value}


# ---------------------------------------------------------------- projects


@click.group()
def project() -> None:
    """Projects: the owners of servers, images, networks and volumes."""


def project_record(p: pb2.Project) -> Record:
    return Record(
        {
            "id": p.id,
            "name": p.name,
            "domain_id": p.domain_id,
            "description": p.description,
            "enabled": p.enabled,
            "created": when(p.create_time),
            "updated": when(p.update_time),
        }
    )


@project.command("create")
@click.argument("name")
@click.option("--domain", metavar="DOMAIN", help=DOMAIN_HELP)
@click.option("--description", default="", help="Free text, at most 255 characters.")
@click.option(
    "--enable/--disable", "enabled", default=None, help="Enable (default) or disable the project."
)
@formatted
@click.pass_obj
def project_create(session: Session, name, domain, description, enabled) -> Record:
    """Create a project called NAME (admin only)."""
    stub = session.client("identity", pb2_grpc.ProjectsStub)
    created = stub.CreateProject(
        pb2.CreateProjectRequest(
            name=name,
            domain_id=_domain_id(session, domain),
            description=description,
            **_enabled(enabled),
        )
    )
    return project_record(created)


@project.command("list")
@click.option("--domain", metavar="DOMAIN", help="Only projects of this domain (name or id).")
@formatted
@click.pass_obj
def project_list(session: Session, domain) -> Listing:
    """List the projects you can see (admin: every project)."""
    stub = session.client("identity", pb2_grpc.ProjectsStub)
    request = pb2.ListProjectsRequest(domain_id=_domain_id(session, domain))
    rows = [[p.id, p.name] for p in every(stub.ListProjects, request, "projects")]
    return Listing(["ID", "Name"], rows)


@project.command("show")
@click.argument("project_ref", metavar="PROJECT")
@formatted
@click.pass_obj
def project_show(session: Session, project_ref) -> Record:
    """Show PROJECT (name or id)."""
    return project_record(resolve.project(session, project_ref))


@project.command("delete")
@click.argument("projects", nargs=-1, required=True, metavar="PROJECT...")
@click.pass_obj
def project_delete(session: Session, projects) -> None:
    """Delete projects (names or ids; admin only).

    Resources the projects own in other services are not deleted.
    """
    stub = session.client("identity", pb2_grpc.ProjectsStub)

    def delete(ref: str) -> None:
        found = resolve.project(session, ref)
        stub.DeleteProject(pb2.DeleteProjectRequest(project_id=found.id))

    batch.each("project", projects, delete)


# ---------------------------------------------------------------- users


@click.group()
def user() -> None:
    """Users: accounts that authenticate with a password."""


def user_record(u: pb2.User) -> Record:
    return Record(
        {
            "id": u.id,
            "name": u.name,
            "domain_id": u.domain_id,
            "email": u.email,
            "description": u.description,
            "enabled": u.enabled,
            "default_project_id": u.default_project_id,
            "locked_until": when(u.lockout_expire_time),
            "created": when(u.create_time),
            "updated": when(u.update_time),
        }
    )


@user.command("create")
@click.argument("name")
@click.option("--password", help="The user's password (a user without one cannot log in).")
@click.option(
    "--password-prompt", is_flag=True, help="Ask for the password on the terminal instead."
)
@click.option("--email", default="", help="Contact address.")
@click.option("--description", default="", help="Free text, at most 255 characters.")
@click.option("--project", metavar="PROJECT", help="Default project (name or id); grants no role.")
@click.option("--domain", metavar="DOMAIN", help=DOMAIN_HELP)
@click.option(
    "--enable/--disable", "enabled", default=None, help="Enable (default) or disable the user."
)
@formatted
@click.pass_obj
def user_create(
    session: Session, name, password, password_prompt, email, description, project, domain, enabled
) -> Record:
    """Create a user called NAME (admin only)."""
    if password_prompt:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    stub = session.client("identity", pb2_grpc.UsersStub)
    created = stub.CreateUser(
        pb2.CreateUserRequest(
            name=name,
            password=password or "",
            email=email,
            description=description,
            default_project_id=resolve.project(session, project).id if project else "",
            domain_id=_domain_id(session, domain),
            **_enabled(enabled),
        )
    )
    return user_record(created)


@user.command("list")
@click.option("--domain", metavar="DOMAIN", help="Only users of this domain (name or id).")
@formatted
@click.pass_obj
def user_list(session: Session, domain) -> Listing:
    """List users (admin only)."""
    stub = session.client("identity", pb2_grpc.UsersStub)
    request = pb2.ListUsersRequest(domain_id=_domain_id(session, domain))
    rows = [[u.id, u.name] for u in every(stub.ListUsers, request, "users")]
    return Listing(["ID", "Name"], rows)


@user.command("show")
@click.argument("user_ref", metavar="USER")
@formatted
@click.pass_obj
def user_show(session: Session, user_ref) -> Record:
    """Show USER (name or id)."""
    return user_record(resolve.user(session, user_ref))


@user.command("delete")
@click.argument("users", nargs=-1, required=True, metavar="USER...")
@click.pass_obj
def user_delete(session: Session, users) -> None:
    """Delete users (names or ids; admin only).

    Their role assignments go with them and their tokens stop working.
    """
    stub = session.client("identity", pb2_grpc.UsersStub)

    def delete(ref: str) -> None:
        stub.DeleteUser(pb2.DeleteUserRequest(user_id=resolve.user(session, ref).id))

    batch.each("user", users, delete)


# ---------------------------------------------------------------- roles


@click.group()
def role() -> None:
    """Roles and their assignment to users."""


def role_record(r: pb2.Role) -> Record:
    return Record(
        {
            "id": r.id,
            "name": r.name,
            "description": r.description,
            "built_in": r.built_in,
            "created": when(r.create_time),
        }
    )


@role.command("create")
@click.argument("name")
@click.option("--description", default="", help="Free text, at most 255 characters.")
@formatted
@click.pass_obj
def role_create(session: Session, name, description) -> Record:
    """Create a role called NAME (admin only)."""
    stub = session.client("identity", pb2_grpc.RolesStub)
    return role_record(stub.CreateRole(pb2.CreateRoleRequest(name=name, description=description)))


@role.command("list")
@formatted
@click.pass_obj
def role_list(session: Session) -> Listing:
    """List roles."""
    stub = session.client("identity", pb2_grpc.RolesStub)
    rows = [[r.id, r.name] for r in every(stub.ListRoles, pb2.ListRolesRequest(), "roles")]
    return Listing(["ID", "Name"], rows)


@role.command("show")
@click.argument("role_ref", metavar="ROLE")
@formatted
@click.pass_obj
def role_show(session: Session, role_ref) -> Record:
    """Show ROLE (name or id)."""
    return role_record(resolve.role(session, role_ref))


@role.command("delete")
@click.argument("roles", nargs=-1, required=True, metavar="ROLE...")
@click.pass_obj
def role_delete(session: Session, roles) -> None:
    """Delete roles (names or ids; admin only).

    The built-in roles cannot be deleted.
    """
    stub = session.client("identity", pb2_grpc.RolesStub)

    def delete(ref: str) -> None:
        stub.DeleteRole(pb2.DeleteRoleRequest(role_id=resolve.role(session, ref).id))

    batch.each("role", roles, delete)


def _assignment(session: Session, user_ref: str, project_ref: str, role_ref: str) -> dict:
    return {
        "user_id": resolve.user(session, user_ref).id,
        "project_id": resolve.project(session, project_ref).id,
        "role_id": resolve.role(session, role_ref).id,
    }


ASSIGN_USER = click.option(
    "--user", "user_ref", required=True, metavar="USER", help="The user (name or id)."
)
ASSIGN_PROJECT = click.option(
    "--project", "project_ref", required=True, metavar="PROJECT", help="The project (name or id)."
)


@role.command("add")
@click.argument("role_ref", metavar="ROLE")
@ASSIGN_USER
@ASSIGN_PROJECT
@click.pass_obj
def role_add(session: Session, role_ref, user_ref, project_ref) -> None:
    """Give --user the role ROLE on --project.

    Admin only; adding a role the user already holds is fine.
    """
    stub = session.client("identity", pb2_grpc.RolesStub)
    stub.AssignRole(pb2.AssignRoleRequest(**_assignment(session, user_ref, project_ref, role_ref)))


@role.command("remove")
@click.argument("role_ref", metavar="ROLE")
@ASSIGN_USER
@ASSIGN_PROJECT
@click.pass_obj
def role_remove(session: Session, role_ref, user_ref, project_ref) -> None:
    """Take the role ROLE on --project away from --user (admin only)."""
    stub = session.client("identity", pb2_grpc.RolesStub)
    ids = _assignment(session, user_ref, project_ref, role_ref)
    stub.UnassignRole(pb2.UnassignRoleRequest(**ids))


@role.group("assignment")
def assignment() -> None:
    """Who holds which role on which project."""


@assignment.command("list")
@click.option("--user", "user_ref", metavar="USER", help="Only this user's (name or id).")
@click.option("--project", "project_ref", metavar="PROJECT", help="Only on this project.")
@formatted
@click.pass_obj
def assignment_list(session: Session, user_ref, project_ref) -> Listing:
    """List role assignments (non-admins: only their own, so give --user)."""
    stub = session.client("identity", pb2_grpc.RolesStub)
    me = session.login.user
    # Non-admins may only list their own, and may not look users up by name.
    user_id = me.id if user_ref in (me.name, me.id) else ""
    if user_ref and not user_id:
        user_id = resolve.user(session, user_ref).id
    request = pb2.ListRoleAssignmentsRequest(
        user_id=user_id,
        project_id=resolve.project(session, project_ref).id if project_ref else "",
    )
    rows = [
        [a.role_name, a.user_id, a.project_id]
        for a in every(stub.ListRoleAssignments, request, "assignments")
    ]
    return Listing(["Role", "User", "Project"], rows)


GROUPS = (project, user, role)
