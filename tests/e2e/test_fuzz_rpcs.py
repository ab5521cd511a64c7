"""Every unary RPC of every component, called with hostile values, answers a real error.

The methods and their request types come from each component's reflection
service, as a client that has never seen the protos would find them. Each
method is sent a bounded set of variants: one hostile value in one field
(nested messages to a bounded depth) and a few with every field hostile at
once. Undefined enums, 10,000-character strings, NUL bytes, ids that are not
UUIDs, paths, negative and huge numbers: each must be refused (or served) with
a deliberate status. INTERNAL, UNKNOWN, a timeout, or a RESOURCE_EXHAUSTED
that carries no ErrorInfo (gRPC's own answer when trailers are too big) is a
defect.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from components.framework import errors
from components.framework.auth import TOKEN_HEADER
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc

pytestmark = pytest.mark.e2e

COMPONENTS = (
    "identity",
    "api",
    "image",
    "network",
    "volume",
    "scheduler",
    "conductor",
    "compute-1",
)
DEADLINE_SECONDS = 5.0
# Variants per method with one hostile field each (then the all-hostile ones).
MAX_SINGLE_VARIANTS = 24
NESTING = 3
WORKERS = 8
OPEN_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection")
# Methods whose variants would harm the rest of the run, and how many they get.
LIMITED = {
    # Failed logins are throttled per peer address, and every test logs in from
    # 127.0.0.1: a few bad logins only, so later logins of the session are not delayed.
    "/stratus.identity.v1.Identity/IssueToken": 3,
}

# Defects found by this test in areas being changed elsewhere at the time it
# was written: (method, variant) -> what happens. Empty it as they are fixed; a
# case listed here that no longer fails is reported, not failed.
KNOWN: dict[tuple[str, str], str] = {}

HOSTILE_STRINGS = ("x" * 10_000, "nul\x00byte", "not-a-uuid", "../../etc/passwd")
_T = FieldDescriptor
HOSTILE_BY_TYPE: dict[int, tuple] = {
    _T.TYPE_STRING: HOSTILE_STRINGS,
    _T.TYPE_BYTES: (b"\xff" * 10_000,),
    _T.TYPE_INT32: (-1, 2**31 - 1),
    _T.TYPE_SINT32: (-1, 2**31 - 1),
    _T.TYPE_SFIXED32: (-1, 2**31 - 1),
    _T.TYPE_INT64: (-1, 2**63 - 1),
    _T.TYPE_SINT64: (-1, 2**63 - 1),
    _T.TYPE_SFIXED64: (-1, 2**63 - 1),
    _T.TYPE_UINT32: (2**32 - 1,),
    _T.TYPE_FIXED32: (2**32 - 1,),
    _T.TYPE_UINT64: (2**64 - 1,),
    _T.TYPE_FIXED64: (2**64 - 1,),
    _T.TYPE_DOUBLE: (-1.0, float("inf")),
    _T.TYPE_FLOAT: (-1.0, float("inf")),
    _T.TYPE_BOOL: (True,),
    _T.TYPE_ENUM: (999, -1),
}
DEFECTS = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED}


@dataclasses.dataclass(frozen=True)
class Leaf:
    """A place for one hostile value: the fields leading to it and what it is."""

    path: tuple[FieldDescriptor, ...]
    role: str  # "field", or "key"/"value" of a map

    @property
    def target(self) -> FieldDescriptor:
        last = self.path[-1]
        if self.role == "field":
            return last
        return last.message_type.fields_by_name[self.role]

    @property
    def name(self) -> str:
        text = ".".join(f.name for f in self.path)
        return text if self.role == "field" else f"{text}.<{self.role}>"


def leaves(descriptor: Descriptor, prefix: tuple = (), depth: int = 1) -> Iterator[Leaf]:
    for field in descriptor.fields:
        path = (*prefix, field)
        if field.type != _T.TYPE_MESSAGE:
            yield Leaf(path, "field")
        elif field.message_type.GetOptions().map_entry:
            yield Leaf(path, "key")
            value = field.message_type.fields_by_name["value"]
            if value.type != _T.TYPE_MESSAGE:
                yield Leaf(path, "value")
            elif depth < NESTING:
                yield from leaves(value.message_type, (*path, value), depth + 1)
        elif depth < NESTING:
            yield from leaves(field.message_type, path, depth + 1)


def place(message, leaf: Leaf, value) -> None:
    """Put ``value`` at ``leaf`` in ``message`` (creating the messages on the way)."""
    parents, last = leaf.path[:-1], leaf.path[-1]
    skip = False
    for field in parents:
        if skip:  # the value field of a map entry: already stepped into
            skip = False
            continue
        container = getattr(message, field.name)
        if field.type == _T.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
            message, skip = container["k"], True
        elif field.is_repeated:
            message = container.add()
        else:
            message = container
    container = getattr(message, last.name)
    if leaf.role == "key":
        value_field = last.message_type.fields_by_name["value"]
        if value_field.type == _T.TYPE_MESSAGE:
            container[value].SetInParent()
        else:
            container[value] = value_field.default_value
    elif leaf.role == "value":
        container["k"] = value
    elif last.is_repeated:
        container.append(value)
    else:
        setattr(message, last.name, value)


def values_for(leaf: Leaf) -> tuple:
    return HOSTILE_BY_TYPE.get(leaf.target.type, ())


def variants(descriptor: Descriptor) -> list[tuple[str, list[tuple[Leaf, object]]]]:
    """One hostile value per leaf (first values of every leaf first, capped), then all at once."""
    spots = [leaf for leaf in leaves(descriptor) if values_for(leaf)]
    by_round = itertools.zip_longest(*[[(leaf, v) for v in values_for(leaf)] for leaf in spots])
    singles = [pair for round_ in by_round for pair in round_ if pair is not None]
    chosen = [(f"{leaf.name}={_short(v)}", [(leaf, v)]) for leaf, v in singles]
    chosen = chosen[:MAX_SINGLE_VARIANTS]
    for index, text in enumerate(HOSTILE_STRINGS):
        everything = [(leaf, _nth(values_for(leaf), index, text)) for leaf in spots]
        chosen.append((f"all-hostile[{_short(text)}]", everything))
    return [("empty", []), *chosen]


def _nth(values: tuple, index: int, text: str):
    if isinstance(values[0], str):
        return text
    return values[index % len(values)]


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:16]}…({len(text)})"


@dataclasses.dataclass(frozen=True)
class Method:
    component: str
    path: str  # /package.Service/Method
    input: Descriptor


def unary_methods(component: str, channel: grpc.Channel) -> list[Method]:
    database = ProtoReflectionDescriptorDatabase(channel)
    pool = descriptor_pool.DescriptorPool(database)
    found = []
    for service_name in database.get_services():
        if service_name in OPEN_SERVICES:
            continue
        service = pool.FindServiceByName(service_name)
        for method in service.methods:
            if _is_unary(method):
                found.append(
                    Method(component, f"/{service.full_name}/{method.name}", method.input_type)
                )
    return found


def _is_unary(method: MethodDescriptor) -> bool:
    return not method.client_streaming and not method.server_streaming


def call(channel: grpc.Channel, method: Method, fills, token: str):
    """The status of one call (OK or the error's code) and a short description."""
    request = message_factory.GetMessageClass(method.input)()
    for leaf, value in fills:
        place(request, leaf, value)
    stub = channel.unary_unary(
        method.path, request_serializer=lambda m: m.SerializeToString(), response_deserializer=None
    )
    try:
        stub(request, timeout=DEADLINE_SECONDS, metadata=((TOKEN_HEADER, token),))
    except grpc.RpcError as error:
        code = error.code()
        if code in DEFECTS:
            return code, (error.details() or "")[:160]
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED and errors.error_info(error) is None:
            return code, f"without ErrorInfo (trailers too big?): {(error.details() or '')[:120]}"
        return None
    return None


def own_token(cloud, user: str) -> str:
    stub = identity_grpc.IdentityStub(cloud.channel("identity"))
    return stub.IssueToken(
        identity_pb2.IssueTokenRequest(
            username=user, password=cloud.passwords[user], project_name=user
        )
    ).token


def test_every_unary_rpc_answers_hostile_values_with_a_deliberate_status(cloud):
    methods = [m for name in COMPONENTS for m in unary_methods(name, cloud.channel(name))]
    assert len(methods) > 40, [m.path for m in methods]
    # Tokens of this test's own, so nothing it does can touch the session's.
    admin, member = (own_token(cloud, user) for user in ("admin", "demo"))
    jobs = []
    for method in methods:
        for label, fills in variants(method.input)[: LIMITED.get(method.path)]:
            jobs.append((method, f"admin {label}", fills, admin))
            if label.startswith(("all-hostile", "empty")):
                jobs.append((method, f"member {label}", fills, member))
    with futures.ThreadPoolExecutor(WORKERS) as pool:
        outcomes = pool.map(
            lambda job: (job, call(cloud.channel(job[0].component), job[0], job[2], job[3])), jobs
        )
        found = {(job[0].path, job[1]): bad for job, bad in outcomes if bad is not None}
    unexpected = {key: bad for key, bad in found.items() if key not in KNOWN}
    fixed = sorted(key for key in KNOWN if key not in found)
    if fixed:
        print("known defects that no longer show:", *fixed, sep="\n  ")
    assert not unexpected, "\n".join(
        f"{path} [{label}]: {code.name} {detail}"
        for (path, label), (code, detail) in sorted(unexpected.items())
    )
