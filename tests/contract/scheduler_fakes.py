"""The far side of the scheduler's contracts: a Compute host receiving casts, and the
compute database rows (hosts, instances) that the api and conductor would write."""

from __future__ import annotations

import contextlib
import datetime
import socket
import threading
import uuid
from collections.abc import Iterator

from components.compute_db.models import ComputeNode, Instance
from components.compute_db.states import TaskState, VmState
from components.framework import auth
from components.framework.casts import CastReceiver
from components.framework.clock import utcnow
from components.framework.server import Service
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc
from stratus.type.v1 import cast_pb2
from tests.harness import StaticValidator, caller, serving

# The token serving_component gives the scheduler as its own service token.
SCHEDULER_SERVICE_TOKEN = "service-token"
COMPUTE_POLICY = auth.Policy.of({"stratus.compute.v1.Compute": {"Casts": auth.service_or_admin}})


class FakeCompute(compute_grpc.ComputeServicer):
    """Records every BuildAndRunInstance it receives, with its context."""

    def __init__(self) -> None:
        self.builds: list[tuple[cast_pb2.CastContext, compute_pb2.BuildAndRunInstance]] = []
        self.arrived = threading.Condition()
        self.receiver = CastReceiver({"build_and_run_instance": self._build})

    def _build(self, context, build) -> None:
        with self.arrived:
            self.builds.append((context, build))
            self.arrived.notify_all()

    def Casts(self, request_iterator, context):
        return compute_pb2.CastsSummary(received=self.receiver.receive(request_iterator))

    def wait_for(self, count: int, timeout: float = 5.0) -> list:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.builds) >= count, timeout)
            return list(self.builds)


@contextlib.contextmanager
def fake_compute() -> Iterator[tuple[FakeCompute, str]]:
    """A Compute servicer on a free port accepting the scheduler's service token."""
    fake = FakeCompute()
    validator = StaticValidator(
        {SCHEDULER_SERVICE_TOKEN: caller(["service"], token=SCHEDULER_SERVICE_TOKEN)}
    )
    service = Service.of(fake, compute_pb2, compute_grpc, "Compute")
    with serving([service], COMPUTE_POLICY, validator, component="compute") as (_, port):
        yield fake, f"127.0.0.1:{port}"
    fake.receiver.executor.shutdown(wait=False)


def dead_address() -> str:
    """A loopback address where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def add_node(name: str, address: str, **fields) -> ComputeNode:
    values = {
        "vcpus": 16,
        "ram_mib": 8192,
        "disk_gib": 200,
        "hypervisor_type": "QEMU",
        "last_heartbeat": utcnow(),
    }
    values.update(fields)
    return ComputeNode.create(host=name, address=address, **values)


def stale() -> datetime.datetime:
    return utcnow() - datetime.timedelta(minutes=10)


def add_instance(project_id: str, user_id: str, **fields) -> Instance:
    values = {
        "name": "vm",
        "project_id": project_id,
        "user_id": user_id,
        "flavor_id": str(uuid.uuid4()),
        "flavor_name": "m1.small",
        "vcpus": 1,
        "ram_mib": 1024,
        "disk_gib": 10,
        "image_id": str(uuid.uuid4()),
        "vm_state": VmState.BUILDING,
        "task_state": TaskState.SCHEDULING,
    }
    values.update(fields)
    return Instance.create(**values)
