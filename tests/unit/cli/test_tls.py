"""The CLI over TLS: the CA from --os-cacert, OS_CACERT or clouds.yaml verifies every
service; a missing, wrong or unreadable CA is one line naming what to fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from components.cli.__main__ import cli
from components.supervisor.pki import Authority
from tests.unit.cli.fakes import PASSWORD, FakeCloud
from tests.unit.cli.tls_certs import Ca, Pair, serving_tls

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def ca(tmp_path):
    return Ca(tmp_path / "pki")


@pytest.fixture
def tls_cloud(ca):
    """The fake cloud over TLS: identity, api and image on one port, with an IP name."""
    cloud = FakeCloud()
    pair = ca.issue("stratus", dns=["identity", "api", "image"], ips=["127.0.0.1"])
    with serving_tls(cloud.services(), pair) as port:
        cloud.address = cloud.identity.address = f"127.0.0.1:{port}"
        yield cloud


def run(address: str, *args: str, **env: str):
    environ = {
        "OS_AUTH_URL": address,
        "OS_USERNAME": "demo",
        "OS_PASSWORD": PASSWORD,
        "OS_PROJECT_NAME": "demo",
        "OS_TOKEN_CACHE": "0",
        **env,
    }
    return CliRunner().invoke(cli, list(args), env=environ, prog_name="stratus")


def error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_os_cacert_verifies_identity_and_the_catalogs_services(tls_cloud, ca):
    result = run(
        tls_cloud.address, "flavor", "list", "-f", "value", "-c", "Name", OS_CACERT=str(ca.ca_file)
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["m1.tiny", "m1.small"]
    assert tls_cloud.calls.count["IssueToken"] == 1


def test_the_os_cacert_flag_does_the_same(tls_cloud, ca):
    result = run(tls_cloud.address, "--os-cacert", str(ca.ca_file), "flavor", "list")
    assert result.exit_code == 0, result.output
    assert "m1.tiny" in result.stdout


def test_cacert_of_a_clouds_yaml_cloud(tls_cloud, ca, tmp_path):
    clouds = tmp_path / "clouds.yaml"
    cloud = {
        "auth": {
            "auth_url": tls_cloud.address,
            "username": "demo",
            "password": PASSWORD,
            "project_name": "demo",
        },
        "region_name": "RegionOne",
        "cacert": str(ca.ca_file),
    }
    clouds.write_text(yaml.safe_dump({"clouds": {"demo": cloud}}))
    result = CliRunner().invoke(
        cli,
        ["flavor", "list"],
        env={"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "demo", "OS_TOKEN_CACHE": "0"},
        prog_name="stratus",
    )
    assert result.exit_code == 0, result.output
    assert "m1.small" in result.stdout


def test_a_tls_server_without_cacert_is_one_line_that_names_os_cacert(tls_cloud):
    result = run(tls_cloud.address, "flavor", "list")
    assert result.exit_code == 1
    line = error_line(result)
    assert line.startswith(f"Error: Cannot reach the identity service at {tls_cloud.address}")
    assert "if it speaks TLS" in line and "--os-cacert or OS_CACERT" in line


def test_a_wrong_ca_is_one_line_naming_the_ca_file(tls_cloud, tmp_path):
    other = Ca(tmp_path / "other", name="Someone else's CA")
    result = run(tls_cloud.address, "flavor", "list", OS_CACERT=str(other.ca_file))
    assert result.exit_code == 1
    line = error_line(result)
    assert line.startswith(f"Error: Cannot reach the identity service at {tls_cloud.address}")
    assert f"its certificate is not signed by a CA in {other.ca_file}" in line
    assert tls_cloud.calls.count["IssueToken"] == 0


def test_a_certificate_without_the_address_is_refused(ca, tmp_path):
    cloud = FakeCloud()
    with serving_tls(cloud.services(), ca.issue("elsewhere", ips=["10.9.9.9"])) as port:
        result = run(f"127.0.0.1:{port}", "flavor", "list", OS_CACERT=str(ca.ca_file))
    assert result.exit_code == 1
    assert "does not name the address" in error_line(result)
    assert cloud.calls.count["IssueToken"] == 0


def test_a_cacert_that_cannot_be_read_is_named_and_nothing_is_called(tls_cloud, tmp_path):
    missing = tmp_path / "nowhere" / "ca.pem"
    result = run(tls_cloud.address, "flavor", "list", OS_CACERT=str(missing))
    assert result.exit_code == 1
    assert error_line(result) == (
        f"Error: Cannot read {missing} (OS_CACERT, --os-cacert or cacert in clouds.yaml): "
        "No such file or directory"
    )
    assert tls_cloud.calls.count["IssueToken"] == 0


def test_a_cacert_that_is_no_certificate_is_named(tls_cloud, tmp_path):
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    result = run(tls_cloud.address, "flavor", "list", OS_CACERT=str(junk))
    assert result.exit_code == 1
    assert error_line(result) == (
        f"Error: {junk} (OS_CACERT, --os-cacert or cacert in clouds.yaml) holds no PEM certificate"
    )


def test_cacert_against_a_plaintext_server_says_it_does_not_speak_tls(stratus, fake, ca):
    result = stratus("flavor", "list", OS_CACERT=str(ca.ca_file))
    assert result.exit_code == 1
    line = error_line(result)
    assert line.startswith(f"Error: Cannot reach the identity service at {fake.address}")
    assert "it does not speak TLS" in line


def test_a_server_asking_for_a_client_certificate_gets_os_cert_and_os_key(ca):
    cloud = FakeCloud()
    pair = ca.issue("stratus", dns=["identity"], ips=["127.0.0.1"])
    operator = ca.issue("operator")
    with serving_tls(cloud.services(), pair, client_ca=ca.ca_file) as port:
        cloud.address = cloud.identity.address = f"127.0.0.1:{port}"
        without = run(cloud.address, "flavor", "list", OS_CACERT=str(ca.ca_file))
        with_cert = run(
            cloud.address,
            "flavor",
            "list",
            OS_CACERT=str(ca.ca_file),
            OS_CERT=str(operator.cert_file),
            OS_KEY=str(operator.key_file),
        )
    assert without.exit_code == 1
    assert "give one with --os-cert and --os-key" in error_line(without)
    assert with_cert.exit_code == 0, with_cert.output
    assert "m1.tiny" in with_cert.stdout


def test_a_key_that_cannot_be_read_is_named(tls_cloud, ca, tmp_path):
    operator = ca.issue("operator")
    missing = tmp_path / "operator-key.pem"
    result = run(
        tls_cloud.address,
        "flavor",
        "list",
        OS_CACERT=str(ca.ca_file),
        OS_CERT=str(operator.cert_file),
        OS_KEY=str(missing),
    )
    assert result.exit_code == 1
    assert error_line(result).startswith(f"Error: Cannot read {missing} (OS_KEY, --os-key")


def test_the_stratus_process_prints_one_line_for_a_wrong_ca(tls_cloud, tmp_path):
    """gRPC's own log of the failed handshake stays out of the user's terminal."""
    other = Ca(tmp_path / "other", name="Someone else's CA")
    environ = {k: v for k, v in os.environ.items() if k != "GRPC_VERBOSITY"}
    environ.update(
        OS_AUTH_URL=tls_cloud.address,
        OS_USERNAME="demo",
        OS_PASSWORD=PASSWORD,
        OS_PROJECT_NAME="demo",
        OS_CACERT=str(other.ca_file),
        OS_TOKEN_CACHE="0",
    )
    done = subprocess.run(
        [sys.executable, "-m", "components.cli", "flavor", "list"],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("Error: Cannot reach the identity service")


def test_certificates_of_run_alls_authority_serve_the_cli(tmp_path):
    """The CA run-all writes into clouds.yaml verifies the certificates it issues."""
    authority = Authority.load_or_create(tmp_path / "pki")
    issued = authority.issue("identity-1", "identity", ["127.0.0.1:5000"])
    operator = authority.issue("operator", "operator", [])
    cloud = FakeCloud()
    pair = Pair(issued.cert_file, issued.key_file)
    with serving_tls(cloud.services(), pair, client_ca=authority.ca_file) as port:
        cloud.address = cloud.identity.address = f"127.0.0.1:{port}"
        result = run(
            cloud.address,
            "flavor",
            "list",
            OS_CACERT=str(authority.ca_file),
            OS_CERT=str(operator.cert_file),
            OS_KEY=str(operator.key_file),
        )
    assert result.exit_code == 0, result.output
    assert "m1.tiny" in result.stdout
