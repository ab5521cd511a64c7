"""``python -m components.scheduler``: the scheduler (nova-scheduler's peer)."""

from __future__ import annotations

import sys

import components.compute_db
from components.framework import Component, Runtime, Service, main
from components.scheduler.config import SchedulerConfig
from components.scheduler.dispatch import BuildCaster
from components.scheduler.policy import POLICY
from components.scheduler.selection import Scheduler
from components.scheduler.service import SchedulerServicer
from stratus.scheduler.v1 import scheduler_service_pb2 as pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as pb2_grpc


def services(runtime: Runtime) -> list[Service]:
    config = runtime.config
    caster = BuildCaster(runtime.clients, config.cast_connect_timeout_seconds)
    runtime.closers.append(caster.close)
    servicer = SchedulerServicer(config, Scheduler(config, caster))
    return [Service.of(servicer, pb2, pb2_grpc, "Scheduler")]


COMPONENT = Component(
    name="scheduler",
    default_port=8780,
    services=services,
    policy=POLICY,
    config_cls=SchedulerConfig,
    database="compute",
    migrations=components.compute_db.MIGRATIONS,
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
