"""The files of a new component, as ``string.Template`` texts keyed by their path.

Placeholders: ``$name`` (the component, ``dns``), ``$Camel`` (its service,
``Dns``) and ``$port`` (its default port). The component holds one resource,
the Item, which its author renames to what the service really holds (a
record, a meter); every file follows the layout and comments of the
components in this repository (components/network is the model).
"""

from __future__ import annotations

from string import Template

PROTO = Template("""\
syntax = "proto3";

package stratus.$name.v1;

import "google/protobuf/timestamp.proto";

// $Camel is the $name service. Say here what it is for and what its
// resources are (and its OpenStack peer, if it has one).
//
// It holds items, each owned by a project. An item is visible to members and
// readers of its project; admins and services see every item. Anything the
// caller cannot see is answered NOT_FOUND, never PERMISSION_DENIED, so that
// its existence does not leak. Every call needs a valid token
// (UNAUTHENTICATED otherwise); calls that change something need the member
// role (or admin), the reader role may only read.
service $Camel {
  // GetItem returns one item.
  //
  // This call is read-only and idempotent. NOT_FOUND if no such item exists
  // or the caller cannot see it. INVALID_ARGUMENT for a malformed item_id.
  // Who may call: anyone who can see the item (member or reader of the
  // owning project, admin, service).
  rpc GetItem(GetItemRequest) returns (Item);

  // CreateItem creates an item owned by the caller's project and returns it.
  //
  // Not idempotent by itself: each call creates a new item (names need not
  // be unique). Retrying with the same request_id returns the first item
  // instead of creating a second one.
  // INVALID_ARGUMENT for a missing name, a name longer than 255 characters
  // (the max_name_length setting) or with control characters, a request_id
  // longer than 128 characters, or a request_id reused with a different
  // request. PERMISSION_DENIED if the caller has only the reader role.
  // Who may call: member of the caller's project, or admin.
  rpc CreateItem(CreateItemRequest) returns (Item);
}

// Item is the one resource of the $name service, owned by a project.
message Item {
  // Output only. The item's id (a UUID), assigned by CreateItem.
  string id = 1;
  // Required. A human-readable name, at most 255 characters; need not be
  // unique.
  string name = 2;
  // Output only. The owning project (a UUID): the project the item was
  // created in.
  string project_id = 3;
  // Output only. When the item was created.
  google.protobuf.Timestamp create_time = 4;
}

// GetItemRequest names the item to return.
message GetItemRequest {
  // Required. The item's id (a UUID).
  string item_id = 1;
}

// CreateItemRequest describes the item to create.
message CreateItemRequest {
  // Required. A human-readable name, at most 255 characters, without control
  // characters; need not be unique.
  string name = 1;
  // Optional. A client-chosen id such as a UUID, at most 128 characters
  // (INVALID_ARGUMENT if longer). A retry with the same request_id and the
  // same request within 24 hours returns the first successful result
  // instead of acting twice; the same request_id with a different request
  // is INVALID_ARGUMENT (reason REQUEST_ID_REUSED).
  string request_id = 2;
}
""")

INIT = Template('''\
"""The $name service.

Its contract: protos/stratus/$name/v1/${name}_service.proto.
"""
''')

MAIN = Template('''\
"""``python -m components.$name``: the $name service."""

from __future__ import annotations

import sys
from pathlib import Path

from components.$name.config import ${Camel}Config
from components.$name.policy import POLICY
from components.$name.service import ${Camel}Servicer
from components.framework import Component, Runtime, Service, main
from stratus.$name.v1 import ${name}_service_pb2 as pb2
from stratus.$name.v1 import ${name}_service_pb2_grpc as pb2_grpc


def services(runtime: Runtime) -> list[Service]:
    return [Service.of(${Camel}Servicer(runtime.config), pb2, pb2_grpc, "$Camel")]


COMPONENT = Component(
    name="$name",
    default_port=$port,
    services=services,
    policy=POLICY,
    config_cls=${Camel}Config,
    database="$name",
    migrations=Path(__file__).parent / "migrations",
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
''')

CONFIG = Template('''\
"""The $name service's settings, beyond those every component has.

Each field is read from the [$name] table of the configuration file or from
STRATUS_${NAME}_<FIELD> (docs/framework.md has the precedence).
"""

from __future__ import annotations

import dataclasses

from components.framework import Config


@dataclasses.dataclass
class ${Camel}Config(Config):
    # The longest item name CreateItem accepts (an example setting; at most 255,
    # the size of the column).
    max_name_length: int = 255
''')

POLICY_PY = Template('''\
"""Who may call each $name RPC. Ownership (which project's items) is checked by the
domain code in items.py; this table only says which roles may try."""

from components.framework import Policy, member, reader

POLICY = Policy.of(
    {
        "stratus.$name.v1.$Camel": {
            "GetItem": reader,
            "CreateItem": member,
        }
    }
)
''')

MODELS = Template('''\
"""The $name service's tables. A change to them is a new migration in migrations/."""

from __future__ import annotations

import peewee

from components.framework import BaseModel


class Item(BaseModel):
    name = peewee.CharField(max_length=255)
    project_id = peewee.CharField(max_length=36, index=True)
''')

MIGRATION = Template('''\
"""The $name service's first schema, frozen: the tables as they were first created.

A copy of the models of that time, not the live ones, so a later migration can
change the live models without changing what this one does.
"""

import peewee


def up(migrator, db):
    class Base(peewee.Model):
        id = peewee.CharField(primary_key=True, max_length=36)
        create_time = peewee.DateTimeField()
        update_time = peewee.DateTimeField()

        class Meta:
            database = db
            legacy_table_names = False

    class Item(Base):
        name = peewee.CharField(max_length=255)
        project_id = peewee.CharField(max_length=36, index=True)

    db.create_tables([Item])
''')

ITEMS = Template('''\
"""Items: creating and reading them. Plain domain code: no gRPC here."""

from __future__ import annotations

import logging

from components.$name.models import Item
from components.framework import Caller, NotFound, validation

log = logging.getLogger(__name__)


def create(who: Caller, name: str, max_name_length: int = 255) -> Item:
    name = validation.name("name", name, max_length=max_name_length)
    row = Item.create(name=name, project_id=who.project_id)
    log.info("created item %s (project %s)", row.id, row.project_id)
    return row


def get(who: Caller, item_id: str) -> Item:
    """The item, if the caller may see it; NOT_FOUND otherwise, so its existence
    does not leak to other projects."""
    item_id = validation.uuid_str("item_id", item_id)
    row = Item.get_or_none(Item.id == item_id)
    if row is None or not who.can_access(row.project_id):
        raise NotFound(f"item {item_id} not found", field="item_id")
    return row
''')

SERVICE = Template('''\
"""The $Camel servicer: translate each request, call one domain function, translate back."""

from __future__ import annotations

from components.$name import items
from components.$name.config import ${Camel}Config
from components.$name.models import Item
from components.framework import caller, timestamp
from stratus.$name.v1 import ${name}_service_pb2 as pb2
from stratus.$name.v1 import ${name}_service_pb2_grpc as pb2_grpc


def _item(row: Item) -> pb2.Item:
    return pb2.Item(
        id=row.id,
        name=row.name,
        project_id=row.project_id,
        create_time=timestamp(row.create_time),
    )


class ${Camel}Servicer(pb2_grpc.${Camel}Servicer):
    def __init__(self, config: ${Camel}Config) -> None:
        self.config = config

    def GetItem(self, request, context):
        return _item(items.get(caller(), request.item_id))

    def CreateItem(self, request, context):
        row = items.create(caller(), request.name, self.config.max_name_length)
        return _item(row)
''')

CONTRACT_TEST = Template('''\
"""Contract of stratus.$name.v1.$Camel: a real server on port 0, the generated stub,
every database backend."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from components.$name.__main__ import COMPONENT
from stratus.$name.v1 import ${name}_service_pb2 as pb2
from stratus.$name.v1 import ${name}_service_pb2_grpc as pb2_grpc
from tests.harness import StaticValidator, caller, metadata, serving_component

Code = grpc.StatusCode
PROJECT_A = "0a0a0a0a-0000-4000-8000-00000000000a"
PROJECT_B = "0b0b0b0b-0000-4000-8000-00000000000b"
ADMIN_PROJECT = "0ad0ad00-0000-4000-8000-0000000000ad"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

VALIDATOR = StaticValidator(
    {
        "alice": caller(["member"], project_id=PROJECT_A, token="alice"),
        "alice-reader": caller(["reader"], project_id=PROJECT_A, token="alice-reader"),
        "bob": caller(["member"], project_id=PROJECT_B, token="bob"),
        "admin": caller(["admin"], project_id=ADMIN_PROJECT, token="admin"),
    }
)

# Which test exercises each error case the proto comments name (test_conformance.py).
CONTRACT_CASES = {
    "stratus.$name.v1.$Camel/GetItem": {
        "INVALID_ARGUMENT": "test_get_item_with_a_malformed_id_is_invalid_argument",
        "NOT_FOUND": "test_get_item_is_isolated_by_project",
    },
    "stratus.$name.v1.$Camel/CreateItem": {
        "INVALID_ARGUMENT": "test_create_item_with_a_bad_field_is_invalid_argument",
        "PERMISSION_DENIED": "test_create_item_by_a_reader_is_permission_denied",
    },
}


class Api:
    """Calls $Camel RPCs by name: ``api("GetItem", "bob", item_id=...)``."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.stub = pb2_grpc.${Camel}Stub(channel)

    def __call__(self, rpc: str, token: str | None = "alice", **fields):
        request = getattr(pb2, f"{rpc}Request")(**fields)
        return getattr(self.stub, rpc)(request, metadata=metadata(token), timeout=30)

    def fails(self, rpc: str, token: str | None = "alice", **fields) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as info:
            self(rpc, token, **fields)
        return info.value


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    """The ErrorInfo every Stratus error carries (reason, and the field at fault)."""
    for detail in rpc_status.from_call(error).details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    raise AssertionError(f"no ErrorInfo in {error}")


@pytest.fixture
def api(database_url):
    with serving_component(COMPONENT, VALIDATOR, database_url) as (_, channel):
        yield Api(channel)


def test_create_item_returns_it_in_the_callers_project(api):
    item = api("CreateItem", name="first")
    assert item.name == "first" and item.project_id == PROJECT_A
    assert len(item.id) == 36 and item.create_time.seconds > 0
    assert api("GetItem", "alice-reader", item_id=item.id) == item


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 256}, "name"),
        ({"name": "a\\x01b"}, "name"),
        ({"name": "x", "request_id": "r" * 129}, "request_id"),
    ],
)
def test_create_item_with_a_bad_field_is_invalid_argument(api, fields, field):
    error = api.fails("CreateItem", **fields)
    assert error.code() == Code.INVALID_ARGUMENT
    assert error_info(error).metadata["field"] == field


def test_create_item_by_a_reader_is_permission_denied(api):
    error = api.fails("CreateItem", "alice-reader", name="x")
    assert error.code() == Code.PERMISSION_DENIED
    assert error_info(error).reason == "POLICY_DENIED"


def test_create_item_retried_with_its_request_id_returns_the_first_item(api):
    first = api("CreateItem", name="once", request_id="r-1")
    assert api("CreateItem", name="once", request_id="r-1") == first
    assert api("CreateItem", name="once", request_id="r-2").id != first.id
    error = api.fails("CreateItem", name="other", request_id="r-1")
    assert error.code() == Code.INVALID_ARGUMENT
    assert error_info(error).reason == "REQUEST_ID_REUSED"


def test_get_item_is_isolated_by_project(api):
    item = api("CreateItem", name="mine")
    assert api("GetItem", "admin", item_id=item.id).id == item.id
    assert api.fails("GetItem", "bob", item_id=item.id).code() == Code.NOT_FOUND
    assert api.fails("GetItem", item_id=UNKNOWN_ID).code() == Code.NOT_FOUND


def test_get_item_with_a_malformed_id_is_invalid_argument(api):
    error = api.fails("GetItem", item_id="not-a-uuid")
    assert error.code() == Code.INVALID_ARGUMENT
    assert error_info(error).metadata["field"] == "item_id"


def test_calls_without_a_valid_token_are_unauthenticated(api):
    assert api.fails("GetItem", None, item_id=UNKNOWN_ID).code() == Code.UNAUTHENTICATED
    assert api.fails("GetItem", "forged", item_id=UNKNOWN_ID).code() == Code.UNAUTHENTICATED


def test_every_rpc_is_implemented(api):
    for method in pb2.DESCRIPTOR.services_by_name["$Camel"].methods:
        try:
            api(method.name, "admin")
        except grpc.RpcError as error:
            assert error.code() not in (Code.UNIMPLEMENTED, Code.INTERNAL), method.name
''')


def files(name: str) -> dict[str, Template]:
    """Every file of component ``name``, by its path relative to the repository."""
    package = f"components/{name}"
    return {
        f"protos/stratus/{name}/v1/{name}_service.proto": PROTO,
        f"{package}/__init__.py": INIT,
        f"{package}/__main__.py": MAIN,
        f"{package}/config.py": CONFIG,
        f"{package}/policy.py": POLICY_PY,
        f"{package}/models.py": MODELS,
        f"{package}/items.py": ITEMS,
        f"{package}/service.py": SERVICE,
        f"{package}/migrations/0001_initial.py": MIGRATION,
        f"tests/contract/test_{name}_service.py": CONTRACT_TEST,
    }
