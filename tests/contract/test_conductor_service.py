"""Contract tests of stratus.conductor.v1: a real conductor, a fake compute host."""

from __future__ import annotations

import datetime
import time
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import code_pb2

from components.compute_db import claims, quotas
from components.compute_db.models import Claim, ComputeNode, Instance, InstanceFault
from components.compute_db.placement_config import PlacementConfig
from components.compute_db.states import TaskState, VmState
from components.conductor import sweep
from components.conductor.__main__ import COMPONENT
from components.framework import auth, errors
from components.framework.clock import utcnow
from components.framework.server import Service
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc
from stratus.conductor.v1 import conductor_service_pb2 as pb2
from stratus.conductor.v1 import conductor_service_pb2_grpc as pb2_grpc
from stratus.type.v1 import cast_pb2, instance_pb2, instance_state_pb2
from tests.contract.fakes import FakeCompute
from tests.harness import StaticValidator, caller, serving, serving_component

PROJECT = str(uuid.uuid4())
TOKENS = {
    "service-token": caller(["service"], token="service-token"),
    "member": caller(["member"], project_id=PROJECT, token="member"),
}
SVC = (("x-auth-token", "service-token"),)
RATIOS = PlacementConfig().ratios

# Which test exercises each error case the proto comments name (test_conformance.py).
CONTRACT_CASES = {
    "stratus.conductor.v1.Conductor/GetInstance": {
        "INVALID_ARGUMENT": "test_get_instance_gives_the_host_everything_to_build",
        "NOT_FOUND": "test_get_instance_gives_the_host_everything_to_build",
        "PERMISSION_DENIED": "test_every_rpc_refuses_a_member",
    },
    "stratus.conductor.v1.Conductor/UpdateInstance": {
        "INVALID_ARGUMENT": "test_update_instance_refuses_a_bad_request_or_target",
        "NOT_FOUND": "test_update_instance_refuses_a_bad_request_or_target",
        "PERMISSION_DENIED": "test_every_rpc_refuses_a_member",
        "FAILED_PRECONDITION": "test_update_instance_checks_the_expected_task_and_transitions",
    },
    "stratus.conductor.v1.Conductor/AddInstanceFault": {
        "INVALID_ARGUMENT": "test_add_instance_fault_refuses_a_bad_request_or_missing_instance",
        "NOT_FOUND": "test_add_instance_fault_refuses_a_bad_request_or_missing_instance",
        "PERMISSION_DENIED": "test_every_rpc_refuses_a_member",
    },
    "stratus.conductor.v1.Conductor/ReportComputeNode": {
        "INVALID_ARGUMENT": (
            "test_report_with_a_junk_name_address_or_capacity_is_invalid_and_registers_nothing"
        ),
        "PERMISSION_DENIED": "test_every_rpc_refuses_a_member",
    },
    "stratus.conductor.v1.Conductor/ListHostInstances": {
        "INVALID_ARGUMENT": "test_list_host_instances_bad_request_is_invalid_argument",
        "PERMISSION_DENIED": "test_every_rpc_refuses_a_member",
    },
    "stratus.conductor.v1.Conductor/Casts": {
        "PERMISSION_DENIED": "test_every_rpc_refuses_a_member",
    },
}


def fails(fn, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.fixture
def conductor(database_url):
    compute = FakeCompute()
    policy = auth.Policy({"/stratus.compute.v1.Compute/Casts": auth.service_or_admin})
    validator = StaticValidator(TOKENS)
    with (
        serving([Service.of(compute, compute_pb2, compute_grpc, "Compute")], policy, validator) as (
            _,
            port,
        ),
        serving_component(COMPONENT, validator, database_url) as (_runtime, channel),
    ):
        stub = pb2_grpc.ConductorStub(channel)
        for host in ("host-a", "host-b"):
            stub.ReportComputeNode(
                pb2.ReportComputeNodeRequest(
                    host=host,
                    address=f"127.0.0.1:{port}",
                    vcpus=4,
                    ram_mib=4096,
                    disk_gib=100,
                    hypervisor_type="test",
                ),
                metadata=SVC,
            )
        yield stub, compute


def make_instance(host="host-a", alternates=("host-b",), attempt=1) -> Instance:
    quotas.reserve(PROJECT, 1, 1024, quotas.Limits())
    instance = Instance.create(
        name="vm",
        project_id=PROJECT,
        user_id="u",
        flavor_id="f",
        flavor_name="f",
        vcpus=1,
        ram_mib=1024,
        disk_gib=10,
        image_id=str(uuid.uuid4()),
        vm_state=VmState.BUILDING,
        task_state=TaskState.SPAWNING,
        host=host,
        attempt=attempt,
        alternates=list(alternates),
    )
    node = ComputeNode.get(ComputeNode.host == host)
    claim = claims.claim(node.id, instance.id, claims.Resources(1, 1024, 10), RATIOS)
    Instance.update(claim_id=claim.id).where(Instance.id == instance.id).execute()
    return Instance.get_by_id(instance.id)


def cast(stub, **payload):
    message = pb2.ConductorCast(
        context=cast_pb2.CastContext(request_id="req-1", auth_token="user"), **payload
    )
    return stub.Casts(iter([message]), metadata=SVC)


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_report_registers_then_heartbeats_and_keeps_the_admin_setting(conductor):
    stub, _ = conductor
    node = ComputeNode.get(ComputeNode.host == "host-a")
    first_beat = node.last_heartbeat
    ComputeNode.update(enabled=False).where(ComputeNode.id == node.id).execute()
    time.sleep(0.01)
    reply = stub.ReportComputeNode(
        pb2.ReportComputeNodeRequest(
            host="host-a", address="127.0.0.1:1", vcpus=8, ram_mib=8192, disk_gib=100, enabled=True
        ),
        metadata=SVC,
    )
    assert reply.enabled is False and reply.report_interval_seconds == 10
    node = ComputeNode.get(ComputeNode.host == "host-a")
    assert node.vcpus == 8 and node.last_heartbeat > first_beat
    bad = fails(stub.ReportComputeNode, pb2.ReportComputeNodeRequest(host=""), metadata=SVC)
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_get_instance_gives_the_host_everything_to_build(conductor):
    stub, _ = conductor
    instance = make_instance()
    info = stub.GetInstance(pb2.GetInstanceRequest(instance_id=instance.id), metadata=SVC)
    assert (info.flavor.vcpus, info.flavor.ram_mib, info.flavor.disk_gib) == (1, 1024, 10)
    assert info.claim_id == instance.claim_id and list(info.alternates) == ["host-b"]
    missing = fails(
        stub.GetInstance, pb2.GetInstanceRequest(instance_id=str(uuid.uuid4())), metadata=SVC
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    bad = fails(stub.GetInstance, pb2.GetInstanceRequest(instance_id="x"), metadata=SVC)
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_every_rpc_refuses_a_member(conductor):
    stub, _ = conductor
    member = (("x-auth-token", "member"),)
    for method in pb2.DESCRIPTOR.services_by_name["Conductor"].methods:
        request = getattr(pb2, method.input_type.name)()
        call = getattr(stub, method.name)
        if method.client_streaming:
            error = fails(call, iter([request]), metadata=member)
        else:
            error = fails(call, request, metadata=member)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED, method.name


def _update(stub, instance_id, paths, expected=None, **fields):
    request = pb2.UpdateInstanceRequest(
        instance_id=instance_id, update_mask=field_mask_pb2.FieldMask(paths=paths), **fields
    )
    if expected is not None:
        request.expected_task_state = expected
    return stub.UpdateInstance(request, metadata=SVC)


def test_update_instance_checks_the_expected_task_and_transitions(conductor):
    stub, _ = conductor
    instance = make_instance()
    stale = fails(
        _update,
        stub,
        instance.id,
        ["task_state"],
        expected=instance_state_pb2.TASK_STATE_SCHEDULING,
        task_state=instance_state_pb2.TASK_STATE_NETWORKING,
    )
    assert stale.code() == grpc.StatusCode.FAILED_PRECONDITION
    done = _update(
        stub,
        instance.id,
        ["vm_state", "task_state", "power_state", "addresses"],
        expected=instance_state_pb2.TASK_STATE_SPAWNING,
        vm_state=instance_state_pb2.VM_STATE_ACTIVE,
        task_state=instance_state_pb2.TASK_STATE_UNSPECIFIED,
        power_state=instance_state_pb2.POWER_STATE_RUNNING,
        addresses=[
            instance_pb2.Address(
                network_id="n", port_id="p", ip_address="10.0.0.5", mac_address="fa:16:3e:00:00:01"
            )
        ],
    )
    assert done.vm_state == instance_state_pb2.VM_STATE_ACTIVE
    assert done.addresses[0].ip_address == "10.0.0.5"
    deleted = fails(
        _update, stub, instance.id, ["vm_state"], vm_state=instance_state_pb2.VM_STATE_DELETED
    )
    assert deleted.code() == grpc.StatusCode.FAILED_PRECONDITION
    unknown = fails(_update, stub, instance.id, ["name"])
    assert unknown.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_update_instance_refuses_a_bad_request_or_target(conductor):
    stub, _ = conductor
    instance = make_instance()
    spawning = {"task_state": instance_state_pb2.TASK_STATE_SPAWNING}
    missing = fails(_update, stub, str(uuid.uuid4()), ["task_state"], **spawning)
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    for instance_id, paths in (("x", ["task_state"]), (instance.id, [])):
        bad = fails(_update, stub, instance_id, paths, **spawning)
        assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT, (instance_id, paths)
    Instance.update(
        vm_state=VmState.DELETED, task_state=TaskState.NONE, deleted_time=utcnow()
    ).where(Instance.id == instance.id).execute()
    running = {"power_state": instance_state_pb2.POWER_STATE_RUNNING}
    gone = fails(_update, stub, instance.id, ["power_state"], **running)
    assert gone.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_add_instance_fault_refuses_a_bad_request_or_missing_instance(conductor):
    stub, _ = conductor
    instance = make_instance()

    def add(instance_id, message="disk full"):
        request = pb2.AddInstanceFaultRequest(instance_id=instance_id, code=13, message=message)
        return stub.AddInstanceFault(request, metadata=SVC)

    assert fails(add, str(uuid.uuid4())).code() == grpc.StatusCode.NOT_FOUND
    assert fails(add, "x").code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fails(add, instance.id, "").code() == grpc.StatusCode.INVALID_ARGUMENT
    assert InstanceFault.select().count() == 0


def test_list_host_instances_bad_request_is_invalid_argument(conductor):
    stub, _ = conductor
    make_instance()
    for request in (
        pb2.ListHostInstancesRequest(host=""),
        pb2.ListHostInstancesRequest(host="host-a", page_size=-1),
        pb2.ListHostInstancesRequest(host="host-a", page_token="junk"),
    ):
        error = fails(stub.ListHostInstances, request, metadata=SVC)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, request


def test_fault_and_host_listing(conductor):
    stub, _ = conductor
    instance = make_instance()
    stub.AddInstanceFault(
        pb2.AddInstanceFaultRequest(instance_id=instance.id, code=13, message="disk full"),
        metadata=SVC,
    )
    assert InstanceFault.get(InstanceFault.instance == instance.id).message == "disk full"
    listed = stub.ListHostInstances(pb2.ListHostInstancesRequest(host="host-a"), metadata=SVC)
    assert [i.id for i in listed.instances] == [instance.id]
    empty = stub.ListHostInstances(pb2.ListHostInstancesRequest(host="host-b"), metadata=SVC)
    assert list(empty.instances) == []


def test_retryable_build_failure_moves_the_claim_and_casts_to_the_alternate(conductor):
    stub, compute = conductor
    instance = make_instance()
    old_claim = instance.claim_id
    summary = cast(
        stub,
        instance_build_failed=pb2.InstanceBuildFailed(
            instance_id=instance.id,
            host="host-a",
            claim_id=old_claim,
            retryable=True,
            fault=instance_pb2.Fault(code=13, message="libvirt said no"),
        ),
    )
    assert summary.received == 1
    (build,) = compute.wait_for(1)
    assert build.build_and_run_instance.instance_id == instance.id
    assert build.context.auth_token == "user"
    moved = Instance.get_by_id(instance.id)
    assert (moved.host, moved.attempt, moved.alternates) == ("host-b", 2, [])
    assert Claim.get_or_none(Claim.id == old_claim) is None
    host_a = ComputeNode.get(ComputeNode.host == "host-a")
    host_b = ComputeNode.get(ComputeNode.host == "host-b")
    assert (host_a.ram_mib_used, host_b.ram_mib_used) == (0, 1024)


def test_final_build_failure_is_error_with_the_claim_released(conductor):
    stub, compute = conductor
    instance = make_instance(alternates=())
    cast(
        stub,
        instance_build_failed=pb2.InstanceBuildFailed(
            instance_id=instance.id,
            host="host-a",
            claim_id=instance.claim_id,
            retryable=True,
            fault=instance_pb2.Fault(code=13, message="no more hosts"),
        ),
    )
    assert wait_until(lambda: Instance.get_by_id(instance.id).vm_state == VmState.ERROR)
    assert Claim.select().count() == 0
    assert InstanceFault.get(InstanceFault.instance == instance.id).message == "no more hosts"
    assert compute.casts == []


def test_instance_deleted_releases_claim_and_quota_once(conductor):
    stub, _ = conductor
    instance = make_instance()
    for _ in range(2):
        cast(stub, instance_deleted=pb2.InstanceDeleted(instance_id=instance.id, host="host-a"))
    assert wait_until(lambda: Instance.get_by_id(instance.id).vm_state == VmState.DELETED)
    time.sleep(0.1)
    assert Claim.select().count() == 0
    assert quotas.quota_of(PROJECT, quotas.Limits()).instances_used == 0


# -- the sweep of stuck builds ------------------------------------------------------------

BOUNDS = sweep.Bounds(
    build_start_timeout_seconds=60,
    host_down_seconds=30,
    started=utcnow() - datetime.timedelta(hours=1),
)


def _age(instance: Instance, seconds: float, **fields) -> None:
    past = utcnow() - datetime.timedelta(seconds=seconds)
    Instance.update(update_time=past, **fields).where(Instance.id == instance.id).execute()


def _fault(instance: Instance) -> InstanceFault:
    return InstanceFault.get(InstanceFault.instance == instance.id)


def test_sweep_fails_a_build_left_scheduling_and_releases_its_claim(conductor):
    lost = make_instance(alternates=())
    fresh = make_instance(alternates=())
    for row in (lost, fresh):
        Instance.update(task_state=TaskState.SCHEDULING).where(Instance.id == row.id).execute()
    _age(lost, 61)
    assert sweep.sweep(BOUNDS) == [lost.id]
    after = Instance.get_by_id(lost.id)
    assert (after.vm_state, after.task_state) == (VmState.ERROR, TaskState.NONE)
    assert "was not started by host host-a within 60s" in _fault(lost).message
    assert _fault(lost).code == code_pb2.DEADLINE_EXCEEDED
    assert Claim.select().where(Claim.instance_id == lost.id).count() == 0
    assert Instance.get_by_id(fresh.id).vm_state == VmState.BUILDING
    assert Claim.select().where(Claim.instance_id == fresh.id).count() == 1
    assert sweep.sweep(BOUNDS) == []  # done once


def test_sweep_fails_builds_on_a_silent_host_but_not_on_a_reporting_one(conductor):
    on_dead_host = make_instance(host="host-a", alternates=())
    on_live_host = make_instance(host="host-b", alternates=())
    _age(on_dead_host, 31, task_state=TaskState.NETWORKING)
    _age(on_live_host, 300)
    silent_since = utcnow() - datetime.timedelta(seconds=45)
    ComputeNode.update(last_heartbeat=silent_since).where(ComputeNode.host == "host-a").execute()
    assert sweep.sweep(BOUNDS) == [on_dead_host.id]
    assert Instance.get_by_id(on_dead_host.id).vm_state == VmState.ERROR
    assert "host host-a has not reported for 30s" in _fault(on_dead_host).message
    assert _fault(on_dead_host).code == code_pb2.UNAVAILABLE
    assert Claim.select().where(Claim.instance_id == on_dead_host.id).count() == 0
    assert Instance.get_by_id(on_live_host.id).vm_state == VmState.BUILDING


def test_sweep_judges_no_host_down_before_the_conductor_was_up_long_enough(conductor):
    building = make_instance(host="host-a", alternates=())
    _age(building, 300)
    ComputeNode.update(last_heartbeat=None).execute()
    just_started = sweep.Bounds(60, 30, started=utcnow() - datetime.timedelta(seconds=5))
    assert sweep.sweep(just_started) == []
    assert Instance.get_by_id(building.id).vm_state == VmState.BUILDING


def test_sweep_leaves_deleting_and_settled_instances_alone(conductor):
    deleting = make_instance(alternates=())
    active = make_instance(alternates=())
    _age(deleting, 600, task_state=TaskState.DELETING)
    _age(active, 600, vm_state=VmState.ACTIVE, task_state=TaskState.NONE)
    ComputeNode.update(last_heartbeat=None).execute()
    assert sweep.sweep(BOUNDS) == []
    assert Claim.select().count() == 2


def test_update_instance_retried_with_its_request_id_is_answered_not_applied_again(conductor):
    stub, _ = conductor
    instance = make_instance(alternates=())
    Instance.update(task_state=TaskState.SCHEDULING).where(Instance.id == instance.id).execute()
    request = pb2.UpdateInstanceRequest(
        instance_id=instance.id,
        update_mask=field_mask_pb2.FieldMask(paths=["task_state"]),
        task_state=instance_state_pb2.TASK_STATE_SPAWNING,
        expected_task_state=instance_state_pb2.TASK_STATE_SCHEDULING,
        request_id=str(uuid.uuid4()),
    )
    first = stub.UpdateInstance(request, metadata=SVC)
    again = stub.UpdateInstance(request, metadata=SVC)
    assert again.task_state == first.task_state == instance_state_pb2.TASK_STATE_SPAWNING


# ReportComputeNode: what a host may say about itself

GOOD_REPORT = {
    "host": "compute-9",
    "address": "127.0.0.1:8782",
    "vcpus": 4,
    "ram_mib": 4096,
    "disk_gib": 100,
    "hypervisor_type": "test",
    "architecture": "x86_64",
}
JUNK_REPORTS = [
    ({"host": "10.0.0.0/33"}, "host"),
    ({"host": "compute 9"}, "host"),
    ({"host": "-compute"}, "host"),
    ({"host": "a" * 64 + ".example"}, "host"),
    ({"host": "c" * 256}, "host"),
    ({"address": "Ap:m\tQv$/Uai"}, "address"),
    ({"address": ""}, "address"),
    ({"address": "127.0.0.1"}, "address"),
    ({"address": "127.0.0.1:0"}, "address"),
    ({"address": "127.0.0.1:65536"}, "address"),
    ({"address": "10.0.0.300:8782"}, "address"),
    ({"address": "::1:8782"}, "address"),
    ({"address": "[10.0.0.1]:8782"}, "address"),
    ({"vcpus": 0}, "vcpus"),
    ({"vcpus": 4097}, "vcpus"),
    ({"ram_mib": 2**53}, "ram_mib"),
    ({"ram_mib": -1}, "ram_mib"),
    ({"disk_gib": 0}, "disk_gib"),
    ({"disk_gib": 2**40}, "disk_gib"),
    ({"hypervisor_type": "QEMU\x00"}, "hypervisor_type"),
    ({"architecture": "x" * 33}, "architecture"),
    ({"availability_zone": "zone\n"}, "availability_zone"),
]


def test_report_with_a_junk_name_address_or_capacity_is_invalid_and_registers_nothing(conductor):
    stub, _ = conductor
    for change, field in JUNK_REPORTS:
        request = pb2.ReportComputeNodeRequest(**{**GOOD_REPORT, **change})
        error = fails(stub.ReportComputeNode, request, metadata=SVC)
        info = errors.error_info(error)
        assert (error.code(), info.metadata["field"]) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            field,
        ), change
    assert [n.host for n in ComputeNode.select().order_by(ComputeNode.host)] == [
        "host-a",
        "host-b",
    ]


def test_report_accepts_host_names_and_ipv6_addresses_up_to_the_bounds(conductor):
    stub, _ = conductor
    for change in (
        {"host": "compute-9.rack-2.example.org", "address": "compute-9.example.org:8782"},
        {"host": "9", "address": "[::1]:65535"},
        {"host": "c" * 63, "vcpus": 4096, "ram_mib": 64 * 1024 * 1024, "disk_gib": 1024**2},
    ):
        request = pb2.ReportComputeNodeRequest(**{**GOOD_REPORT, **change})
        assert stub.ReportComputeNode(request, metadata=SVC).enabled
        assert ComputeNode.get(ComputeNode.host == change["host"])


def test_update_instance_repeated_after_it_was_made_answers_the_instance(conductor):
    """The conductor died after making the change but before remembering the request id:
    the host's retry finds the task already where it asks to move it."""
    stub, _ = conductor
    instance = make_instance(alternates=())
    Instance.update(task_state=TaskState.NETWORKING).where(Instance.id == instance.id).execute()
    moved = _update(
        stub,
        instance.id,
        ["task_state"],
        expected=instance_state_pb2.TASK_STATE_NETWORKING,
        task_state=instance_state_pb2.TASK_STATE_SPAWNING,
    )
    again = _update(
        stub,
        instance.id,
        ["task_state"],
        expected=instance_state_pb2.TASK_STATE_NETWORKING,
        task_state=instance_state_pb2.TASK_STATE_SPAWNING,
    )
    assert again.task_state == moved.task_state == instance_state_pb2.TASK_STATE_SPAWNING
    elsewhere = fails(
        _update,
        stub,
        instance.id,
        ["task_state"],
        expected=instance_state_pb2.TASK_STATE_NETWORKING,
        task_state=instance_state_pb2.TASK_STATE_BLOCK_DEVICE_MAPPING,
    )
    assert elsewhere.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_update_instance_refuses_task_moves_the_lifecycle_does_not_allow(conductor):
    stub, _ = conductor
    instance = make_instance()
    skipped = fails(
        _update,
        stub,
        instance.id,
        ["task_state"],
        task_state=instance_state_pb2.TASK_STATE_POWERING_OFF,
    )
    assert skipped.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert errors.error_info(skipped).reason == "INVALID_STATE_TRANSITION"
    Instance.update(task_state=TaskState.DELETING).where(Instance.id == instance.id).execute()
    while_deleting = fails(
        _update,
        stub,
        instance.id,
        ["power_state"],
        power_state=instance_state_pb2.POWER_STATE_SHUTDOWN,
    )
    assert errors.error_info(while_deleting).reason == "INVALID_STATE_TRANSITION"
    failed = _update(stub, instance.id, ["vm_state"], vm_state=instance_state_pb2.VM_STATE_ERROR)
    assert failed.vm_state == instance_state_pb2.VM_STATE_ERROR
