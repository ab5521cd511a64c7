"""Key pairs through the installed ``stratus`` command, against the one e2e cloud."""

from __future__ import annotations

import stat
import subprocess
import uuid

import pytest

from tests.e2e.test_cli import Stratus

pytestmark = pytest.mark.e2e


@pytest.fixture
def stratus(cloud, tmp_path):
    """The stratus command, its token cache in the test's own directory."""
    return Stratus(cloud, tmp_path)


def refused(result) -> str:
    """The first line of a failed command's error."""
    assert result.returncode == 1, result.stdout
    return result.stderr.splitlines()[0]


def test_keypair_create_import_list_show_delete(stratus, tmp_path):
    name = f"cli-key-{uuid.uuid4().hex[:8]}"
    private = tmp_path / "id_stratus"
    created = stratus.json("keypair", "create", "--private-key", str(private), name)
    assert created["type"] == "ssh-ed25519"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    # The public key derived from the private key file is the one the cloud keeps.
    derived = subprocess.run(
        ["ssh-keygen", "-y", "-f", str(private)], capture_output=True, text=True, timeout=30
    )
    if derived.returncode == 0:
        assert created["public_key"].split()[:2] == derived.stdout.split()[:2]

    imported_name = f"{name}-imported"
    public = tmp_path / "imported.pub"
    public.write_text(created["public_key"] + "\n")
    imported = stratus.json("keypair", "create", "--public-key", str(public), imported_name)
    assert imported["fingerprint"] == created["fingerprint"]

    names = [row["Name"] for row in stratus.json("keypair", "list")]
    assert {name, imported_name} <= set(names)
    assert stratus.json("keypair", "show", name)["fingerprint"] == created["fingerprint"]
    assert refused(stratus.run("keypair", "create", "--private-key", str(private), name)).endswith(
        "not overwriting it with a new private key"
    )

    stratus.ok("keypair", "delete", name, imported_name)
    assert refused(stratus.run("keypair", "show", name)).startswith("Error: Not found")
