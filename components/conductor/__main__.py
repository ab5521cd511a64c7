"""``python -m components.conductor``."""

from __future__ import annotations

import sys
from pathlib import Path

import components.compute_db
from components.conductor.config import ConductorConfig
from components.conductor.policy import POLICY
from components.conductor.service import ConductorServicer
from components.framework.cast_clients import CastClient
from components.framework.component import Component, Runtime, main
from components.framework.server import Service
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc
from stratus.conductor.v1 import conductor_service_pb2 as pb2
from stratus.conductor.v1 import conductor_service_pb2_grpc as pb2_grpc


def services(runtime: Runtime) -> list[Service]:
    casts = CastClient(runtime.clients, compute_grpc.ComputeStub, compute_pb2, "ComputeCast")
    runtime.state["compute_casts"] = casts
    servicer = ConductorServicer(runtime.config, casts)
    return [Service.of(servicer, pb2, pb2_grpc, "Conductor")]


def stop(runtime: Runtime) -> None:
    if "compute_casts" in runtime.state:
        runtime.state["compute_casts"].close()


COMPONENT = Component(
    name="conductor",
    default_port=8781,
    services=services,
    policy=POLICY,
    config_cls=ConductorConfig,
    database="compute",
    migrations=Path(components.compute_db.__file__).parent / "migrations",
    on_stop=stop,
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
