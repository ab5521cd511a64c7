"""``python -m components.conductor``."""

from __future__ import annotations

import sys

import components.compute_db
from components.conductor import sweep
from components.conductor.config import ConductorConfig
from components.conductor.policy import POLICY
from components.conductor.service import ConductorServicer
from components.framework import CastClient, Component, Periodic, Runtime, Service, main
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc
from stratus.conductor.v1 import conductor_service_pb2 as pb2
from stratus.conductor.v1 import conductor_service_pb2_grpc as pb2_grpc


def services(runtime: Runtime) -> list[Service]:
    casts = CastClient(runtime.clients, compute_grpc.ComputeStub, compute_pb2, "ComputeCast")
    runtime.closers.append(casts.close)
    servicer = ConductorServicer(runtime.config, casts)
    return [Service.of(servicer, pb2, pb2_grpc, "Conductor")]


def start_sweep(runtime: Runtime) -> None:
    """Fail stuck builds every sweep interval (not at once: hosts report first)."""
    config: ConductorConfig = runtime.config
    if config.sweep_interval_seconds <= 0:
        return
    bounds = sweep.Bounds(config.build_start_timeout_seconds, config.host_down_seconds)

    def run() -> None:
        sweep.sweep(bounds)

    task = Periodic("conductor-sweep", config.sweep_interval_seconds, run)
    task.start(delay=config.sweep_interval_seconds)
    runtime.closers.append(task.stop)


COMPONENT = Component(
    name="conductor",
    default_port=8781,
    services=services,
    policy=POLICY,
    config_cls=ConductorConfig,
    database="compute",
    migrations=components.compute_db.MIGRATIONS,
    on_start=start_sweep,
    # Only other components call it: with TLS, every caller shows a certificate.
    serves_users=False,
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
