"""``python -m examples.keyvalue``: the example key-value store (docs/framework.md).

Start ``make run-all`` first (or any identity): the store validates tokens with
identity and asks it for project names. ``make example`` starts it against
run-all's identity and prints grpcurl commands to call it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from components.framework import Component, Runtime, Service, main
from example.keyvalue.v1 import keyvalue_service_pb2 as pb2
from example.keyvalue.v1 import keyvalue_service_pb2_grpc as pb2_grpc
from examples.keyvalue.config import KeyValueConfig
from examples.keyvalue.policy import POLICY
from examples.keyvalue.service import KeyValueServicer
from examples.keyvalue.usage import print_usage


def services(runtime: Runtime) -> list[Service]:
    servicer = KeyValueServicer(runtime.config, runtime.clients)
    runtime.closers.append(servicer.close)  # runs when the component stops
    return [Service.of(servicer, pb2, pb2_grpc, "KeyValue")]


COMPONENT = Component(
    name="keyvalue",
    default_port=8790,
    services=services,
    policy=POLICY,
    config_cls=KeyValueConfig,
    database="keyvalue",
    migrations=Path(__file__).parent / "migrations",
    on_start=print_usage,
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
