"""Where credentials come from: clouds.yaml, OS_* variables and flags, in that order."""

from __future__ import annotations

import pytest
import yaml

from components.cli.cloud_config import credentials, identity_address
from components.cli.errors import CliError

DEMO = {
    "auth": {
        "auth_url": "127.0.0.1:5000",
        "username": "demo",
        "password": "from-file",
        "project_name": "demo",
        "user_domain_name": "default",
        "project_domain_name": "default",
    },
    "region_name": "RegionOne",
}


def write_clouds(path, **clouds):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


def message(info) -> str:
    return info.value.format_message()


def test_named_cloud_is_read_from_os_client_config_file(tmp_path):
    path = write_clouds(tmp_path / "elsewhere" / "clouds.yaml", demo=DEMO)
    creds = credentials("demo", {}, environ={"OS_CLIENT_CONFIG_FILE": str(path)}, cwd=tmp_path)
    assert (creds.auth_url, creds.username, creds.password) == (
        "127.0.0.1:5000",
        "demo",
        "from-file",
    )
    assert (creds.project_name, creds.domain_name, creds.region_name) == (
        "demo",
        "default",
        "RegionOne",
    )


def test_os_client_config_file_comes_before_the_current_directory(tmp_path):
    write_clouds(
        tmp_path / "clouds.yaml", demo={**DEMO, "auth": {**DEMO["auth"], "username": "cwd"}}
    )
    path = write_clouds(tmp_path / "env" / "clouds.yaml", demo=DEMO)
    creds = credentials("demo", {}, environ={"OS_CLIENT_CONFIG_FILE": str(path)}, cwd=tmp_path)
    assert creds.username == "demo"


def test_current_directory_comes_before_the_home_directory(tmp_path):
    write_clouds(
        tmp_path / "clouds.yaml", demo={**DEMO, "auth": {**DEMO["auth"], "username": "cwd"}}
    )
    write_clouds(tmp_path / "home" / ".config" / "stratus" / "clouds.yaml", demo=DEMO)
    creds = credentials("demo", {}, environ={}, cwd=tmp_path, home=tmp_path / "home")
    assert creds.username == "cwd"


def test_home_directory_clouds_yaml_is_found(tmp_path):
    write_clouds(tmp_path / "home" / ".config" / "stratus" / "clouds.yaml", demo=DEMO)
    creds = credentials("demo", {}, environ={}, cwd=tmp_path, home=tmp_path / "home")
    assert creds.username == "demo"


def test_flags_and_variables_override_the_cloud(tmp_path):
    path = write_clouds(tmp_path / "clouds.yaml", demo=DEMO)
    creds = credentials(
        "demo",
        {"password": "from-flag", "auth_url": "10.0.0.9:5000", "username": None},
        environ={"OS_CLIENT_CONFIG_FILE": str(path)},
    )
    assert (creds.password, creds.auth_url, creds.username) == (
        "from-flag",
        "10.0.0.9:5000",
        "demo",
    )


def test_variables_alone_are_enough_without_a_cloud():
    creds = credentials(
        None,
        {"auth_url": "127.0.0.1:5000", "username": "u", "password": "p", "project_name": "x"},
        environ={},
    )
    assert creds.domain_name == "default"
    assert creds.cloud == ""


def test_no_auth_url_says_how_to_give_one():
    with pytest.raises(CliError) as info:
        credentials(None, {"username": "u", "password": "p", "project_name": "x"}, environ={})
    assert message(info).startswith("No identity address: set OS_AUTH_URL")
    assert "--os-cloud" in message(info)


def test_missing_password_names_the_variable_and_the_flag():
    with pytest.raises(CliError) as info:
        credentials(None, {"auth_url": "h:1", "username": "u", "project_name": "x"}, environ={})
    assert message(info) == "Missing credentials: set OS_PASSWORD or --os-password"


def test_unknown_cloud_lists_the_clouds_in_the_file(tmp_path):
    path = write_clouds(tmp_path / "clouds.yaml", admin=DEMO, demo=DEMO)
    with pytest.raises(CliError) as info:
        credentials("prod", {}, environ={"OS_CLIENT_CONFIG_FILE": str(path)})
    assert message(info) == f"No cloud named 'prod' in {path} (clouds there: admin, demo)"


def test_cloud_without_any_clouds_yaml_lists_where_it_looked(tmp_path):
    with pytest.raises(CliError) as info:
        credentials("demo", {}, environ={}, cwd=tmp_path, home=tmp_path / "home")
    assert "no clouds.yaml exists" in message(info)
    assert str(tmp_path / "clouds.yaml") in message(info)


def test_unreadable_clouds_yaml_is_one_line(tmp_path):
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds: [unclosed\n")
    with pytest.raises(CliError) as info:
        credentials("demo", {}, environ={}, cwd=tmp_path)
    assert message(info).startswith(f"Cannot read {path}:")
    assert "\n" not in message(info)


def test_different_user_and_project_domains_are_refused():
    given = {"auth_url": "h:1", "username": "u", "password": "p", "project_name": "x"}
    with pytest.raises(CliError) as info:
        credentials(
            None, {**given, "user_domain_name": "a", "project_domain_name": "b"}, environ={}
        )
    assert "differ" in message(info)


def test_one_domain_name_is_used_for_both():
    given = {"auth_url": "h:1", "username": "u", "password": "p", "project_name": "x"}
    assert credentials(None, {**given, "project_domain_name": "corp"}, environ={}).domain_name == (
        "corp"
    )


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("http://127.0.0.1:5000/v3", "127.0.0.1:5000"),
        ("identity.example.com:5000/", "identity.example.com:5000"),
        ("[::1]:5000", "[::1]:5000"),
    ],
)
def test_identity_address_accepts_what_openstack_users_write(url, address):
    assert identity_address(url) == address


def test_identity_address_without_a_port_is_refused():
    with pytest.raises(CliError) as info:
        identity_address("http://keystone/v3")
    assert "is not host:port" in message(info)
