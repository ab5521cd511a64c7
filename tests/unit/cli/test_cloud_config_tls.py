"""TLS settings as openstacksdk's clouds.yaml has them: cacert, cert and key per cloud,
OS_CACERT, OS_CERT and OS_KEY, --os-cacert, --os-cert and --os-key; never verify: false."""

from __future__ import annotations

import pytest
import yaml

from components.cli.cloud_config import credentials, read_tls
from components.cli.errors import CliError
from tests.unit.cli.tls_certs import Ca

AUTH = {"auth_url": "127.0.0.1:5000", "username": "demo", "password": "pw", "project_name": "demo"}


def from_cloud(tmp_path, given=None, **cloud):
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": {"demo": {"auth": AUTH, **cloud}}}))
    return credentials("demo", given or {}, environ={"OS_CLIENT_CONFIG_FILE": str(path)})


def message(info) -> str:
    return info.value.format_message()


def test_cacert_cert_and_key_of_a_cloud_are_read(tmp_path):
    creds = from_cloud(tmp_path, cacert="/pki/ca.pem", cert="/pki/me.pem", key="/pki/me-key.pem")
    assert (creds.cacert, creds.cert, creds.key) == (
        "/pki/ca.pem",
        "/pki/me.pem",
        "/pki/me-key.pem",
    )
    assert creds.tls


def test_without_cacert_the_cloud_is_plaintext(tmp_path):
    creds = from_cloud(tmp_path)
    assert (creds.cacert, creds.cert, creds.key) == ("", "", "")
    assert not creds.tls


def test_os_cacert_and_the_flags_override_the_cloud(tmp_path):
    creds = from_cloud(tmp_path, {"cacert": "/other/ca.pem"}, cacert="/pki/ca.pem")
    assert creds.cacert == "/other/ca.pem"


def test_a_home_relative_path_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    creds = from_cloud(tmp_path, cacert="~/ca.pem")
    assert creds.cacert == str(tmp_path / "home" / "ca.pem")


def test_cacert_is_not_part_of_auth_and_an_auth_cacert_is_not_read(tmp_path):
    """openstacksdk keeps cacert beside auth, not in it."""
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": {"demo": {"auth": {**AUTH, "cacert": "/x"}}}}))
    assert credentials("demo", {}, environ={"OS_CLIENT_CONFIG_FILE": str(path)}).cacert == ""


@pytest.mark.parametrize(
    ("given", "missing"), [({"cert": "/me.pem"}, "OS_KEY"), ({"key": "/me-key.pem"}, "OS_CERT")]
)
def test_a_certificate_without_its_key_or_a_key_alone_is_refused(tmp_path, given, missing):
    with pytest.raises(CliError) as info:
        from_cloud(tmp_path, given, cacert="/pki/ca.pem")
    assert "A client certificate needs both files" in message(info)
    assert f"is set but not {missing}" in message(info)


def test_a_client_certificate_without_a_cacert_is_refused(tmp_path):
    with pytest.raises(CliError) as info:
        from_cloud(tmp_path, {"cert": "/me.pem", "key": "/me-key.pem"})
    assert "set OS_CACERT or --os-cacert" in message(info)


@pytest.mark.parametrize("setting", [{"verify": False}, {"insecure": True}])
def test_turning_verification_off_is_refused(tmp_path, setting):
    with pytest.raises(CliError) as info:
        from_cloud(tmp_path, cacert="/pki/ca.pem", **setting)
    assert "Stratus does not support that" in message(info)
    assert str(tmp_path / "clouds.yaml") in message(info)


def test_verify_true_is_harmless(tmp_path):
    assert from_cloud(tmp_path, verify=True, cacert="/pki/ca.pem").cacert == "/pki/ca.pem"


def test_read_tls_gives_the_pem_bytes(tmp_path):
    ca = Ca(tmp_path / "pki")
    me = ca.issue("me")
    creds = from_cloud(
        tmp_path, cacert=str(ca.ca_file), cert=str(me.cert_file), key=str(me.key_file)
    )
    files = read_tls(creds)
    assert (files.ca, files.cert, files.key) == (ca.ca_file.read_bytes(), me.cert, me.key)
    assert read_tls(from_cloud(tmp_path, cacert=str(ca.ca_file))).cert is None


def test_a_cert_file_that_holds_a_key_is_named(tmp_path):
    ca = Ca(tmp_path / "pki")
    me = ca.issue("me")
    creds = from_cloud(
        tmp_path, cacert=str(ca.ca_file), cert=str(me.key_file), key=str(me.key_file)
    )
    with pytest.raises(CliError) as info:
        read_tls(creds)
    assert message(info) == (
        f"{me.key_file} (OS_CERT, --os-cert or cert in clouds.yaml) holds no PEM certificate"
    )
