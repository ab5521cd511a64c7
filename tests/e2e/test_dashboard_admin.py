"""E2E: the dashboard's Admin panel against a real cloud.

A member is refused every admin page and never shown a link to one; an admin
sees the compute hosts as the scheduler counts them, creates a project and a
user and gives the user a role from the forms (and the user can then sign in
to that project), disables a user (who then cannot sign in), creates and
deletes a flavor, and is told identity's message when a project name is taken.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as scheduler_grpc
from tests.e2e.conftest import PORT_OFFSET
from tests.e2e.dashboard_client import csrf, own_dashboard, sign_in, signed_in

ADMIN_PAGES = (
    "/admin/hypervisors",
    "/admin/instances",
    "/admin/projects",
    "/admin/users",
    "/admin/flavors",
)
# Our own dashboard when run-all does not start one: this offset's port for it.
OWN_DASHBOARD_PORT = PORT_OFFSET + 3084


@pytest.fixture(scope="module")
def dashboard(cloud, tmp_path_factory):
    """The dashboard's URL: run-all's, else one started here against the cloud's identity."""
    if cloud.dashboard:
        yield cloud.dashboard.rstrip("/")
        return
    data_dir = tmp_path_factory.mktemp("dashboard")
    with own_dashboard(cloud.addresses["identity"], OWN_DASHBOARD_PORT, data_dir):
        yield f"http://127.0.0.1:{OWN_DASHBOARD_PORT}"


@pytest.fixture(scope="module")
def admin(cloud, dashboard):
    client = signed_in(dashboard, "admin", cloud.passwords["admin"])
    yield client
    client.close()


@pytest.fixture(scope="module")
def demo(cloud, dashboard):
    client = signed_in(dashboard, "demo", cloud.passwords["demo"])
    yield client
    client.close()


def _post(client: httpx.Client, path: str, data: dict, page: str) -> httpx.Response:
    """Submit a form of ``page`` as the browser does (its CSRF token, its Referer)."""
    token = csrf(client, page)
    return client.post(path, data={"csrf_token": token, **data}, headers={"referer": page})


def _row(html: str, row_id: str) -> str:
    match = re.search(rf'<tr id="row-{re.escape(row_id)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {row_id} on the page"
    return match.group(1)


def _identity(cloud, stub_class):
    return stub_class(cloud.channel("identity"))


def _project_named(cloud, name: str) -> identity_pb2.Project:
    reply = _identity(cloud, identity_grpc.ProjectsStub).ListProjects(
        identity_pb2.ListProjectsRequest(name=name), metadata=cloud.md("admin")
    )
    assert len(reply.projects) == 1, f"project {name}: {reply.projects}"
    return reply.projects[0]


def _user_named(cloud, name: str) -> identity_pb2.User:
    reply = _identity(cloud, identity_grpc.UsersStub).ListUsers(
        identity_pb2.ListUsersRequest(name=name), metadata=cloud.md("admin")
    )
    assert len(reply.users) == 1, f"user {name}: {reply.users}"
    return reply.users[0]


def _role_named(cloud, name: str) -> identity_pb2.Role:
    reply = _identity(cloud, identity_grpc.RolesStub).ListRoles(
        identity_pb2.ListRolesRequest(name=name), metadata=cloud.md("admin")
    )
    return reply.roles[0]


def test_a_member_is_refused_every_admin_page_and_shown_no_link_to_one(demo):
    for page in ADMIN_PAGES:
        reply = demo.get(page)
        assert reply.status_code == 403, page
        assert "Only administrators" in reply.text
        assert 'href="/admin/' not in reply.text
    overview = demo.get("/project/")
    assert 'href="/admin/' not in overview.text
    # The forms are refused too, before any service is asked.
    refused = _post(demo, "/admin/flavors/create", {"name": "x", "vcpus": "1"}, "/project/")
    assert refused.status_code == 403


def test_an_admin_sees_the_compute_hosts_as_the_scheduler_counts_them(cloud, admin):
    page = admin.get("/admin/hypervisors")
    assert page.status_code == 200
    assert "<h1>Hypervisors</h1>" in page.text
    hosts = list(
        scheduler_grpc.SchedulerStub(cloud.channel("scheduler"))
        .ListHosts(scheduler_pb2.ListHostsRequest(), metadata=cloud.md("admin"))
        .hosts
    )
    assert hosts
    for host in hosts:
        row = _row(page.text, host.name)
        state = scheduler_pb2.Host.State.Name(host.state).removeprefix("STATE_")
        assert f">{state}</span>" in row
        assert f"{host.used_vcpus} / {host.vcpus}" in row
        assert f"{host.used_ram_mib} / {host.ram_mib} MiB" in row
        assert f"{host.used_disk_gib} / {host.disk_gib} GiB" in row
        assert f'<td class="instances">{host.instance_count}</td>' in row


def test_a_project_user_and_role_made_from_the_forms_let_the_user_sign_in(cloud, admin, dashboard):
    suffix = uuid.uuid4().hex[:8]
    project_name, user_name, password = f"proj-{suffix}", f"user-{suffix}", f"pw-{suffix}-Secret"
    created = _post(
        admin,
        "/admin/projects/create",
        {"name": project_name, "description": "made by the admin panel", "enabled": "on"},
        "/admin/projects",
    )
    assert created.status_code == 303, created.text
    project = _project_named(cloud, project_name)
    assert project.enabled and project.description == "made by the admin panel"
    assert project_name in admin.get("/admin/projects").text

    created = _post(
        admin,
        "/admin/users/create",
        {
            "name": user_name,
            "password": password,
            "email": f"{user_name}@example.org",
            "enabled": "on",
        },
        "/admin/users",
    )
    assert created.status_code == 303, created.text
    user = _user_named(cloud, user_name)
    assert user.enabled and user.email == f"{user_name}@example.org"

    with httpx.Client(base_url=dashboard, timeout=30) as browser:
        refused = sign_in(browser, user_name, password, project_name)
        assert refused.status_code == 400
        assert "holds no role" in refused.text

    member = _role_named(cloud, "member")
    detail = f"/admin/projects/{project.id}"
    assigned = _post(admin, f"{detail}/assign", {"user_id": user.id, "role_id": member.id}, detail)
    assert assigned.status_code == 303, assigned.text
    members = _row(admin.get(detail).text, f"{user.id}-{member.id}")
    assert user_name in members and "member" in members

    with httpx.Client(base_url=dashboard, timeout=30) as browser:
        signed = sign_in(browser, user_name, password, project_name)
        assert signed.status_code == 303, signed.text
        assert browser.get("/admin/users").status_code == 403

    # Disabled, the user cannot sign in: the wrong-password message, nothing more.
    disabled = _post(admin, f"/admin/users/{user.id}/disable", {}, "/admin/users")
    assert disabled.status_code == 303
    assert not _user_named(cloud, user_name).enabled
    assert "Disabled" in _row(admin.get("/admin/users").text, user.id)
    with httpx.Client(base_url=dashboard, timeout=30) as browser:
        refused = sign_in(browser, user_name, password, project_name)
        assert refused.status_code == 401
        assert "Wrong user name or password" in refused.text

    # Unassign and delete leave nothing behind.
    unassigned = _post(
        admin, f"{detail}/unassign", {"user_id": user.id, "role_id": member.id}, detail
    )
    assert unassigned.status_code == 303
    assert f"row-{user.id}-{member.id}" not in admin.get(detail).text
    assert _post(admin, f"/admin/users/{user.id}/delete", {}, "/admin/users").status_code == 303
    assert (
        _post(admin, f"/admin/projects/{project.id}/delete", {}, "/admin/projects").status_code
        == 303
    )
    assert user_name not in admin.get("/admin/users").text
    assert project_name not in admin.get("/admin/projects").text


def test_a_taken_project_name_shows_identitys_message_and_keeps_the_form(admin):
    reply = _post(
        admin,
        "/admin/projects/create",
        {"name": "demo", "description": "kept in the form", "enabled": "on"},
        "/admin/projects",
    )
    assert reply.status_code == 409
    assert "already exists" in reply.text.lower()
    assert 'value="kept in the form"' in reply.text


def test_a_flavor_is_created_and_deleted_from_the_forms(cloud, admin):
    name = f"admin-panel-{uuid.uuid4().hex[:8]}"
    created = _post(
        admin,
        "/admin/flavors/create",
        {
            "name": name,
            "vcpus": "2",
            "ram_mib": "768",
            "disk_gib": "3",
            "extra_specs": "hw:cpu_policy=shared",
        },
        "/admin/flavors",
    )
    assert created.status_code == 303, created.text
    flavors = api_grpc.FlavorsStub(cloud.channel("api"))
    listed = flavors.ListFlavors(
        api_pb2.ListFlavorsRequest(page_size=1000), metadata=cloud.md("admin")
    ).flavors
    (flavor,) = [f for f in listed if f.name == name]
    assert (flavor.vcpus, flavor.ram_mib, flavor.disk_gib) == (2, 768, 3)
    assert not flavor.is_public  # the box was left unticked
    assert dict(flavor.extra_specs) == {"hw:cpu_policy": "shared"}
    row = _row(admin.get("/admin/flavors").text, flavor.id)
    assert name in row and '<td class="ram">768</td>' in row

    deleted = _post(admin, f"/admin/flavors/{flavor.id}/delete", {}, "/admin/flavors")
    assert deleted.status_code == 303
    assert name not in admin.get("/admin/flavors").text
    # A second delete: the api's NOT_FOUND message, flashed on the page it came from.
    again = _post(admin, f"/admin/flavors/{flavor.id}/delete", {}, "/admin/flavors")
    assert again.status_code == 303 and again.headers["location"] == "/admin/flavors"
    assert "flash error" in admin.get("/admin/flavors").text
