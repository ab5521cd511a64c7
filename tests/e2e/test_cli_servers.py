"""``stratus server ...`` as an OpenStack user expects it, through the installed command.

Power verbs that change nothing are errors, a boot shows each build step once,
the zone a server landed in is shown, ``server list`` filters on the service
and ``--long`` shows where servers run, an admin finds another project's server
by name, and the token is cached between commands.
"""

from __future__ import annotations

import stat
import uuid

import pytest

from tests.e2e.test_cli import Stratus

pytestmark = pytest.mark.e2e


@pytest.fixture
def stratus(cloud, tmp_path):
    return Stratus(cloud, tmp_path)


def boot(stratus: Stratus, name: str, *extra: str) -> dict:
    server = stratus.json(
        "server",
        "create",
        "--flavor",
        "m1.tiny",
        "--image",
        "demo",
        "--network",
        "private",
        "--wait",
        *extra,
        name,
    )
    assert server["status"] == "ACTIVE", server
    return server


def one_error_line(result) -> str:
    assert result.returncode == 1, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_wait_shows_each_build_step_once_in_build_order(stratus):
    name = f"cli-steps-{uuid.uuid4().hex[:8]}"
    result = stratus.run(
        "server",
        "create",
        "--flavor",
        "m1.tiny",
        "--image",
        "demo",
        "--network",
        "private",
        "--wait",
        "-f",
        "json",
        name,
    )
    assert result.returncode == 0, result.stderr
    shown = [line.split(": ", 1)[1] for line in result.stderr.splitlines() if ": " in line]
    order = ["BUILD (scheduling)", "BUILD (networking)", "BUILD (spawning)", "ACTIVE"]
    assert shown[-1] == "ACTIVE"
    assert len(shown) == len(set(shown)), shown  # no step shown twice
    assert [s for s in order if s in shown] == shown, shown  # in the order of the build
    stratus.ok("server", "delete", "--wait", name)


def test_start_of_a_running_and_stop_of_a_stopped_server_fail_in_one_line(stratus):
    name = f"cli-409-{uuid.uuid4().hex[:8]}"
    server = boot(stratus, name)
    start = one_error_line(stratus.run("server", "start", name))
    assert start == (
        "Error: Not possible in the current state: "
        f"cannot start server {server['id']}: it is already running (ACTIVE)"
    )
    stratus.ok("server", "stop", "--wait", name)
    stop = one_error_line(stratus.run("server", "stop", name))
    assert stop == (
        "Error: Not possible in the current state: "
        f"cannot stop server {server['id']}: it is already stopped (SHUTOFF)"
    )
    reboot = one_error_line(stratus.run("server", "reboot", name))
    assert reboot == (
        "Error: Not possible in the current state: "
        f"cannot reboot server {server['id']}: it is stopped"
    )
    stratus.ok("server", "delete", "--wait", name)


def test_show_gives_the_zone_the_server_landed_in(stratus):
    name = f"cli-zone-{uuid.uuid4().hex[:8]}"
    server = boot(stratus, name)
    assert server["availability_zone"] == "nova"
    assert stratus.json("server", "show", name)["availability_zone"] == "nova"
    stratus.ok("server", "delete", "--wait", name)


def test_list_filters_long_listing_and_admin_lookup_across_projects(stratus):
    suffix = uuid.uuid4().hex[:8]
    admin = {**stratus.env, "OS_CLOUD": "admin"}
    first, second = f"cli-Filter-a-{suffix}", f"cli-filter-b-{suffix}"
    boot(stratus, first)
    other = boot(stratus, second)
    stratus.ok("server", "stop", "--wait", second)

    by_name = stratus.json("server", "list", "--name", f"filter-a-{suffix}".upper())
    assert [s["Name"] for s in by_name] == [first]
    stopped = stratus.json("server", "list", "--name", suffix, "--status", "shutoff")
    assert [s["Name"] for s in stopped] == [second]

    long = stratus.json("server", "list", "--long", "--name", suffix, env=admin)
    assert long == []  # the admin's own project has none of them
    long = stratus.json("server", "list", "--long", "--all-projects", "--name", suffix, env=admin)
    rows = {row["Name"]: row for row in long}
    assert rows[second]["Power State"] == "shutdown"
    assert rows[first]["Availability Zone"] == "nova"
    host = rows[second]["Host"]
    assert host
    on_host = stratus.json(
        "server", "list", "--all-projects", "--host", host, "--name", suffix, env=admin
    )
    assert second in [s["Name"] for s in on_host]
    denied = one_error_line(stratus.run("server", "list", "--host", host))
    assert denied.startswith("Error: Not allowed: only admins may filter servers by host")

    missing = one_error_line(stratus.run("server", "show", second, env=admin))
    assert missing == f"Error: No server with name or id '{second}'"
    found = stratus.json("server", "show", "--all-projects", second, env=admin)
    assert (found["id"], found["host"]) == (other["id"], host)

    stratus.ok("server", "delete", "--wait", first, second)


def test_the_token_is_cached_privately_and_debug_shows_the_sign_in(stratus):
    first = stratus.run("--debug", "flavor", "list")
    assert first.returncode == 0, first.stderr
    assert "identity IssueToken" in first.stderr
    tokens = stratus.cache / "stratus" / "tokens"
    [path] = list(tokens.iterdir())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o700
    second = stratus.run("--debug", "flavor", "list")
    assert second.returncode == 0, second.stderr
    assert "identity token from the cache" in second.stderr
    assert "identity IssueToken" not in second.stderr
    uncached = stratus.run("--debug", "--no-cache", "flavor", "list")
    assert "identity IssueToken" in uncached.stderr


def test_a_server_on_a_given_port_gets_its_address_and_unbinds_it_on_delete(stratus):
    port = stratus.json(
        "port", "create", "--network", "private", f"cli-port-{uuid.uuid4().hex[:6]}"
    )
    address = port["fixed_ips"][0]["ip_address"] if "fixed_ips" in port else None
    server = boot(stratus, f"cli-port-{uuid.uuid4().hex[:8]}", "--port", port["id"])
    shown = stratus.json("port", "show", port["id"])
    assert shown["device_id"] == server["id"], shown
    assert address is None or address in str(server["addresses"]), server
    stratus.ok("server", "delete", "--wait", server["id"])
    shown = stratus.json("port", "show", port["id"])
    assert shown["device_id"] == "" and shown["status"] == "DOWN", shown
    stratus.ok("port", "delete", port["id"])
