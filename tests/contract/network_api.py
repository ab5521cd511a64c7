"""Calling the network service in contract tests: a fixed table of callers, an RPC helper."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import grpc
import pytest

from components.framework import errors
from components.network.__main__ import COMPONENT
from stratus.network.v1 import network_service_pb2 as pb2
from stratus.network.v1 import network_service_pb2_grpc as pb2_grpc
from tests.harness import StaticValidator, caller, metadata, serving_component

PROJECT_A = "0a0a0a0a-0000-4000-8000-00000000000a"
PROJECT_B = "0b0b0b0b-0000-4000-8000-00000000000b"
ADMIN_PROJECT = "0ad0ad00-0000-4000-8000-0000000000ad"
SERVICE_PROJECT = "05e05e00-0000-4000-8000-000000000005"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

VALIDATOR = StaticValidator(
    {
        "alice": caller(["member"], project_id=PROJECT_A, token="alice"),
        "alice-reader": caller(["reader"], project_id=PROJECT_A, token="alice-reader"),
        "bob": caller(["member"], project_id=PROJECT_B, token="bob"),
        "admin": caller(["admin"], project_id=ADMIN_PROJECT, token="admin"),
        "compute": caller(["service"], project_id=SERVICE_PROJECT, token="compute"),
    }
)


class Api:
    """Calls Network RPCs by name: ``api("CreatePort", "bob", network_id=...)``."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.stub = pb2_grpc.NetworkStub(channel)

    def __call__(self, rpc: str, token: str | None = "alice", **fields):
        request = getattr(pb2, f"{rpc}Request")(**fields)
        return getattr(self.stub, rpc)(request, metadata=metadata(token), timeout=30)

    def fails(self, rpc: str, token: str | None = "alice", **fields) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as info:
            self(rpc, token, **fields)
        return info.value

    def network(self, token: str = "alice", cidr: str = "", **fields):
        """A new network (and, with ``cidr``, a subnet on it): (network, subnet or None)."""
        network = self("CreateNetwork", token, **fields)
        subnet = self("CreateSubnet", token, network_id=network.id, cidr=cidr) if cidr else None
        return network, subnet

    def port(self, network_id: str, token: str = "alice", **fields):
        return self("CreatePort", token, network_id=network_id, **fields)


def reason(error: grpc.RpcError) -> str:
    info = errors.error_info(error)
    return info.reason if info is not None else ""


def field_of(error: grpc.RpcError) -> str:
    info = errors.error_info(error)
    return info.metadata.get("field", "") if info is not None else ""


def addresses(port) -> list[str]:
    return [ip.ip_address for ip in port.fixed_ips]


@contextlib.contextmanager
def serving(database_url: str, config=None) -> Iterator[Api]:
    """The network service on a free port, on ``database_url``."""
    with serving_component(COMPONENT, VALIDATOR, database_url, config=config) as (_, channel):
        yield Api(channel)
