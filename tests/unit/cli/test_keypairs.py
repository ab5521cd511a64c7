"""``stratus keypair``: create (generated or imported), list, show, delete, against a fake."""

from __future__ import annotations

import json
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.unit.cli.keypair_fakes import keypair_cloud


@pytest.fixture
def fake():
    """Overrides conftest's fake: the cloud with a Keypairs service."""
    with keypair_cloud() as cloud:
        yield cloud


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(result) -> str:
    assert result.exit_code == 1, result.output
    return result.stderr


def public_line_of(private_pem: str) -> str:
    key = serialization.load_ssh_private_key(private_pem.encode(), password=None)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public.decode()


def test_create_without_a_file_prints_only_the_private_key(stratus, fake):
    out = ok(stratus("keypair", "create", "laptop"))
    assert out.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert out.rstrip().endswith("-----END OPENSSH PRIVATE KEY-----")
    [sent] = fake.keypairs.requests["CreateKeypair"]
    assert (sent.name, sent.key_type) == ("laptop", "")
    assert fake.keypairs.pairs["laptop"].public_key.startswith(public_line_of(out))


def test_create_writes_the_private_key_0600_and_shows_the_key_pair(stratus, fake, tmp_path):
    path = tmp_path / "id_stratus"
    out = ok(
        stratus(
            "keypair", "create", "--type", "ssh-rsa", "--private-key", str(path), "k", "-f", "json"
        )
    )
    shown = json.loads(out)
    assert shown["name"] == "k" and shown["type"] == "ssh-rsa"
    assert "PRIVATE" not in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = serialization.load_ssh_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert shown["public_key"].startswith(public_line_of(path.read_text()))


def test_create_never_overwrites_a_private_key_file(stratus, fake, tmp_path):
    path = tmp_path / "id_existing"
    path.write_text("precious")
    err = refused(stratus("keypair", "create", "--private-key", str(path), "k"))
    assert "exists" in err and "not overwriting" in err
    assert path.read_text() == "precious"
    assert fake.keypairs.requests["CreateKeypair"] == []


def test_a_refused_create_leaves_no_private_key_file(stratus, fake, tmp_path):
    ok(stratus("keypair", "create", "--private-key", str(tmp_path / "first"), "dup"))
    second = tmp_path / "second"
    err = refused(stratus("keypair", "create", "--private-key", str(second), "dup"))
    assert "Already exists" in err
    assert not second.exists()


def test_create_with_a_public_key_imports_it(stratus, fake, tmp_path):
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    path = tmp_path / "id.pub"
    path.write_text(line.decode() + " me@laptop\n")
    out = ok(stratus("keypair", "create", "--public-key", str(path), "mine", "-f", "json"))
    assert json.loads(out)["type"] == "ssh-ed25519"
    [sent] = fake.keypairs.requests["ImportKeypair"]
    assert sent.public_key == path.read_text()
    assert fake.keypairs.requests["CreateKeypair"] == []


def test_import_with_type_or_private_key_is_a_usage_error(stratus, fake, tmp_path):
    path = tmp_path / "id.pub"
    path.write_text("ssh-ed25519 AAAA")
    for extra in (["--type", "ssh-rsa"], ["--private-key", str(tmp_path / "k")]):
        result = stratus("keypair", "create", "--public-key", str(path), *extra, "k")
        assert result.exit_code == 2, result.output
    assert not (tmp_path / "k").exists()


def test_a_malformed_public_key_is_refused_in_one_line(stratus, fake, tmp_path):
    path = tmp_path / "bad.pub"
    path.write_text("not a key\n")
    err = refused(stratus("keypair", "create", "--public-key", str(path), "k"))
    assert err.startswith("Error: Invalid request: public_key") and len(err.splitlines()) == 1
    assert "Cannot read" in refused(
        stratus("keypair", "create", "--public-key", str(tmp_path / "missing.pub"), "k")
    )


def test_list_pages_through_and_show_reads_one(stratus, fake):
    for name in ("b", "a", "c"):
        ok(stratus("keypair", "create", name))
    out = ok(stratus("keypair", "list", "-f", "value", "-c", "Name"))
    assert out.split() == ["a", "b", "c"]
    shown = json.loads(ok(stratus("keypair", "show", "b", "-f", "json")))
    assert shown["fingerprint"] == fake.keypairs.pairs["b"].fingerprint
    assert set(shown) == {"name", "fingerprint", "type", "user_id", "public_key", "created"}
    assert "Not found" in refused(stratus("keypair", "show", "zzz"))


def test_delete_several_reports_each_failure(stratus, fake):
    ok(stratus("keypair", "create", "a"))
    ok(stratus("keypair", "create", "b"))
    err = refused(stratus("keypair", "delete", "a", "nope", "b"))
    assert "1 of 3 key pairs failed to delete" in err
    assert fake.keypairs.pairs == {}


def test_admins_name_the_user(stratus, fake):
    ok(stratus("keypair", "list", "--user", "u-other"))
    assert fake.keypairs.requests["ListKeypairs"][-1].user_id == "u-other"
