"""The Admin panel (Horizon's Admin dashboard): hypervisors, every project's instances,
projects and their members, users, flavors.

Every route is for admins only (``admin=True``: anyone else gets 403 before a
service is called). The pages present what the services answer: the
scheduler's ListHosts, the api's ListServers with ``all_projects`` and its
flavors, identity's projects, users, roles and domains. A failed create keeps
the form's values and shows the service's message on the same page.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import field_mask_pb2
from starlette.requests import Request
from starlette.responses import Response

from components.dashboard.cloud import Cloud, ServiceError
from components.dashboard.web import HTTP_STATUS, Pages, flash, redirect, render
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.type.v1 import instance_state_pb2

pages = Pages()
DEFAULT_DOMAIN = "default"
# A usage meter turns red above this share of the total.
HIGH_PERCENT = 90


# ------------------------------------------------------------------ helpers


def _mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def _meter(used: int, total: int) -> dict[str, Any]:
    """A usage bar: used of total, its width in percent (capped at 100)."""
    percent = round(100 * used / total) if total > 0 else 0
    return {
        "used": used,
        "total": total,
        "percent": min(percent, 100),
        "high": percent > HIGH_PERCENT,
    }


def _enum_label(enum, value: int, prefix: str) -> str:
    """``STATUS_ACTIVE`` → ``ACTIVE``; the unspecified value → empty."""
    name = enum.Name(value) if value in enum.values() else str(value)
    return "" if name.endswith("_UNSPECIFIED") else name.removeprefix(prefix)


def _enabling(request: Request) -> bool:
    """True on an ``.../enable`` route, False on ``.../disable`` (one handler serves both)."""
    return request.url.path.endswith("/enable")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value).strip() for key, value in form.items() if key != "csrf_token"}


def _failed(error: ServiceError) -> int:
    return HTTP_STATUS.get(error.code, 502)


async def _projects(cloud: Cloud) -> list:
    return await cloud.every(
        cloud.projects.ListProjects, identity_pb2.ListProjectsRequest(), "projects"
    )


async def _users(cloud: Cloud) -> list:
    return await cloud.every(cloud.users.ListUsers, identity_pb2.ListUsersRequest(), "users")


async def _roles(cloud: Cloud) -> list:
    return await cloud.every(cloud.roles.ListRoles, identity_pb2.ListRolesRequest(), "roles")


async def _domains(cloud: Cloud) -> list:
    return await cloud.every(
        cloud.domains.ListDomains, identity_pb2.ListDomainsRequest(), "domains"
    )


def _default_domain_id(domains: list) -> str:
    return next((d.id for d in domains if d.name == DEFAULT_DOMAIN), "")


# -------------------------------------------------------------- hypervisors


@pages.get("/admin/hypervisors", admin=True)
async def hypervisors(request: Request, cloud: Cloud) -> Response:
    hosts = await cloud.every(cloud.hosts.ListHosts, scheduler_pb2.ListHostsRequest(), "hosts")
    rows = [
        {
            "host": h,
            "state": _enum_label(scheduler_pb2.Host.State, h.state, "STATE_"),
            "vcpus": _meter(h.used_vcpus, h.vcpus),
            "ram": _meter(h.used_ram_mib, h.ram_mib),
            "disk": _meter(h.used_disk_gib, h.disk_gib),
        }
        for h in hosts
    ]
    totals = {
        "vcpus": _meter(sum(h.used_vcpus for h in hosts), sum(h.vcpus for h in hosts)),
        "ram": _meter(sum(h.used_ram_mib for h in hosts), sum(h.ram_mib for h in hosts)),
        "disk": _meter(sum(h.used_disk_gib for h in hosts), sum(h.disk_gib for h in hosts)),
    }
    return render(request, "admin_hypervisors.html", title="Hypervisors", rows=rows, totals=totals)


async def _set_host(cloud: Cloud, name: str, enabled: bool, reason: str = "") -> None:
    await cloud.hosts.UpdateHost(
        scheduler_pb2.UpdateHostRequest(
            host=scheduler_pb2.Host(name=name, enabled=enabled, disabled_reason=reason),
            update_mask=_mask("enabled", "disabled_reason"),
        )
    )


@pages.post("/admin/hypervisors/{name}/enable", admin=True)
async def enable_host(request: Request, cloud: Cloud) -> Response:
    name = request.path_params["name"]
    await _set_host(cloud, name, True)
    flash(request, "success", f"Host {name} is enabled: new instances may be placed on it.")
    return redirect("/admin/hypervisors")


@pages.post("/admin/hypervisors/{name}/disable", admin=True)
async def disable_host(request: Request, cloud: Cloud) -> Response:
    name = request.path_params["name"]
    reason = (await _form(request)).get("reason", "")
    await _set_host(cloud, name, False, reason)
    flash(request, "success", f"Host {name} is disabled: it gets no new instances.")
    return redirect("/admin/hypervisors")


# ---------------------------------------------------------------- instances


@pages.get("/admin/instances", admin=True)
async def all_instances(request: Request, cloud: Cloud) -> Response:
    servers = await cloud.every(
        cloud.servers.ListServers, api_pb2.ListServersRequest(all_projects=True), "servers"
    )
    project_names = {p.id: p.name for p in await _projects(cloud)}
    rows = [
        {
            "server": s,
            "project": project_names.get(s.project_id, s.project_id),
            "status": _enum_label(api_pb2.Server.Status, s.status, "STATUS_"),
            "task": _enum_label(instance_state_pb2.TaskState, s.task_state, "TASK_STATE_").lower(),
        }
        for s in servers
    ]
    return render(request, "admin_instances.html", title="All instances", rows=rows)


@pages.post("/admin/instances/{server_id}/delete", admin=True)
async def delete_instance(request: Request, cloud: Cloud) -> Response:
    server_id = request.path_params["server_id"]
    await cloud.servers.DeleteServer(api_pb2.DeleteServerRequest(server_id=server_id))
    flash(request, "success", f"Deleting instance {server_id}.")
    return redirect("/admin/instances")


# ----------------------------------------------------------------- projects


async def _projects_page(
    request: Request, cloud: Cloud, form: dict | None = None, error: str = "", status: int = 200
) -> Response:
    projects = await _projects(cloud)
    domains = await _domains(cloud)
    return render(
        request,
        "admin_projects.html",
        status,
        title="Projects",
        projects=projects,
        domains=domains,
        domain_names={d.id: d.name for d in domains},
        form=form or {"domain_id": _default_domain_id(domains)},
        error=error,
    )


@pages.get("/admin/projects", admin=True)
async def projects(request: Request, cloud: Cloud) -> Response:
    return await _projects_page(request, cloud)


@pages.post("/admin/projects/create", admin=True)
async def create_project(request: Request, cloud: Cloud) -> Response:
    form = await _form(request)
    try:
        project = await cloud.projects.CreateProject(
            identity_pb2.CreateProjectRequest(
                name=form.get("name", ""),
                description=form.get("description", ""),
                domain_id=form.get("domain_id", ""),
                enabled=form.get("enabled") == "on",
            )
        )
    except ServiceError as error:
        if error.signed_out:
            raise
        return await _projects_page(request, cloud, form, str(error), _failed(error))
    flash(request, "success", f"Created project {project.name}.")
    return redirect("/admin/projects")


@pages.post("/admin/projects/{project_id}/enable", admin=True)
@pages.post("/admin/projects/{project_id}/disable", admin=True)
async def set_project_enabled(request: Request, cloud: Cloud) -> Response:
    """Enable or disable a project, as the path's last word says."""
    enabled = _enabling(request)
    project = await cloud.projects.UpdateProject(
        identity_pb2.UpdateProjectRequest(
            project=identity_pb2.Project(id=request.path_params["project_id"], enabled=enabled),
            update_mask=_mask("enabled"),
        )
    )
    flash(request, "success", f"Project {project.name} is {'en' if enabled else 'dis'}abled.")
    return redirect("/admin/projects")


@pages.post("/admin/projects/{project_id}/delete", admin=True)
async def delete_project(request: Request, cloud: Cloud) -> Response:
    project_id = request.path_params["project_id"]
    await cloud.projects.DeleteProject(identity_pb2.DeleteProjectRequest(project_id=project_id))
    flash(request, "success", f"Deleted project {project_id}.")
    return redirect("/admin/projects")


@pages.get("/admin/projects/{project_id}", admin=True)
async def project_members(request: Request, cloud: Cloud) -> Response:
    project_id = request.path_params["project_id"]
    project = await cloud.projects.GetProject(identity_pb2.GetProjectRequest(project_id=project_id))
    assignments = await cloud.every(
        cloud.roles.ListRoleAssignments,
        identity_pb2.ListRoleAssignmentsRequest(project_id=project_id),
        "assignments",
    )
    users = await _users(cloud)
    return render(
        request,
        "admin_project.html",
        title=f"Project {project.name}",
        project=project,
        assignments=assignments,
        user_names={u.id: u.name for u in users},
        users=users,
        roles=await _roles(cloud),
    )


@pages.post("/admin/projects/{project_id}/assign", admin=True)
async def assign_on_project(request: Request, cloud: Cloud) -> Response:
    project_id = request.path_params["project_id"]
    form = await _form(request)
    await _assign(cloud, form.get("user_id", ""), project_id, form.get("role_id", ""))
    flash(request, "success", "Role assigned.")
    return redirect(f"/admin/projects/{project_id}")


@pages.post("/admin/projects/{project_id}/unassign", admin=True)
async def unassign_on_project(request: Request, cloud: Cloud) -> Response:
    project_id = request.path_params["project_id"]
    form = await _form(request)
    await cloud.roles.UnassignRole(
        identity_pb2.UnassignRoleRequest(
            user_id=form.get("user_id", ""), project_id=project_id, role_id=form.get("role_id", "")
        )
    )
    flash(request, "success", "Role unassigned; the user's tokens on this project are revoked.")
    return redirect(f"/admin/projects/{project_id}")


async def _assign(cloud: Cloud, user_id: str, project_id: str, role_id: str) -> None:
    if not (user_id and project_id and role_id):
        raise ServiceError(
            "Choose a user, a project and a role.", grpc.StatusCode.INVALID_ARGUMENT, "identity"
        )
    await cloud.roles.AssignRole(
        identity_pb2.AssignRoleRequest(user_id=user_id, project_id=project_id, role_id=role_id)
    )


# -------------------------------------------------------------------- users


async def _users_page(
    request: Request, cloud: Cloud, form: dict | None = None, error: str = "", status: int = 200
) -> Response:
    domains = await _domains(cloud)
    projects = await _projects(cloud)
    roles = await _roles(cloud)
    member = next((r.id for r in roles if r.name == "member"), "")
    return render(
        request,
        "admin_users.html",
        status,
        title="Users",
        users=await _users(cloud),
        domains=domains,
        domain_names={d.id: d.name for d in domains},
        projects=projects,
        project_names={p.id: p.name for p in projects},
        roles=roles,
        form=form or {"domain_id": _default_domain_id(domains), "role_id": member, "enabled": "on"},
        error=error,
    )


@pages.get("/admin/users", admin=True)
async def users(request: Request, cloud: Cloud) -> Response:
    return await _users_page(request, cloud)


@pages.post("/admin/users/create", admin=True)
async def create_user(request: Request, cloud: Cloud) -> Response:
    form = await _form(request)
    project_id, role_id = form.get("default_project_id", ""), form.get("role_id", "")
    try:
        user = await cloud.users.CreateUser(
            identity_pb2.CreateUserRequest(
                name=form.get("name", ""),
                password=form.get("password", ""),
                email=form.get("email", ""),
                description=form.get("description", ""),
                domain_id=form.get("domain_id", ""),
                default_project_id=project_id,
                enabled=form.get("enabled") == "on",
            )
        )
    except ServiceError as error:
        if error.signed_out:
            raise
        form.pop("password", None)
        return await _users_page(request, cloud, form, str(error), _failed(error))
    if project_id and role_id:
        try:
            await _assign(cloud, user.id, project_id, role_id)
        except ServiceError as error:
            if error.signed_out:
                raise
            flash(
                request,
                "error",
                f"Created user {user.name}, but assigning its role failed: {error}",
            )
            return redirect("/admin/users")
    flash(request, "success", f"Created user {user.name}.")
    return redirect("/admin/users")


@pages.post("/admin/users/{user_id}/enable", admin=True)
@pages.post("/admin/users/{user_id}/disable", admin=True)
async def set_user_enabled(request: Request, cloud: Cloud) -> Response:
    """Enable or disable a user, as the path's last word says."""
    enabled = _enabling(request)
    user = await cloud.users.UpdateUser(
        identity_pb2.UpdateUserRequest(
            user=identity_pb2.User(id=request.path_params["user_id"], enabled=enabled),
            update_mask=_mask("enabled"),
        )
    )
    flash(request, "success", f"User {user.name} is {'en' if enabled else 'dis'}abled.")
    return redirect("/admin/users")


@pages.post("/admin/users/{user_id}/delete", admin=True)
async def delete_user(request: Request, cloud: Cloud) -> Response:
    user_id = request.path_params["user_id"]
    await cloud.users.DeleteUser(identity_pb2.DeleteUserRequest(user_id=user_id))
    flash(request, "success", f"Deleted user {user_id}.")
    return redirect("/admin/users")


@pages.post("/admin/users/assign", admin=True)
async def assign_to_user(request: Request, cloud: Cloud) -> Response:
    form = await _form(request)
    await _assign(
        cloud, form.get("user_id", ""), form.get("project_id", ""), form.get("role_id", "")
    )
    flash(request, "success", "Role assigned.")
    return redirect("/admin/users")


# ------------------------------------------------------------------ flavors


async def _flavors_page(
    request: Request, cloud: Cloud, form: dict | None = None, error: str = "", status: int = 200
) -> Response:
    flavors = await cloud.every(cloud.flavors.ListFlavors, api_pb2.ListFlavorsRequest(), "flavors")
    return render(
        request,
        "admin_flavors.html",
        status,
        title="Flavors",
        flavors=flavors,
        form=form or {"vcpus": "1", "ram_mib": "512", "disk_gib": "1", "is_public": "on"},
        error=error,
    )


@pages.get("/admin/flavors", admin=True)
async def flavors(request: Request, cloud: Cloud) -> Response:
    return await _flavors_page(request, cloud)


def _flavor_request(form: dict[str, str]) -> api_pb2.CreateFlavorRequest:
    """The CreateFlavor request of the form; ValueError says which field is wrong."""
    numbers = {}
    for field, label in (("vcpus", "vCPUs"), ("ram_mib", "RAM (MiB)"), ("disk_gib", "Disk (GiB)")):
        try:
            numbers[field] = int(form.get(field, ""))
        except ValueError:
            raise ValueError(f"{label} must be a whole number.") from None
    extra_specs = {}
    for line in form.get("extra_specs", "").splitlines():
        if line.strip():
            key, sep, value = line.partition("=")
            if not sep:
                raise ValueError(f"Extra spec '{line.strip()}' is not KEY=VALUE.")
            extra_specs[key.strip()] = value.strip()
    return api_pb2.CreateFlavorRequest(
        name=form.get("name", ""),
        is_public=form.get("is_public") == "on",
        extra_specs=extra_specs,
        **numbers,
    )


@pages.post("/admin/flavors/create", admin=True)
async def create_flavor(request: Request, cloud: Cloud) -> Response:
    form = await _form(request)
    try:
        flavor = await cloud.flavors.CreateFlavor(_flavor_request(form))
    except ValueError as error:
        return await _flavors_page(request, cloud, form, str(error), 400)
    except ServiceError as error:
        if error.signed_out:
            raise
        return await _flavors_page(request, cloud, form, str(error), _failed(error))
    flash(request, "success", f"Created flavor {flavor.name}.")
    return redirect("/admin/flavors")


@pages.post("/admin/flavors/{flavor_id}/delete", admin=True)
async def delete_flavor(request: Request, cloud: Cloud) -> Response:
    flavor_id = request.path_params["flavor_id"]
    await cloud.flavors.DeleteFlavor(api_pb2.DeleteFlavorRequest(flavor_id=flavor_id))
    flash(request, "success", f"Deleted flavor {flavor_id}.")
    return redirect("/admin/flavors")
