"""``server create --key-name/--user-data/--config-drive`` and what ``server show`` says of them."""

from __future__ import annotations

import json


def create(stratus, *args: str):
    return stratus("server", "create", "--flavor", "m1.tiny", "--image", "demo", *args, "vm1")


def test_create_passes_the_key_name_user_data_bytes_and_config_drive(stratus, fake, tmp_path):
    script = tmp_path / "user-data"
    data = b"#!/bin/sh\necho hi > /marker\n\xff\x00"
    script.write_bytes(data)
    result = create(stratus, "--key-name", "laptop", "--user-data", str(script), "--config-drive")
    assert result.exit_code == 0, result.output
    request = fake.servers.created[0]
    assert (request.key_name, request.user_data, request.config_drive) == ("laptop", data, True)


def test_create_without_them_asks_for_none(stratus, fake):
    result = create(stratus)
    assert result.exit_code == 0, result.output
    request = fake.servers.created[0]
    assert (request.key_name, request.user_data, request.config_drive) == ("", b"", False)


def test_a_missing_user_data_file_is_a_usage_error_and_creates_nothing(stratus, fake, tmp_path):
    result = create(stratus, "--user-data", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "nope" in result.output
    assert fake.calls.count["CreateServer"] == 0


def test_show_shows_the_key_name_and_config_drive(stratus, fake):
    fake.servers.add("vm1", key_name="laptop", config_drive=True)
    fake.servers.add("vm2")
    shown = json.loads(stratus("server", "show", "vm1", "-f", "json").output)
    assert (shown["key_name"], shown["config_drive"]) == ("laptop", True)
    plain = json.loads(stratus("server", "show", "vm2", "-f", "json").output)
    assert (plain["key_name"], plain["config_drive"]) == (None, False)
