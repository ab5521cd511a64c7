"""The CLI against fake services: common mistakes, one-line errors, paging, --wait."""

from __future__ import annotations

import json
import uuid

import click

from components.cli.__main__ import cli
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.type.v1 import instance_pb2, instance_state_pb2

Server = api_pb2.Server


def error_line(result) -> str:
    """The one line a failed command printed on stderr."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---------------------------------------------------------------- common mistakes


def test_wrong_password_is_one_line_naming_the_user_and_address(stratus, fake):
    result = stratus("server", "list", OS_PASSWORD="wrong")
    assert result.exit_code == 1
    assert error_line(result) == (
        f"Error: Authentication failed for user 'demo' (domain 'default') at {fake.address}: "
        "wrong user name or password, or the account is locked or disabled"
    )
    assert "Traceback" not in result.output


def test_unknown_flavor_is_named_and_no_server_is_created(stratus, fake):
    result = stratus("server", "create", "--flavor", "m1.huge", "--image", "demo", "vm1")
    assert result.exit_code == 1
    assert error_line(result) == "Error: No flavor with name or id 'm1.huge'"
    assert fake.calls.count["CreateServer"] == 0


def test_no_such_server_by_name(stratus):
    result = stratus("server", "show", "nope")
    assert result.exit_code == 1
    assert error_line(result) == "Error: No server with name or id 'nope'"


def test_no_such_server_by_id_is_also_tried_as_a_name(stratus, fake):
    missing = str(uuid.uuid4())
    result = stratus("server", "delete", missing)
    assert result.exit_code == 1
    assert f"Error: No server with name or id '{missing}'" in result.stderr
    assert fake.calls.count["GetServer"] == 1
    assert fake.calls.count["ListServers"] == 1


def test_no_os_auth_url_says_how_to_set_one_and_calls_nothing(stratus, fake):
    result = stratus("server", "list", OS_AUTH_URL="")
    assert result.exit_code == 1
    assert error_line(result).startswith("Error: No identity address: set OS_AUTH_URL")
    assert fake.calls.count["IssueToken"] == 0


def test_identity_not_listening_is_named_with_its_address(stratus):
    result = stratus("flavor", "list", OS_AUTH_URL="127.0.0.1:1")
    assert result.exit_code == 1
    assert error_line(result).startswith(
        "Error: Cannot reach the identity service at 127.0.0.1:1 (OS_AUTH_URL): "
    )


def test_ambiguous_name_lists_the_ids(stratus, fake):
    first, second = fake.servers.add("twin"), fake.servers.add("twin")
    result = stratus("server", "show", "twin")
    assert result.exit_code == 1
    assert error_line(result) == (
        f"Error: More than one server is named 'twin' ({first.id}, {second.id}); "
        "give its id instead"
    )


def test_unknown_column_is_an_error(stratus, fake):
    fake.servers.add("vm1")
    result = stratus("server", "list", "-c", "Flavour")
    assert result.exit_code == 1
    assert "No column 'Flavour'" in error_line(result)


def test_debug_shows_the_traceback(stratus):
    result = stratus("--debug", "server", "show", "nope")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().endswith("Error: No server with name or id 'nope'")


# ---------------------------------------------------------------- behaviour


def test_token_is_issued_once_for_all_the_calls_of_a_command(stratus, fake):
    result = stratus("server", "create", "--flavor", "m1.small", "--image", "demo", "vm1")
    assert result.exit_code == 0, result.output
    assert fake.calls.count["ListFlavors"] >= 1
    assert fake.calls.count["ListImages"] >= 1
    assert fake.calls.count["IssueToken"] == 1


def test_names_are_resolved_to_the_ids_the_contract_wants(stratus, fake):
    result = stratus("server", "create", "--flavor", "m1.small", "--image", "demo", "vm1")
    assert result.exit_code == 0, result.output
    request = fake.servers.created[0]
    assert request.flavor_id == fake.flavors.flavors[1].id
    assert request.image_id == fake.images.images[0].id


def test_ids_are_accepted_where_names_are(stratus, fake):
    image_id = fake.images.images[0].id
    result = stratus("server", "create", "--flavor", "m1.tiny", "--image", image_id, "vm1")
    assert result.exit_code == 0, result.output
    assert fake.servers.created[0].image_id == image_id


def test_list_pages_through_every_page(stratus, fake):
    for name in ("a", "b", "c"):
        fake.servers.add(name)
    result = stratus("server", "list", "-f", "json")
    assert result.exit_code == 0, result.output
    assert [row["Name"] for row in json.loads(result.stdout)] == ["a", "b", "c"]
    assert fake.calls.count["ListServers"] == 3


def test_server_list_shows_image_names_and_networks(stratus, fake):
    image = fake.images.images[0]
    fake.servers.add(
        "vm1",
        image_id=image.id,
        flavor=api_pb2.FlavorSummary(name="m1.tiny"),
        addresses=[instance_pb2.Address(network_name="private", ip_address="10.0.0.5")],
    )
    result = stratus("server", "list", "-f", "json")
    row = json.loads(result.stdout)[0]
    assert (row["Image"], row["Flavor"], row["Networks"]) == (
        "demo",
        "m1.tiny",
        {"private": ["10.0.0.5"]},
    )


def test_create_wait_follows_the_server_until_active(stratus, fake):
    fake.servers.build_steps = [
        {"status": Server.STATUS_BUILD, "task_state": instance_state_pb2.TASK_STATE_SPAWNING},
        {"status": Server.STATUS_ACTIVE},
    ]
    result = stratus(
        "server", "create", "--flavor", "m1.tiny", "--image", "demo", "--wait", "vm1", "-f", "json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "ACTIVE"
    assert "Server vm1: BUILD (spawning)" in result.stderr


def test_create_without_wait_answers_in_build(stratus, fake):
    fake.servers.build_steps = [{"status": Server.STATUS_ACTIVE}]
    result = stratus(
        "server", "create", "--flavor", "m1.tiny", "--image", "demo", "vm1", "-f", "json"
    )
    assert json.loads(result.stdout)["status"] == "BUILD"
    assert fake.calls.count["WatchServer"] == 0


def test_create_wait_ending_in_error_fails_with_the_fault(stratus, fake):
    fault = instance_pb2.Fault(code=8, message="No valid host was found")
    fake.servers.build_steps = [{"status": Server.STATUS_ERROR, "fault": fault}]
    result = stratus("server", "create", "--flavor", "m1.tiny", "--image", "demo", "--wait", "vm1")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].endswith("went to ERROR: No valid host was found")
    assert result.stdout == ""


def test_delete_wait_treats_a_vanished_server_as_deleted(stratus, fake):
    fake.servers.add("vm1", task_state=instance_state_pb2.TASK_STATE_DELETING)
    result = stratus("server", "delete", "--wait", "vm1")
    assert result.exit_code == 0, result.output
    assert fake.servers.servers == []


def test_delete_several_reports_each_failure_and_counts_them(stratus, fake):
    fake.servers.add("vm1")
    result = stratus("server", "delete", "vm1", "ghost")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: No server with name or id 'ghost'",
        "Error: 1 of 2 servers failed to delete",
    ]
    assert fake.servers.servers == []


def test_console_log_show_prints_the_log(stratus, fake):
    fake.servers.add("vm1")
    result = stratus("console", "log", "show", "vm1")
    assert result.exit_code == 0, result.output
    assert result.stdout == "login: \n"


def test_show_value_format_with_columns(stratus, fake):
    server = fake.servers.add("vm1")
    result = stratus("server", "show", "vm1", "-f", "value", "-c", "id", "-c", "status")
    assert result.stdout == f"{server.id}\nACTIVE\n"


# ---------------------------------------------------------------- help


def _commands(group: click.Group, path=()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_option_of_every_command_says_what_it_does():
    undocumented = [
        f"{' '.join(path)} {param.opts[0]}"
        for path, command in _commands(cli)
        for param in command.params
        if isinstance(param, click.Option) and not param.help
    ]
    undocumented += [p.opts[0] for p in cli.params if isinstance(p, click.Option) and not p.help]
    assert undocumented == []


def test_every_command_has_help_text():
    assert [" ".join(path) for path, command in _commands(cli) if not command.help] == []


def test_help_needs_no_credentials(stratus, fake):
    result = stratus("server", "create", "--help", OS_AUTH_URL="")
    assert result.exit_code == 0
    assert "--flavor FLAVOR" in result.stdout
    assert fake.calls.count["IssueToken"] == 0
