"""The dashboard's instances panel against the real cloud: the list shows the project's
servers, the launch form builds one (and keeps what was typed when the service refuses),
the live stream follows a building server to ACTIVE, the row actions stop, start and
delete it, and the detail page shows the console log.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid

import grpc
import httpx
import pytest

from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from tests.e2e.dashboard_client import csrf, signed_in
from tests.e2e.dashboard_client import events as stream_events

pytestmark = pytest.mark.e2e

LIST = "/project/instances"


@pytest.fixture(scope="module")
def client(cloud) -> httpx.Client:
    assert cloud.dashboard, "run-all started no dashboard"
    signed = signed_in(cloud.dashboard, "demo", cloud.passwords["demo"])
    yield signed
    signed.close()


def row_of(page: str, server_id: str) -> str | None:
    """The HTML of one server's row on the list page, or None when it is not listed."""
    match = re.search(rf'<tr id="row-{server_id}">.*?</tr>', page, re.S)
    return match.group(0) if match else None


def status_in(row: str) -> tuple[str, str]:
    status = re.search(r'class="status-cell"><span class="status [^"]*">([^<]+)<', row)
    task = re.search(r'class="task-cell">([^<]*)<', row)
    return status.group(1), task.group(1)


def wait_for_row(client: httpx.Client, server_id: str, status: str, seconds: float = 60) -> str:
    """Reload the list until the server's row shows ``status`` with no task."""
    deadline = time.monotonic() + seconds
    row = None
    while time.monotonic() < deadline:
        page = client.get(LIST)
        assert page.status_code == 200, page.text
        row = row_of(page.text, server_id)
        if row is not None and status_in(row) == (status, "None"):
            return row
        time.sleep(0.5)
    raise AssertionError(f"server {server_id} did not reach {status}; last row: {row}")


def act(client: httpx.Client, server_id: str, action: str, **extra) -> httpx.Response:
    """Submit one of a row's action forms, as the browser does from the list."""
    reply = client.post(
        f"{LIST}/{server_id}/{action}",
        data={"csrf_token": csrf(client, LIST), **extra},
        headers={"Referer": f"{str(client.base_url).rstrip('/')}{LIST}"},
    )
    assert reply.status_code == 303, reply.text
    return reply


def flashes(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<p class="flash (\w+)">([^<]*)</p>', page)


def events(client: httpx.Client, ids: list[str]) -> list[tuple[str, dict]]:
    """Every event of the live stream for ``ids`` until it says done."""
    return stream_events(client, f"{LIST}/events?ids={','.join(ids)}", timeout=90)


def launch(client: httpx.Client, **fields) -> httpx.Response:
    return client.post(
        f"{LIST}/launch",
        data={"csrf_token": csrf(client, f"{LIST}/launch"), "count": "1", **fields},
    )


@pytest.fixture(scope="module")
def launched(cloud, client) -> str:
    """A server launched from the form; its id (deleted at the end if a test left it)."""
    name = f"dash-{uuid.uuid4().hex[:8]}"
    reply = launch(
        client,
        name=name,
        image_id=cloud.ids["image"],
        flavor_id=cloud.ids["flavor"],
        network_ids=cloud.ids["network"],
        user_data="#!/bin/sh\necho hi\n",
    )
    assert reply.status_code == 303 and reply.headers["location"] == LIST, reply.text
    page = client.get(LIST).text
    assert ("success", f"Launched instance {name}") in flashes(page)
    match = re.search(rf'<tr id="row-([0-9a-f-]+)">\s*<td><a href="[^"]+">{name}</a>', page)
    assert match, page
    server_id = match.group(1)
    yield server_id
    servers = api_grpc.ServersStub(cloud.channel("api"))
    with contextlib.suppress(grpc.RpcError):  # already deleted by the test
        servers.DeleteServer(
            api_pb2.DeleteServerRequest(server_id=server_id), metadata=cloud.md("demo")
        )


def test_list_shows_a_server_created_through_the_api(cloud, client):
    servers = api_grpc.ServersStub(cloud.channel("api"))
    name = f"dash-api-{uuid.uuid4().hex[:8]}"
    server = servers.CreateServer(
        api_pb2.CreateServerRequest(
            name=name, image_id=cloud.ids["image"], flavor_id=cloud.ids["flavor"]
        ),
        metadata=cloud.md("demo"),
    )
    try:
        row = row_of(client.get(LIST).text, server.id)
        assert row is not None
        assert f">{name}</a>" in row
        assert f">{server.flavor.name}<" in row
        # The image is named, not shown as its id.
        assert cloud.ids["image"] not in row
        # A member is not shown hosts.
        assert "Host</th>" not in client.get(LIST).text
    finally:
        servers.DeleteServer(
            api_pb2.DeleteServerRequest(server_id=server.id), metadata=cloud.md("demo")
        )


def test_launched_server_reaches_active_on_the_list(client, launched):
    row = wait_for_row(client, launched, "ACTIVE")
    assert re.search(r"<div>[^<:]+: \d+\.\d+\.\d+\.\d+</div>", row), row


def test_live_stream_delivers_the_row_as_active(client, launched):
    seen = events(client, [launched])
    rows = [data for name, data in seen if name == "row"]
    assert rows and all(data["id"] == launched for data in rows)
    last = rows[-1]["html"]
    assert last.startswith(f'<tr id="row-{launched}">')
    assert status_in(last) == ("ACTIVE", "None")
    assert seen[-1][0] == "done"


def test_live_stream_of_several_rows_drops_the_missing_and_ends_when_all_settle(client, launched):
    missing = str(uuid.uuid4())
    seen = events(client, [missing, launched, "not-an-id"])
    # One WatchServers stream for the page: a bad id in a forged URL ends it at once.
    assert seen == [("done", {})]
    seen = events(client, [missing, launched])
    assert seen[0] == ("gone", {"id": missing})
    assert [data["id"] for name, data in seen if name == "row"][-1:] == [launched]
    assert seen[-1][0] == "done"


def test_stop_then_start_through_the_forms(client, launched):
    wait_for_row(client, launched, "ACTIVE")
    reply = act(client, launched, "stop")
    # Back on the list, the stopped server's row is followed live.
    page = client.get(reply.headers["location"]).text
    assert f'data-live-url="{LIST}/events?ids=' in page and launched in page
    row = wait_for_row(client, launched, "SHUTOFF")
    assert ">Start</button>" in row and ">Stop</button>" not in row
    act(client, launched, "start")
    row = wait_for_row(client, launched, "ACTIVE")
    assert ">Stop</button>" in row


def test_an_action_the_state_forbids_shows_the_service_message(client, launched):
    wait_for_row(client, launched, "ACTIVE")
    reply = act(client, launched, "start")
    page = client.get(reply.headers["location"]).text
    errors = [text for kind, text in flashes(page) if kind == "error"]
    assert errors and "already running" in errors[0], flashes(page)


def test_detail_page_shows_the_console_log(client, launched):
    page = client.get(f"{LIST}/{launched}")
    assert page.status_code == 200
    assert f'data-poll-url="{LIST}/{launched}/console"' in page.text
    # The test driver's guests write no console log: the contract answers an empty
    # output (not an error), which the page says in words.
    console = re.search(r'<pre class="console" id="console"[^>]*>([^<]*)</pre>', page.text)
    assert console and console.group(1) == "(The console log is empty.)"
    polled = client.get(f"{LIST}/{launched}/console", headers={"X-Requested-With": "fetch"})
    assert polled.status_code == 200
    assert polled.text == "(The console log is empty.)"
    # No longer building: the page stops polling.
    assert polled.headers.get("x-poll-done") == "1"


def test_delete_removes_the_server(client, launched):
    act(client, launched, "delete")
    seen = events(client, [launched])
    assert ("gone", {"id": launched}) in seen
    assert row_of(client.get(LIST).text, launched) is None
    assert client.get(f"{LIST}/{launched}").status_code == 404


def test_a_refused_launch_shows_the_message_and_keeps_the_form(cloud, client):
    missing = str(uuid.uuid4())
    name = f"dash-bad-{uuid.uuid4().hex[:8]}"
    reply = launch(
        client,
        name=name,
        image_id=cloud.ids["image"],
        flavor_id=missing,
        network_ids=cloud.ids["network"],
        user_data="keep me",
        config_drive="1",
    )
    assert reply.status_code == 400
    error = re.search(r'id="launch-error">([^<]+)<', reply.text)
    assert error and f"no flavor with id &#39;{missing}&#39;" in error.group(1)
    assert f'id="launch-name" name="name" value="{name}"' in reply.text
    assert re.search(rf'value="{cloud.ids["image"]}" selected', reply.text)
    assert re.search(rf'value="{cloud.ids["network"]}" checked', reply.text)
    assert ">keep me</textarea>" in reply.text
    assert re.search(r'id="launch-config-drive" name="config_drive" value="1" checked', reply.text)
    assert f">{name}</a>" not in client.get(LIST).text
