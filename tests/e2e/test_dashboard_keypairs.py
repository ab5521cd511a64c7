"""The dashboard's key pairs panel against a real cloud: a created key's private half is
shown once and matches the listed fingerprint; import and delete reach the api."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import uuid

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from tests.e2e.dashboard_client import post_form


@pytest.fixture
def keypairs(cloud):
    return api_grpc.KeypairsStub(cloud.channel("api")), cloud.md("demo")


def fingerprint(public_line: str) -> str:
    """MD5 of the key blob, colon-separated hex (as the api fingerprints keys)."""
    digest = hashlib.md5(base64.b64decode(public_line.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def listed_row(client, name: str) -> str:
    text = client.get("/project/keypairs").text
    match = re.search(rf'<tr data-keypair="{re.escape(html.escape(name))}">(.*?)</tr>', text, re.S)
    return html.unescape(match.group(1)) if match else ""


def refused(page, form: str, data: dict) -> tuple[str, str]:
    """Submit the ``form`` form (create or import) with values the api refuses: the page
    answered (400) and the service's message it shows above that form."""
    reply = post_form(page, f"/project/keypairs/{form}", data)
    assert reply.status_code == 400
    error = re.search(rf'id="{form}-keypair-error">([^<]*)<', reply.text)
    assert error, f"no error above the {form} form"
    return reply.text, html.unescape(error.group(1))


@pytest.mark.parametrize("key_type", ["ssh-ed25519", "ssh-rsa"])
def test_create_shows_the_private_key_once_matching_the_listed_fingerprint(
    page, keypairs, key_type
):
    stub, md = keypairs
    name = f"dash-{uuid.uuid4().hex[:6]}"
    reply = post_form(
        page, "/project/keypairs/create", {"name": name, "key_type": key_type}, "/project/keypairs"
    )
    try:
        assert reply.status_code == 200
        assert reply.headers["cache-control"] == "no-store"
        box = re.search(
            r'<textarea id="private-key" readonly[^>]*>(.*?)</textarea>', reply.text, re.S
        )
        assert box, "no read-only private key box"
        private_pem = html.unescape(box.group(1))
        private = serialization.load_ssh_private_key(private_pem.encode(), password=None)
        public_line = (
            private.public_key()
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            .decode()
        )
        stored = stub.GetKeypair(api_pb2.GetKeypairRequest(name=name), metadata=md)
        assert stored.key_type == key_type
        assert stored.fingerprint == fingerprint(public_line)
        row = listed_row(page, name)
        assert stored.fingerprint in row and key_type in row
        # The download link carries the same key.
        link = re.search(r'id="download-private-key" href="data:[^;]+;base64,([^"]+)"', reply.text)
        assert link and base64.b64decode(link.group(1)).decode() == private_pem
        # Shown once: no later page has it.
        assert private_pem.strip().splitlines()[1] not in page.get("/project/keypairs").text
    finally:
        stub.DeleteKeypair(api_pb2.DeleteKeypairRequest(name=name), metadata=md)


def test_a_refused_create_shows_the_service_message_and_keeps_the_name(page):
    text, error = refused(page, "create", {"name": "bad/name!", "key_type": "ssh-ed25519"})
    assert "name" in error
    assert 'value="bad/name!"' in text


def test_import_lists_the_key_and_delete_removes_it(page, keypairs):
    stub, md = keypairs
    name = f"dash import@{uuid.uuid4().hex[:6]}"  # spaces and @ are allowed in names
    public_line = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    reply = post_form(
        page,
        "/project/keypairs/import",
        {"name": name, "public_key": public_line + " me@laptop"},
        "/project/keypairs",
    )
    assert reply.status_code == 303
    stored = stub.GetKeypair(api_pb2.GetKeypairRequest(name=name), metadata=md)
    assert stored.fingerprint == fingerprint(public_line)
    assert stored.fingerprint in listed_row(page, name)

    reply = post_form(page, f"/project/keypairs/{name}/delete", {}, "/project/keypairs")
    assert reply.status_code == 303
    with pytest.raises(grpc.RpcError) as gone:
        stub.GetKeypair(api_pb2.GetKeypairRequest(name=name), metadata=md)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    assert listed_row(page, name) == ""


def test_a_bad_public_key_shows_the_service_message_and_keeps_the_values(page):
    text, error = refused(page, "import", {"name": "typed-name", "public_key": "ssh-ed25519 nope"})
    assert "public_key" in error
    assert 'value="typed-name"' in text and "ssh-ed25519 nope</textarea>" in text
