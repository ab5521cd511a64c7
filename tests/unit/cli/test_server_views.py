"""``server list --long`` and filters, Ctrl-C during --wait, and the quota error's words."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import grpc

from components.cli import progress
from components.cli.errors import RemoteError
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.type.v1 import instance_state_pb2
from tests.unit.cli.fakes import PASSWORD

Server = api_pb2.Server


def test_list_long_shows_task_power_zone_and_host(stratus, fake):
    fake.servers.add(
        "web-1",
        task_state=instance_state_pb2.TASK_STATE_POWERING_OFF,
        power_state=instance_state_pb2.POWER_STATE_RUNNING,
        availability_zone="nova",
        host="compute-1",
    )
    result = stratus("server", "list", "--long", "-f", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert (row["Task State"], row["Power State"]) == ("powering_off", "running")
    assert (row["Availability Zone"], row["Host"]) == ("nova", "compute-1")
    short = json.loads(stratus("server", "list", "-f", "json").output)
    assert "Host" not in short[0]


def test_list_name_is_a_substring_filter_applied_by_the_service(stratus, fake):
    fake.servers.add("web-1")
    fake.servers.add("Web-2")
    fake.servers.add("db-1")
    result = stratus("server", "list", "--name", "web", "-f", "value", "-c", "Name")
    assert result.exit_code == 0, result.output
    assert sorted(result.output.split()) == ["Web-2", "web-1"]


def test_ctrl_c_during_wait_says_the_server_carries_on_and_exits_130(stratus, fake, monkeypatch):
    fake.servers.build_steps = [
        {"status": Server.STATUS_BUILD, "task_state": instance_state_pb2.TASK_STATE_SPAWNING},
        {"status": Server.STATUS_ACTIVE},
    ]

    @contextlib.contextmanager
    def interrupted_after_first(description):
        shown = []

        def show(text):
            shown.append(text)
            if len(shown) > 1:
                raise KeyboardInterrupt

        yield show

    monkeypatch.setattr(progress, "waiting", interrupted_after_first)
    result = stratus("server", "create", "--flavor", "m1.small", "--image", "demo", "--wait", "vm1")
    assert result.exit_code == 130, result.output
    assert "Aborted" not in result.output
    server_id = fake.servers.servers[0].id
    assert "carries on" in result.output
    assert f"stratus server show --wait {server_id}" in result.output


def test_show_wait_follows_the_server_until_it_settles(stratus, fake):
    server = fake.servers.add("vm1", status=Server.STATUS_BUILD)
    fake.servers.progress[server.id] = [
        Server(id=server.id, name="vm1", status=Server.STATUS_ACTIVE)
    ]
    result = stratus("server", "show", "--wait", "vm1", "-f", "value", "-c", "status")
    assert result.exit_code == 0, result.output
    assert result.output.split()[-1] == "ACTIVE"
    assert fake.calls.count["WatchServer"] == 1


def test_quota_error_says_quota_exceeded_once():
    details = "quota exceeded for instances: 2 of 2 used, 1 more requested"
    error = RemoteError(grpc.StatusCode.RESOURCE_EXHAUSTED, details, reason="QUOTA_EXCEEDED")
    assert error.format_message() == ("Quota exceeded for instances: 2 of 2 used, 1 more requested")
    other = RemoteError(grpc.StatusCode.RESOURCE_EXHAUSTED, "2 of 2 used", reason="QUOTA_EXCEEDED")
    assert other.format_message() == "Quota exceeded: 2 of 2 used"


def test_ctrl_c_of_the_real_command_during_wait_exits_130_with_how_to_follow(fake, tmp_path):
    """SIGINT to the installed ``stratus`` while it follows a watch that is slow to move."""
    server = fake.servers.add("slow", status=Server.STATUS_BUILD)
    fake.servers.progress[server.id] = [
        Server(id=server.id, name="slow", status=Server.STATUS_ACTIVE)
    ]
    fake.servers.watch_delay_seconds = 30.0
    stratus = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "stratus"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OS_")},
        "OS_AUTH_URL": fake.address,
        "OS_USERNAME": "demo",
        "OS_PASSWORD": PASSWORD,
        "OS_PROJECT_NAME": "demo",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    # As at a terminal: SIGINT not ignored. A test run started in the background by a
    # shell ignores it, and an ignored SIGINT is inherited across exec (a handler is not).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            [str(stratus), "server", "show", "--wait", server.id],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        deadline = time.monotonic() + 30
        while fake.calls.count["WatchServer"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the first state is shown
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert "Aborted" not in err
    assert f"stratus server show --wait {server.id}" in err
    assert out == ""
