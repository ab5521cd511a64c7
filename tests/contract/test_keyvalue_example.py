"""Contract of example.keyvalue.v1.KeyValue, the example component of docs/framework.md:
the declared component on a free port, a static token table in place of identity, a
fake identity for its one onward call, on every database backend."""

from __future__ import annotations

import contextlib
import time
from concurrent import futures

import grpc
import pytest

import examples.keyvalue  # noqa: F401 - puts the example's generated code on the path
from components.framework import CastSender
from components.framework import database as db
from example.keyvalue.v1 import keyvalue_service_pb2 as pb2
from example.keyvalue.v1 import keyvalue_service_pb2_grpc as pb2_grpc
from examples.keyvalue.__main__ import COMPONENT
from examples.keyvalue.config import KeyValueConfig
from examples.keyvalue.models import MODELS
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.type.v1 import cast_pb2
from tests.contract.network_api import field_of, reason
from tests.harness import StaticValidator, caller, metadata, serving_component
from tests.unit.test_migrations import differences, fresh, schema

Code = grpc.StatusCode
PROJECT_A = "0a0a0a0a-0000-4000-8000-00000000000a"
PROJECT_B = "0b0b0b0b-0000-4000-8000-00000000000b"
VALIDATOR = StaticValidator(
    {
        "alice": caller(["member"], project_id=PROJECT_A, token="alice"),
        "alice-reader": caller(["reader"], project_id=PROJECT_A, token="alice-reader"),
        "bob": caller(["member"], project_id=PROJECT_B, token="bob"),
    }
)

# Which test exercises each error case the proto comments name (test_conformance.py).
CONTRACT_CASES = {
    "example.keyvalue.v1.KeyValue/PutKey": {
        "INVALID_ARGUMENT": "test_put_key_refuses_a_malformed_key_or_a_large_value",
        "PERMISSION_DENIED": "test_a_reader_reads_but_may_not_write",
    },
    "example.keyvalue.v1.KeyValue/GetKey": {
        "INVALID_ARGUMENT": "test_get_key_refuses_a_malformed_key",
        "NOT_FOUND": "test_keys_are_isolated_by_project",
    },
    "example.keyvalue.v1.KeyValue/ListKeys": {
        "INVALID_ARGUMENT": "test_list_keys_refuses_bad_pages_and_prefixes",
    },
    "example.keyvalue.v1.KeyValue/DeleteKey": {
        "INVALID_ARGUMENT": "test_delete_key_refusals",
        "NOT_FOUND": "test_delete_key_refusals",
        "PERMISSION_DENIED": "test_a_reader_reads_but_may_not_write",
    },
    "example.keyvalue.v1.KeyValue/Casts": {
        "PERMISSION_DENIED": "test_a_reader_reads_but_may_not_write",
    },
}


class FakeProjects(identity_grpc.ProjectsServicer):
    """identity's Projects, as far as the store uses it; records the tokens it was sent."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def GetProject(self, request, context):
        self.tokens.append(dict(context.invocation_metadata()).get("x-auth-token", ""))
        if request.project_id != PROJECT_A:
            context.abort(Code.NOT_FOUND, "no such project")
        return identity_pb2.Project(id=PROJECT_A, name="demo")


@contextlib.contextmanager
def fake_identity():
    projects = FakeProjects()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    identity_grpc.add_ProjectsServicer_to_server(projects, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield projects, f"127.0.0.1:{port}"
    finally:
        server.stop(0)


class Api:
    """Calls KeyValue RPCs by name: ``api("PutKey", "bob", key="a", value="1")``."""

    def __init__(self, channel: grpc.Channel, port: int, identity: FakeProjects) -> None:
        self.stub = pb2_grpc.KeyValueStub(channel)
        self.port = port
        self.identity = identity

    def __call__(self, rpc: str, token: str | None = "alice", **fields):
        request = getattr(pb2, f"{rpc}Request")(**fields)
        return getattr(self.stub, rpc)(request, metadata=metadata(token), timeout=30)

    def fails(self, rpc: str, token: str | None = "alice", **fields) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as info:
            self(rpc, token, **fields)
        return info.value


@contextlib.contextmanager
def serving(database_url: str, identity_address: str | None = None, **settings):
    config = KeyValueConfig(**settings)
    with fake_identity() as (projects, address):
        endpoints = {"identity": identity_address or address}
        with serving_component(
            COMPONENT, VALIDATOR, database_url, config=config, endpoints=endpoints
        ) as (runtime, channel):
            yield Api(channel, runtime.port, projects)


@pytest.fixture
def api(database_url):
    with serving(database_url, max_value_bytes=16) as client:
        yield client


def test_put_then_get_list_and_delete_a_key(api):
    put = api("PutKey", key="colour", value="blue").key
    assert (put.key, put.value, put.version, put.project_id) == ("colour", "blue", 1, PROJECT_A)
    assert put.create_time.seconds > 0 and not put.HasField("touch_time")
    assert api("PutKey", key="colour", value="green").key.version == 2
    got = api("GetKey", key="colour")
    assert (got.value, got.version, got.create_time) == ("green", 2, put.create_time)
    assert [k.key for k in api("ListKeys").keys] == ["colour"]
    api("DeleteKey", key="colour")
    assert api("ListKeys").keys == []


def test_put_key_retried_with_its_request_id_is_answered_once(api):
    first = api("PutKey", key="k", value="v", request_id="r-1").key
    again = api("PutKey", key="k", value="v", request_id="r-1").key
    assert again == first and api("GetKey", key="k").version == 1
    assert api("PutKey", key="k", value="v").key.version == 2  # no request_id: a new version
    reused = api.fails("PutKey", key="k", value="other", request_id="r-1")
    assert reused.code() == Code.INVALID_ARGUMENT and reason(reused) == "REQUEST_ID_REUSED"
    # Another project's request_id is another key: never replayed across projects.
    assert api("PutKey", "bob", key="k", value="v", request_id="r-1").key.project_id == PROJECT_B


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"key": ""}, "key"),
        ({"key": "Upper"}, "key"),
        ({"key": "-leading-dash"}, "key"),
        ({"key": "k" * 256}, "key"),
        ({"key": "k", "value": "x" * 17}, "value"),
        ({"key": "k", "value": "é" * 9}, "value"),  # 18 bytes of UTF-8
        ({"key": "k", "request_id": "r" * 129}, "request_id"),
    ],
)
def test_put_key_refuses_a_malformed_key_or_a_large_value(api, fields, field):
    error = api.fails("PutKey", **fields)
    assert error.code() == Code.INVALID_ARGUMENT and field_of(error) == field
    assert api("ListKeys").keys == []


def test_get_key_refuses_a_malformed_key(api):
    error = api.fails("GetKey", key="a b")
    assert error.code() == Code.INVALID_ARGUMENT and field_of(error) == "key"


def test_keys_are_isolated_by_project(api):
    api("PutKey", key="shared-name", value="alice's")
    missing = api.fails("GetKey", "bob", key="shared-name")
    assert missing.code() == Code.NOT_FOUND and reason(missing) == "NOT_FOUND"
    assert api("ListKeys", "bob").keys == []
    api("PutKey", "bob", key="shared-name", value="bob's")
    assert api("GetKey", key="shared-name").value == "alice's"


def test_a_reader_reads_but_may_not_write(api):
    api("PutKey", key="k", value="v")
    assert api("GetKey", "alice-reader", key="k").value == "v"
    assert len(api("ListKeys", "alice-reader").keys) == 1
    for rpc, fields in (("PutKey", {"key": "k"}), ("DeleteKey", {"key": "k"})):
        denied = api.fails(rpc, "alice-reader", **fields)
        assert denied.code() == Code.PERMISSION_DENIED and reason(denied) == "POLICY_DENIED"
    with pytest.raises(grpc.RpcError) as info:
        api.stub.Casts(iter([touch("k")]), metadata=metadata("alice-reader"), timeout=30)
    assert info.value.code() == Code.PERMISSION_DENIED
    assert api("GetKey", key="k").version == 1 and not api("GetKey", key="k").HasField("touch_time")


def test_every_rpc_needs_a_valid_token(api):
    for token in (None, "forged"):
        error = api.fails("GetKey", token, key="k")
        assert error.code() == Code.UNAUTHENTICATED


def test_list_keys_pages_through_every_key_once_with_a_prefix(api):
    for name in ("a/1", "b/1", "a/2", "a/3", "b/2"):
        api("PutKey", key=name, value=name)
    seen, token = [], ""
    while True:
        page = api("ListKeys", prefix="a/", page_size=2, page_token=token)
        seen += [k.key for k in page.keys]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["a/1", "a/2", "a/3"]
    assert [k.key for k in api("ListKeys", page_size=10).keys] == [
        "a/1",
        "b/1",
        "a/2",
        "a/3",
        "b/2",
    ]


def test_list_keys_refuses_bad_pages_and_prefixes(api):
    for name in ("a/1", "a/2"):
        api("PutKey", key=name, value="")
    token = api("ListKeys", prefix="a/", page_size=1).next_page_token
    cases = [
        ({"prefix": "b/", "page_token": token}, "page_token"),  # issued for another prefix
        ({"page_token": "not a token"}, "page_token"),
        ({"page_size": -1}, "page_size"),
        ({"prefix": "A"}, "prefix"),
    ]
    for fields, field in cases:
        error = api.fails("ListKeys", **fields)
        assert error.code() == Code.INVALID_ARGUMENT and field_of(error) == field, fields


def test_delete_key_refusals(api):
    api("PutKey", key="k", value="v")
    malformed = api.fails("DeleteKey", key="K")
    assert malformed.code() == Code.INVALID_ARGUMENT and field_of(malformed) == "key"
    assert api.fails("DeleteKey", "bob", key="k").code() == Code.NOT_FOUND
    api("DeleteKey", key="k")
    assert api.fails("DeleteKey", key="k").code() == Code.NOT_FOUND  # a retry after a lost reply


def test_get_store_asks_identity_for_the_project_with_the_callers_token(api):
    api("PutKey", key="k", value="v")
    store = api("GetStore", "alice-reader")
    assert (store.project_id, store.project_name) == (PROJECT_A, "demo")
    assert (store.key_count, store.max_value_bytes) == (1, 16)
    assert api.identity.tokens == ["alice-reader"]  # acting as the user, not as a service


def test_get_store_without_identity_is_unavailable(database_url):
    with serving(database_url, identity_address="127.0.0.1:1") as api:
        assert api.fails("GetStore").code() == Code.UNAVAILABLE


def touch(key: str) -> pb2.KeyValueCast:
    return pb2.KeyValueCast(
        context=cast_pb2.CastContext(request_id="req-touch"), touch_key=pb2.TouchKey(key=key)
    )


def wait_until(check, what: str, seconds: float = 30.0):
    """Poll ``check()`` until it is truthy (casts are handled after the stream took them)."""
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
    return value


def test_touch_casts_are_handled_for_the_streams_project(api):
    api("PutKey", key="k", value="v")
    api("PutKey", "bob", key="k", value="v")
    channel = grpc.insecure_channel(f"127.0.0.1:{api.port}")
    stub = pb2_grpc.KeyValueStub(channel)
    sender = CastSender(
        lambda _address, requests: stub.Casts.future(requests, metadata=metadata("alice")),
        lambda _address, timeout: True,
    )
    address = f"127.0.0.1:{api.port}"
    for key in ("k", "not-there", "k"):
        sender.send(address, touch(key))
    summary = sender.close()[address]
    channel.close()
    assert summary.received == 3
    touched = wait_until(lambda: api("GetKey", key="k").touch_time.seconds, "k was not touched")
    assert touched and api("GetKey", key="k").version == 1  # a touch is not a put
    assert not api("GetKey", "bob", key="k").HasField("touch_time")
    assert api.fails("GetKey", key="not-there").code() == Code.NOT_FOUND


def test_a_cast_to_a_receiver_that_is_gone_fails_the_sender(api):
    """What a sender does on a broken stream: send raises CastFailed, nothing is resent."""
    from components.framework import CastFailed

    sender = CastSender(lambda *_: None, lambda _address, _timeout: False, connect_timeout=0.1)
    with pytest.raises(CastFailed):
        sender.send("127.0.0.1:1", touch("k"))


@pytest.mark.database
def test_the_first_migration_makes_the_schema_of_the_models(database_url, tmp_path):
    tables = sorted(model._meta.table_name for model in MODELS)
    reference = db.open_database(fresh(database_url, tmp_path, "models.sqlite"))
    with reference.bind_ctx(MODELS):
        reference.create_tables(MODELS)
    expected = schema(reference, tables)
    reference.close()
    db.connect(fresh(database_url, tmp_path, "migrated.sqlite"), COMPONENT.migrations)
    assert differences(schema(db.database.obj, tables), expected) == []
