"""Contract tests of stratus.api.v1.Keypairs: each user's SSH key pairs, on every database."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
import warnings

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from components.api.__main__ import COMPONENT
from components.api.config import ApiConfig
from components.api.keypair_keys import fingerprint
from components.compute_db.models import KeyPair
from components.framework import auth, errors
from stratus.api.v1 import api_service_pb2 as pb2
from stratus.api.v1 import api_service_pb2_grpc as pb2_grpc
from tests.harness import StaticValidator, serving_component

PROJECT = str(uuid.uuid4())
# The quota this module's api runs with (the default, 100, is checked on ApiConfig).
QUOTA = 4


def _user(token: str, roles: list[str]) -> auth.Caller:
    return auth.Caller(
        user_id=str(uuid.uuid4()),
        user_name=token,
        project_id=PROJECT,
        project_name="demo",
        roles=frozenset(roles),
        token=token,
    )


USERS = {
    name: _user(name, roles)
    for name, roles in (
        ("alice", ["member"]),
        ("bob", ["member"]),
        ("admin", ["admin"]),
        ("reader", ["reader"]),
    )
}

CONTRACT_CASES = {
    "stratus.api.v1.Keypairs/CreateKeypair": {
        "INVALID_ARGUMENT": "test_create_refuses_bad_names_and_key_types_and_stores_nothing",
        "PERMISSION_DENIED": "test_the_reader_role_may_get_and_list_only",
    },
    "stratus.api.v1.Keypairs/ImportKeypair": {
        "INVALID_ARGUMENT": "test_import_refuses_malformed_keys_and_names",
        "PERMISSION_DENIED": "test_the_reader_role_may_get_and_list_only",
    },
    "stratus.api.v1.Keypairs/GetKeypair": {
        "NOT_FOUND": "test_another_users_key_pair_is_not_found",
        "INVALID_ARGUMENT": "test_malformed_names_and_user_ids_are_invalid_argument",
        "PERMISSION_DENIED": "test_only_admins_may_name_another_user",
    },
    "stratus.api.v1.Keypairs/ListKeypairs": {
        "INVALID_ARGUMENT": "test_list_pages_by_name_and_refuses_foreign_tokens",
        "PERMISSION_DENIED": "test_only_admins_may_name_another_user",
    },
    "stratus.api.v1.Keypairs/DeleteKeypair": {
        "NOT_FOUND": "test_another_users_key_pair_is_not_found",
        "INVALID_ARGUMENT": "test_malformed_names_and_user_ids_are_invalid_argument",
        "PERMISSION_DENIED": "test_only_admins_may_name_another_user",
    },
}


class Keys:
    """The Keypairs stub, called as one user or another."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.stub = pb2_grpc.KeypairsStub(channel)

    def __getattr__(self, rpc: str):
        method = getattr(self.stub, rpc)
        request_cls = getattr(pb2, rpc + "Request")

        def call(token: str = "alice", **fields):
            return method(request_cls(**fields), metadata=(("x-auth-token", token),))

        return call


@pytest.fixture
def keys(database_url):
    validator = StaticValidator(USERS)
    config = ApiConfig(component="api", quota_key_pairs=QUOTA)
    with serving_component(COMPONENT, validator, database_url, config=config) as (_, channel):
        yield Keys(channel)


def fails(code: grpc.StatusCode, fn, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    assert info.value.code() == code, info.value.details()
    return info.value


def field(error) -> str:
    return errors.error_info(error).metadata.get("field", "")


def openssh(private) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def ed25519_line(comment: str = "me@laptop") -> str:
    return f"{openssh(ed25519.Ed25519PrivateKey.generate())} {comment}"


def rsa_line(bits: int) -> str:
    return openssh(rsa.generate_private_key(public_exponent=65537, key_size=bits))


def dsa_line() -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography deprecates SSH DSA keys, as OpenSSH did
        return openssh(dsa.generate_private_key(1024))


def md5_fingerprint(line: str, tmp_path) -> str:
    """What ``ssh-keygen -l -E md5`` says of ``line``; computed here where it is missing."""
    if shutil.which("ssh-keygen") is None:
        return fingerprint(base64.b64decode(line.split()[1]))
    path = tmp_path / f"key-{uuid.uuid4().hex}.pub"
    path.write_text(line + "\n")
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", "md5", "-f", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return out.split()[1].removeprefix("MD5:")


# CreateKeypair ------------------------------------------------------------------------


def test_create_returns_the_private_key_once_and_stores_only_the_public_key(keys, tmp_path):
    reply = keys.CreateKeypair(name="laptop")
    pair = reply.keypair
    assert (pair.name, pair.user_id, pair.key_type) == (
        "laptop",
        USERS["alice"].user_id,
        "ssh-ed25519",
    )
    assert pair.create_time.seconds > 0
    private = serialization.load_ssh_private_key(reply.private_key.encode(), password=None)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    assert pair.public_key.split()[:2] == openssh(private).split()
    assert pair.fingerprint == md5_fingerprint(pair.public_key, tmp_path)
    again = keys.GetKeypair(name="laptop")
    assert again == pair
    assert "PRIVATE" not in str(again) and reply.private_key not in str(keys.ListKeypairs())


def test_create_ssh_rsa_makes_a_3072_bit_key(keys, tmp_path):
    reply = keys.CreateKeypair(name="old-box", key_type="ssh-rsa")
    private = serialization.load_ssh_private_key(reply.private_key.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 3072
    assert reply.keypair.key_type == "ssh-rsa"
    assert reply.keypair.public_key.split()[:2] == openssh(private).split()
    assert reply.keypair.fingerprint == md5_fingerprint(reply.keypair.public_key, tmp_path)


def test_create_refuses_bad_names_and_key_types_and_stores_nothing(keys):
    for name in ("", "   ", "x" * 256, "a/b", "tab\there", "ключ", "semi;colon"):
        error = fails(grpc.StatusCode.INVALID_ARGUMENT, keys.CreateKeypair, name=name)
        assert field(error) == "name", name
    for key_type in ("ssh-dss", "ecdsa-sha2-nistp256", "rsa"):
        error = fails(
            grpc.StatusCode.INVALID_ARGUMENT, keys.CreateKeypair, name="k", key_type=key_type
        )
        assert field(error) == "key_type"
    assert list(keys.ListKeypairs().keypairs) == []
    # Every allowed character, and the longest name.
    for name in ("a Z_0-9.x@y", "x" * 255):
        assert keys.CreateKeypair(name=name).keypair.name == name


def test_a_duplicate_name_is_already_exists_for_its_user_only(keys):
    keys.CreateKeypair(name="dup")
    fails(grpc.StatusCode.ALREADY_EXISTS, keys.CreateKeypair, name="dup")
    fails(grpc.StatusCode.ALREADY_EXISTS, keys.ImportKeypair, name="dup", public_key=ed25519_line())
    assert keys.CreateKeypair("bob", name="dup").keypair.user_id == USERS["bob"].user_id
    assert [k.name for k in keys.ListKeypairs().keypairs] == ["dup"]


def test_the_quota_counts_a_users_key_pairs(keys):
    assert ApiConfig().quota_key_pairs == 100
    for i in range(QUOTA - 1):
        keys.CreateKeypair(name=f"k{i}")
    keys.ImportKeypair(name="imported", public_key=ed25519_line())
    for call, extra in (
        (keys.CreateKeypair, {}),
        (keys.ImportKeypair, {"public_key": ed25519_line()}),
    ):
        error = fails(grpc.StatusCode.RESOURCE_EXHAUSTED, call, name="one-more", **extra)
        assert errors.error_info(error).reason == "QUOTA_EXCEEDED"
        assert errors.error_info(error).metadata["resource"] == "key_pairs"
    assert len(keys.ListKeypairs().keypairs) == QUOTA
    # Another user's quota is their own; a delete frees a slot.
    keys.CreateKeypair("bob", name="one-more")
    keys.DeleteKeypair(name="k0")
    keys.CreateKeypair(name="one-more")


# ImportKeypair ------------------------------------------------------------------------


def test_import_stores_the_key_with_its_type_and_nova_fingerprint(keys, tmp_path):
    lines = {
        "ed": ed25519_line(),
        "rsa": rsa_line(2048),
        "ec": f"{openssh(ec.generate_private_key(ec.SECP384R1()))} with a spaced comment",
    }
    for name, line in lines.items():
        pair = keys.ImportKeypair(name=name, public_key=f"  {line}\n")
        assert pair.public_key == line
        assert pair.key_type == line.split()[0]
        assert pair.fingerprint == md5_fingerprint(line, tmp_path)
        assert keys.GetKeypair(name=name) == pair
    assert [k.key_type for k in keys.ListKeypairs().keypairs] == [
        "ecdsa-sha2-nistp384",
        "ssh-ed25519",
        "ssh-rsa",
    ]


def test_import_refuses_malformed_keys_and_names(keys):
    good = ed25519_line()
    kind, blob = good.split()[:2]
    ed_blob_as_rsa = f"ssh-rsa {blob}"
    bad_keys = {
        "empty": "",
        "garbage": "not a key at all",
        "type only": "ssh-ed25519",
        "bad base64": f"{kind} {blob[:-6]}!!!!==",
        "truncated blob": f"{kind} {blob[:20]}",
        "dsa": dsa_line(),
        "rsa 1024": rsa_line(1024),
        "two lines": f"{good}\n{ed25519_line()}",
        "type and blob disagree": ed_blob_as_rsa,
        "unknown type": f"ssh-foo {blob}",
        "too long": f"{good} {'c' * 17000}",
        "private key": "-----BEGIN OPENSSH PRIVATE KEY-----",
    }
    for what, line in bad_keys.items():
        error = fails(
            grpc.StatusCode.INVALID_ARGUMENT, keys.ImportKeypair, name="k", public_key=line
        )
        assert field(error) == "public_key", what
        assert len(error.details()) < 600, what
    for name in ("", " ", "a/b", "x" * 256):
        error = fails(
            grpc.StatusCode.INVALID_ARGUMENT, keys.ImportKeypair, name=name, public_key=good
        )
        assert field(error) == "name"
    assert list(keys.ListKeypairs().keypairs) == []


# Get, List, Delete --------------------------------------------------------------------


def test_another_users_key_pair_is_not_found(keys):
    keys.CreateKeypair("bob", name="bobs")
    for token in ("alice", "admin"):
        fails(grpc.StatusCode.NOT_FOUND, keys.GetKeypair, token, name="bobs")
        fails(grpc.StatusCode.NOT_FOUND, keys.DeleteKeypair, token, name="bobs")
    assert list(keys.ListKeypairs().keypairs) == []
    fails(grpc.StatusCode.NOT_FOUND, keys.GetKeypair, name="never-made")
    keys.CreateKeypair(name="mine")
    keys.DeleteKeypair(name="mine")
    fails(grpc.StatusCode.NOT_FOUND, keys.DeleteKeypair, name="mine")
    fails(grpc.StatusCode.NOT_FOUND, keys.GetKeypair, name="mine")
    assert keys.GetKeypair("bob", name="bobs").name == "bobs"


def test_only_admins_may_name_another_user(keys):
    bob = USERS["bob"].user_id
    keys.CreateKeypair("bob", name="bobs")
    for call in (keys.GetKeypair, keys.DeleteKeypair):
        fails(grpc.StatusCode.PERMISSION_DENIED, call, name="bobs", user_id=bob)
    fails(grpc.StatusCode.PERMISSION_DENIED, keys.ListKeypairs, user_id=bob)
    # One's own user_id is allowed to anyone.
    assert keys.GetKeypair("bob", name="bobs", user_id=bob).user_id == bob
    assert keys.GetKeypair("admin", name="bobs", user_id=bob).user_id == bob
    assert [k.name for k in keys.ListKeypairs("admin", user_id=bob).keypairs] == ["bobs"]
    keys.DeleteKeypair("admin", name="bobs", user_id=bob)
    assert list(keys.ListKeypairs("bob").keypairs) == []


def test_malformed_names_and_user_ids_are_invalid_argument(keys):
    for call in (keys.GetKeypair, keys.DeleteKeypair):
        assert field(fails(grpc.StatusCode.INVALID_ARGUMENT, call, name="")) == "name"
        assert field(fails(grpc.StatusCode.INVALID_ARGUMENT, call, name="a/b")) == "name"
        error = fails(grpc.StatusCode.INVALID_ARGUMENT, call, "admin", name="k", user_id="nope")
        assert field(error) == "user_id"
    error = fails(grpc.StatusCode.INVALID_ARGUMENT, keys.ListKeypairs, "admin", user_id="x" * 5000)
    assert field(error) == "user_id" and len(error.details()) < 600


def test_list_pages_by_name_and_refuses_foreign_tokens(keys):
    names = ["d", "a", "c", "b"]
    for name in names:
        keys.ImportKeypair(name=name, public_key=ed25519_line())
    seen, token = [], ""
    for _ in range(10):
        page = keys.ListKeypairs(page_size=3, page_token=token)
        seen += [k.name for k in page.keypairs]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(names)
    first = keys.ListKeypairs(page_size=1)
    assert first.next_page_token
    assert field(fails(grpc.StatusCode.INVALID_ARGUMENT, keys.ListKeypairs, page_size=-1)) == (
        "page_size"
    )
    for bad in ("garbage!", first.next_page_token + "x", "W10"):
        error = fails(grpc.StatusCode.INVALID_ARGUMENT, keys.ListKeypairs, page_token=bad)
        assert field(error) == "page_token"
    # Alice's token is not Bob's, nor another List's.
    fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        keys.ListKeypairs,
        "bob",
        page_token=first.next_page_token,
    )
    assert keys.ListKeypairs(page_size=1000).next_page_token == ""


def test_the_reader_role_may_get_and_list_only(keys):
    # A reader cannot make one, so its key pair is written as an older role would have.
    line = ed25519_line()
    KeyPair.create(
        user_id=USERS["reader"].user_id,
        name="old",
        public_key=line,
        fingerprint=fingerprint(base64.b64decode(line.split()[1])),
        key_type="ssh-ed25519",
    )
    for call, extra in (
        (keys.CreateKeypair, {}),
        (keys.ImportKeypair, {"public_key": ed25519_line()}),
        (keys.DeleteKeypair, {}),
    ):
        fails(grpc.StatusCode.PERMISSION_DENIED, call, "reader", name="x", **extra)
    fails(grpc.StatusCode.PERMISSION_DENIED, keys.DeleteKeypair, "reader", name="old")
    assert keys.GetKeypair("reader", name="old").public_key == line
    assert [k.name for k in keys.ListKeypairs("reader").keypairs] == ["old"]


def test_every_call_needs_a_valid_token(keys):
    fails(grpc.StatusCode.UNAUTHENTICATED, keys.ListKeypairs, "no-such-token")
