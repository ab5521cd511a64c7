"""``python -m components.api``."""

from __future__ import annotations

import sys

import components.compute_db
from components.api.config import ApiConfig
from components.api.policy import POLICY
from components.api.scheduling import Scheduling
from components.api.service import (
    FlavorsServicer,
    KeypairsServicer,
    QuotasServicer,
    ServersServicer,
)
from components.framework import CastClient, Component, Periodic, Runtime, Service, main
from stratus.api.v1 import api_service_pb2 as pb2
from stratus.api.v1 import api_service_pb2_grpc as pb2_grpc
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc


def services(runtime: Runtime) -> list[Service]:
    casts = CastClient(runtime.clients, compute_grpc.ComputeStub, compute_pb2, "ComputeCast")
    runtime.closers.append(casts.close)
    config: ApiConfig = runtime.config
    builds = runtime.state["scheduling"] = Scheduling(
        runtime.clients,
        config.scheduler_retry_seconds,
        config.build_request_lease_seconds,
        recast_seconds=config.build_recast_seconds,
    )
    runtime.closers.append(builds.close)
    return [
        Service.of(
            ServersServicer(runtime.config, runtime.clients, casts, builds),
            pb2,
            pb2_grpc,
            "Servers",
        ),
        Service.of(FlavorsServicer(), pb2, pb2_grpc, "Flavors"),
        Service.of(QuotasServicer(runtime.config), pb2, pb2_grpc, "Quotas"),
        Service.of(KeypairsServicer(runtime.config), pb2, pb2_grpc, "Keypairs"),
    ]


def start_adopting(runtime: Runtime) -> None:
    """Renew this replica's build leases and adopt lapsed ones every poll interval."""
    config: ApiConfig = runtime.config
    builds: Scheduling = runtime.state["scheduling"]
    task = Periodic("api-build-requests", config.build_request_poll_seconds, builds.tick)
    task.start(delay=config.build_request_poll_seconds)
    # Stopped before the pool closes (closers run newest first).
    runtime.closers.append(task.stop)


COMPONENT = Component(
    name="api",
    default_port=8774,
    services=services,
    policy=POLICY,
    config_cls=ApiConfig,
    database="compute",
    migrations=components.compute_db.MIGRATIONS,
    on_start=start_adopting,
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
