"""What run-all writes for the CLI (clouds.yaml, openrc) and prints, with and without TLS."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.cli.cloud_config import credentials
from components.supervisor import instructions

PASSWORDS = {"admin": "a-secret", "demo": "d-secret"}
IDS = {"image": "i", "network": "n", "flavor": "f"}
ADDRESSES = {
    "identity": "127.0.0.1:5000",
    "api": "127.0.0.1:8774",
    "conductor": "127.0.0.1:8781",
    "compute-1": "127.0.0.1:8782",
}


def test_clouds_yaml_names_the_ca_of_every_cloud_and_the_cli_reads_it(tmp_path):
    ca = tmp_path / "pki" / "ca.pem"
    path = instructions.write_credentials(tmp_path, "127.0.0.1:5000", PASSWORDS, cacert=ca)
    clouds = yaml.safe_load(path.read_text())["clouds"]
    assert {name: cloud["cacert"] for name, cloud in clouds.items()} == {
        "admin": str(ca),
        "demo": str(ca),
    }
    environ = {"OS_CLIENT_CONFIG_FILE": str(path)}
    assert credentials("admin", {}, environ=environ).cacert == str(ca)
    assert f"export OS_CACERT={ca}\n" in (tmp_path / "openrc").read_text()
    assert path.stat().st_mode & 0o777 == 0o600


def test_without_a_ca_clouds_yaml_and_openrc_name_none(tmp_path):
    path = instructions.write_credentials(tmp_path, "127.0.0.1:5000", PASSWORDS)
    assert all(
        "cacert" not in cloud for cloud in yaml.safe_load(path.read_text())["clouds"].values()
    )
    assert "OS_CACERT" not in (tmp_path / "openrc").read_text()


def test_the_plaintext_banner_has_no_tls_flags():
    text = instructions.banner(ADDRESSES, IDS, PASSWORDS, Path("/data/clouds.yaml"))
    assert "grpcurl -plaintext -d" in text
    assert "-cacert" not in text and "-cert" not in text and "ADMIN_TOKEN" not in text


def test_the_tls_banner_verifies_with_the_ca_and_shows_an_operator_call():
    text = instructions.banner(
        ADDRESSES,
        IDS,
        PASSWORDS,
        Path("/data/clouds.yaml"),
        cacert=Path("/data/pki/ca.pem"),
        operator=(Path("/data/pki/operator.pem"), Path("/data/pki/operator-key.pem")),
    )
    assert "-plaintext" not in text
    assert text.count("grpcurl -cacert /data/pki/ca.pem ") >= 7
    assert (
        "grpcurl -cacert /data/pki/ca.pem -cert /data/pki/operator.pem "
        '-key /data/pki/operator-key.pem -H "x-auth-token: $ADMIN_TOKEN" 127.0.0.1:8782 '
        "stratus.compute.v1.Compute/GetHostStatus"
    ) in text
    assert '"username":"admin","password":"a-secret"' in text


def test_the_tls_banner_without_an_operator_certificate_has_no_client_certificate_line():
    text = instructions.banner(
        ADDRESSES, IDS, PASSWORDS, Path("/data/clouds.yaml"), cacert=Path("/data/pki/ca.pem")
    )
    assert "-plaintext" not in text and "-cert " not in text
