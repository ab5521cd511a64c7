"""Sign in, sign out, switch project (Horizon's auth views).

Sign-in calls identity's IssueToken with the form's domain, user, password and
project; the reply (token and catalog) goes into a new server-side session.
Sign-out revokes the token. Switching project asks identity for a token on the
other project with RescopeToken (no password again) and revokes the old one.
"""

from __future__ import annotations

import logging

import grpc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from components.dashboard.cloud import Cloud, ServiceError
from components.dashboard.web import (
    Pages,
    cloud_of,
    csrf_refusal,
    local_path,
    redirect,
    render,
    session_of,
)
from stratus.identity.v1 import identity_service_pb2 as identity_pb2

log = logging.getLogger(__name__)

pages = Pages()
DEFAULT_DOMAIN = "default"


def _sign_in_page(request: Request, status_code: int = 200, error: str = "", **form) -> Response:
    dashboard = request.app.state.dashboard
    if session_of(request) is None:
        request.state.session = dashboard.sessions.new()
    return render(
        request,
        "login.html",
        status_code,
        title="Sign in",
        error=error,
        form={"domain": DEFAULT_DOMAIN, "username": "", "project": "", **form},
        next=local_path(request.query_params.get("next", "/")),
    )


async def sign_in_form(request: Request) -> Response:
    session = session_of(request)
    if session is not None and session.signed_in:
        return redirect(local_path(request.query_params.get("next", "/")))
    return _sign_in_page(request)


def _sign_in_error(error: ServiceError, username: str, domain: str, project: str) -> str:
    if error.code == grpc.StatusCode.UNAUTHENTICATED:
        return "Wrong user name or password, or the account is locked or disabled."
    if error.code == grpc.StatusCode.PERMISSION_DENIED:
        return (
            f"User '{username}' (domain '{domain}') cannot use project '{project}': it does "
            "not exist, is disabled, or the user holds no role on it."
        )
    return str(error)


async def projects_of(cloud: Cloud) -> list[tuple[str, str]]:
    """The projects the signed-in user may switch to (those it holds a role on)."""
    listed = await cloud.every(
        cloud.projects.ListProjects, identity_pb2.ListProjectsRequest(), "projects"
    )
    if not cloud.login or "admin" not in {r.name for r in cloud.login.roles}:
        return [(p.id, p.name) for p in listed if p.enabled]
    # An admin lists every project: keep those it holds a role on.
    assignments = await cloud.every(
        cloud.roles.ListRoleAssignments,
        identity_pb2.ListRoleAssignmentsRequest(user_id=cloud.login.user.id),
        "assignments",
    )
    mine = {a.project_id for a in assignments}
    return [(p.id, p.name) for p in listed if p.enabled and p.id in mine]


async def sign_in(request: Request) -> Response:
    session = session_of(request)
    refusal = await csrf_refusal(request, session)
    if refusal is not None:
        return refusal
    form = await request.form()
    domain = str(form.get("domain", "")).strip() or DEFAULT_DOMAIN
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    project = str(form.get("project", "")).strip() or username
    fields = {"domain": domain, "username": username, "project": project}
    if not username or not password:
        return _sign_in_page(request, 400, "Give a user name and a password.", **fields)
    dashboard = request.app.state.dashboard
    anonymous = cloud_of(request, None)
    try:
        login = await anonymous.identity.IssueToken(
            identity_pb2.IssueTokenRequest(
                username=username, password=password, project_name=project, domain_name=domain
            )
        )
        cloud = dashboard.cloud(None)
        cloud.login = login
        projects = await projects_of(cloud)
    except ServiceError as error:
        status = 401 if error.code == grpc.StatusCode.UNAUTHENTICATED else 400
        message = _sign_in_error(error, username, domain, project)
        return _sign_in_page(request, status, message, **fields)
    request.state.session = dashboard.sessions.sign_in(session, login, projects)
    log.info("user %s signed in to project %s", login.user.id, login.project.id)
    return redirect(local_path(str(form.get("next", "/"))))


async def _revoke(cloud: Cloud, token: str) -> None:
    try:
        await cloud.identity.RevokeToken(identity_pb2.RevokeTokenRequest(subject_token=token))
    except ServiceError as error:  # expired or already revoked: nothing to undo
        log.info("revoking a token at sign-out failed: %s", error)


async def sign_out(request: Request) -> Response:
    session = session_of(request)
    refusal = await csrf_refusal(request, session)
    if refusal is not None:
        return refusal
    dashboard = request.app.state.dashboard
    if session is not None and session.signed_in:
        await _revoke(dashboard.cloud(session), session.login.token)
        dashboard.sessions.drop(session.id)
    request.state.session = dashboard.sessions.new()
    request.state.session.flash("success", "You have signed out.")
    return redirect("/auth/login")


@pages.post("/auth/switch")
async def switch_project(request: Request, cloud: Cloud) -> Response:
    session = session_of(request)
    project_id = str((await request.form()).get("project_id", ""))
    old_token = session.login.token
    login = await cloud.identity.RescopeToken(
        identity_pb2.RescopeTokenRequest(project_id=project_id)
    )
    session.login = login
    await _revoke(request.app.state.dashboard.cloud(session), old_token)
    session.flash("success", f"Now working in project {login.project.name}.")
    return redirect("/project/")


# Reached without a sign-in (each checks the CSRF token of the session it has).
pages.routes.extend(
    [
        Route("/auth/login", sign_in_form, methods=["GET"]),
        Route("/auth/login", sign_in, methods=["POST"]),
        Route("/auth/logout", sign_out, methods=["POST"]),
    ]
)
