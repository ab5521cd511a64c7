"""Two schedulers on one database answering many boots at once never over-commit a host."""

from __future__ import annotations

import uuid
from concurrent import futures

import grpc
import pytest

from components.compute_db.models import Claim, ComputeNode, Instance, InstanceFault
from components.compute_db.placement_config import PlacementConfig
from components.compute_db.states import VmState
from components.framework import errors
from components.scheduler.__main__ import COMPONENT
from components.scheduler.config import SchedulerConfig
from stratus.scheduler.v1 import scheduler_service_pb2 as pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as pb2_grpc
from tests.contract.scheduler_fakes import add_instance, add_node, fake_compute
from tests.harness import StaticValidator, caller, metadata, serving_component

PROJECT, USER = str(uuid.uuid4()), str(uuid.uuid4())
API = "api-token"
VALIDATOR = StaticValidator({API: caller(["service"], project_id="service", token=API)})
# An integral ratio, so that 2.0 x capacity is exact on every backend.
RAM_RATIO = 2.0
HOST_RAM_MIB = {"host-a": 20480, "host-b": 30720, "host-c": 40960}
BOOTS = 200
SERVER_RAM_MIB = 1024


def config(tmp_path) -> SchedulerConfig:
    return SchedulerConfig(
        data_dir=str(tmp_path), placement=PlacementConfig(ram_allocation_ratio=RAM_RATIO)
    )


def select(stub, row: Instance):
    spec = pb2.RequestSpec(
        project_id=PROJECT, user_id=USER, vcpus=1, ram_mib=SERVER_RAM_MIB, disk_gib=1
    )
    try:
        reply = stub.SelectDestinations(
            pb2.SelectDestinationsRequest(instance_id=row.id, spec=spec, auth_token="user"),
            metadata=metadata(API),
            timeout=60,
        )
    except grpc.RpcError as exc:
        return exc.code(), errors.error_info(exc).reason
    return grpc.StatusCode.OK, reply.selection


@pytest.fixture
def two_schedulers(database_url, tmp_path):
    with (
        fake_compute() as (compute, address),
        serving_component(COMPONENT, VALIDATOR, database_url, config=config(tmp_path)) as (_, one),
        serving_component(COMPONENT, VALIDATOR, database_url, config=config(tmp_path)) as (_, two),
    ):
        for name, ram in HOST_RAM_MIB.items():
            add_node(name, address, ram_mib=ram, vcpus=64, disk_gib=1000)
        yield compute, [pb2_grpc.SchedulerStub(one), pb2_grpc.SchedulerStub(two)]


def boot_all(stubs) -> dict[str, tuple]:
    rows = [add_instance(PROJECT, USER, ram_mib=SERVER_RAM_MIB, disk_gib=1) for _ in range(BOOTS)]
    with futures.ThreadPoolExecutor(max_workers=32) as pool:
        answers = pool.map(lambda i: select(stubs[i % 2], rows[i]), range(BOOTS))
        return {row.id: answer for row, answer in zip(rows, answers, strict=True)}


def test_concurrent_selects_never_overcommit_and_claims_match_usage(two_schedulers):
    compute, stubs = two_schedulers
    outcomes = boot_all(stubs)

    nodes = {n.id: n for n in ComputeNode.select()}
    claims = list(Claim.select())
    for node in nodes.values():
        mine = [c for c in claims if c.node_id == node.id]
        assert node.ram_mib_used <= node.ram_mib * RAM_RATIO
        assert node.ram_mib_used == sum(c.ram_mib for c in mine)
        assert node.vcpus_used == sum(c.vcpus for c in mine)
        assert node.disk_gib_used == sum(c.disk_gib for c in mine)
        assert node.instances_used == len(mine)
        # Full: nobody was turned away while this host still had room.
        assert node.ram_mib * RAM_RATIO - node.ram_mib_used < SERVER_RAM_MIB

    capacity = sum(int(ram * RAM_RATIO) // SERVER_RAM_MIB for ram in HOST_RAM_MIB.values())
    by_instance = {c.instance_id: c for c in claims}
    assert len(by_instance) == len(claims) == capacity
    for instance_id, (code, answer) in outcomes.items():
        row = Instance.get_by_id(instance_id)
        if code == grpc.StatusCode.OK:
            held = by_instance[instance_id]
            assert answer.claim_id == row.claim_id == held.id
            assert answer.host == row.host == nodes[held.node_id].host
            assert row.vm_state == VmState.BUILDING
        else:
            assert (code, answer) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "NO_VALID_HOST")
            assert instance_id not in by_instance
            assert row.vm_state == VmState.ERROR
            (fault,) = InstanceFault.select().where(InstanceFault.instance == instance_id)
            assert fault.message.startswith("No valid host was found.")

    casts = compute.wait_for(capacity, timeout=10)
    assert sorted(build.claim_id for _, build in casts) == sorted(
        by_instance[i].id for i in by_instance
    )
