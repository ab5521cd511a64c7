"""Contract tests of stratus.scheduler.v1: a real server, the generated stubs, every backend.

The far side of the BuildAndRunInstance cast is a fake Compute servicer on a
free port, registered as a ComputeNode with that address.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from components.compute_db import claims
from components.compute_db.models import Claim, ComputeNode, Instance, InstanceFault
from components.compute_db.states import TaskState, VmState
from components.framework import errors
from components.framework.clock import utcnow
from components.scheduler import host_state, placement
from components.scheduler.__main__ import COMPONENT
from components.scheduler.config import SchedulerConfig
from stratus.scheduler.v1 import scheduler_service_pb2 as pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as pb2_grpc
from tests.contract.scheduler_fakes import (
    add_instance,
    add_node,
    dead_address,
    fake_compute,
    stale,
)
from tests.harness import StaticValidator, caller, metadata, serving_component

PROJECT = str(uuid.uuid4())
USER = str(uuid.uuid4())
USER_TOKEN = "the-users-own-token"
API, ADMIN, MEMBER = "api-token", "admin-token", "member-token"
VALIDATOR = StaticValidator(
    {
        API: caller(["service"], project_id="service-project", token=API),
        ADMIN: caller(["admin"], project_id="admin-project", token=ADMIN),
        MEMBER: caller(["member"], project_id=PROJECT, token=MEMBER),
    }
)


# Which test exercises each error case the proto comments name (test_conformance.py).
CONTRACT_CASES = {
    "stratus.scheduler.v1.Scheduler/SelectDestinations": {
        "INVALID_ARGUMENT": "test_invalid_request_is_invalid_argument_naming_the_field",
        "NOT_FOUND": "test_missing_instance_is_not_found",
        "PERMISSION_DENIED": "test_only_services_may_select_destinations",
        "FAILED_PRECONDITION": "test_instance_not_waiting_for_a_host_is_failed_precondition",
    },
    "stratus.scheduler.v1.Scheduler/ListHosts": {
        "INVALID_ARGUMENT": "test_list_hosts_bad_page_token_or_size_is_invalid_argument",
        "PERMISSION_DENIED": "test_list_hosts_is_admin_only",
    },
    "stratus.scheduler.v1.Scheduler/UpdateHost": {
        "INVALID_ARGUMENT": "test_update_host_bad_mask_or_fields_is_invalid_argument",
        "NOT_FOUND": "test_update_missing_host_is_not_found",
        "PERMISSION_DENIED": "test_update_host_is_admin_only",
    },
    "stratus.scheduler.v1.Scheduler/DeleteHost": {
        "INVALID_ARGUMENT": "test_delete_host_missing_or_unnamed_is_not_found_or_invalid_argument",
        "NOT_FOUND": "test_delete_host_missing_or_unnamed_is_not_found_or_invalid_argument",
        "PERMISSION_DENIED": "test_delete_host_is_admin_only",
        "FAILED_PRECONDITION": "test_delete_host_that_is_up_is_failed_precondition",
    },
}


@dataclasses.dataclass
class Scheduler:
    stub: pb2_grpc.SchedulerStub
    compute: object
    compute_address: str

    def select(self, instance, token=API, **fields) -> pb2.Selection:
        return self.stub.SelectDestinations(request(instance, **fields), metadata=metadata(token))


def request(instance, *, max_alternates=0, request_id="", auth_token=USER_TOKEN, **spec):
    values = {
        "project_id": instance.project_id,
        "user_id": instance.user_id,
        "vcpus": instance.vcpus,
        "ram_mib": instance.ram_mib,
        "disk_gib": instance.disk_gib,
    }
    values.update(spec)
    return pb2.SelectDestinationsRequest(
        instance_id=instance.id,
        spec=pb2.RequestSpec(**values),
        max_alternates=max_alternates,
        request_id=request_id,
        auth_token=auth_token,
    )


@contextlib.contextmanager
def serve(database_url, tmp_path, **settings):
    config = SchedulerConfig(data_dir=str(tmp_path), cast_connect_timeout_seconds=0.3, **settings)
    with (
        fake_compute() as (fake, address),
        serving_component(COMPONENT, VALIDATOR, database_url, config=config) as (_, channel),
    ):
        yield Scheduler(pb2_grpc.SchedulerStub(channel), fake, address)


@pytest.fixture
def scheduler(database_url, tmp_path):
    with serve(database_url, tmp_path) as served:
        yield served


def fails(fn, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    return info.value


def reason(error: grpc.RpcError) -> str:
    return errors.error_info(error).reason


def instance(**fields) -> Instance:
    return add_instance(PROJECT, USER, **fields)


def reload(row):
    return type(row).get_by_id(row.id)


def claims_on(node) -> list[Claim]:
    return list(Claim.select().where(Claim.node == node.id))


# SelectDestinations: placing ---------------------------------------------------------


def test_select_places_on_the_emptiest_host_claims_records_and_casts(scheduler):
    small = add_node("small", scheduler.compute_address, ram_mib=4096)
    big = add_node("big", scheduler.compute_address, ram_mib=16384)
    add_node("medium", scheduler.compute_address, ram_mib=8192)
    server = instance(vcpus=2, ram_mib=2048, disk_gib=20)

    reply = scheduler.select(server, request_id="req-select-1")

    selection = reply.selection
    assert (selection.host, selection.node) == ("big", "big")
    assert list(selection.alternates) == ["medium", "small"]
    (held,) = claims_on(big)
    assert selection.claim_id == held.id and held.instance_id == server.id
    assert (held.vcpus, held.ram_mib, held.disk_gib) == (2, 2048, 20)
    node = reload(big)
    assert (node.vcpus_used, node.ram_mib_used, node.disk_gib_used) == (2, 2048, 20)
    assert node.instances_used == 1 and claims_on(small) == []
    row = reload(server)
    assert (row.host, row.claim_id, row.attempt) == ("big", held.id, 1)
    assert row.alternates == ["medium", "small"]
    assert row.task_state == TaskState.SCHEDULING and row.vm_state == VmState.BUILDING

    ((context, build),) = scheduler.compute.wait_for(1)
    assert (build.instance_id, build.claim_id, build.attempt) == (server.id, held.id, 1)
    assert list(build.alternates) == ["medium", "small"]
    assert context.auth_token == USER_TOKEN
    assert (context.user_id, context.project_id) == (USER, PROJECT)
    assert context.request_id == "req-select-1"
    assert context.send_time.seconds > 0


def test_consecutive_servers_spread_over_the_hosts(scheduler):
    for name in ("a", "b", "c"):
        add_node(name, scheduler.compute_address, ram_mib=8192)
    hosts = [scheduler.select(instance(ram_mib=2048)).selection.host for _ in range(3)]
    assert sorted(hosts) == ["a", "b", "c"]


def test_negative_ram_multiplier_stacks_servers_on_one_host(database_url, tmp_path):
    with serve(database_url, tmp_path, ram_weight_multiplier=-1.0, cpu_weight_multiplier=0) as s:
        for name in ("a", "b", "c"):
            add_node(name, s.compute_address, ram_mib=8192)
        hosts = [s.select(instance(ram_mib=1024)).selection.host for _ in range(3)]
    assert len(set(hosts)) == 1


def test_max_alternates_is_honoured_and_capped_by_max_attempts(scheduler):
    for i in range(5):
        add_node(f"n{i}", scheduler.compute_address, ram_mib=4096 + i)
    assert len(scheduler.select(instance(), max_alternates=1).selection.alternates) == 1
    assert len(scheduler.select(instance()).selection.alternates) == 2
    assert len(scheduler.select(instance(), max_alternates=4).selection.alternates) == 2


def test_filters_apply_zone_image_properties_and_ignore_hosts(scheduler):
    address = scheduler.compute_address
    add_node("arm", address, architecture="aarch64", ram_mib=65536)
    add_node("other-zone", address, availability_zone="az-2", ram_mib=65536)
    add_node("ignored", address, ram_mib=65536)
    add_node("right", address, ram_mib=4096)
    reply = scheduler.select(
        instance(),
        availability_zone="nova",
        image_properties={"architecture": "x86_64", "hypervisor_type": "qemu"},
        ignore_hosts=["ignored"],
    )
    assert reply.selection.host == "right"
    assert list(reply.selection.alternates) == []


def test_a_pinned_server_lands_on_its_requested_host_with_no_alternates(scheduler):
    address = scheduler.compute_address
    add_node("a", address, ram_mib=65536)  # the emptier host, which would win otherwise
    b = add_node("b", address, ram_mib=8192)
    server = instance()

    reply = scheduler.select(server, max_alternates=2, requested_host="b")

    assert reply.selection.host == "b" and list(reply.selection.alternates) == []
    (held,) = claims_on(b)
    row = reload(server)
    assert (row.host, row.claim_id, row.alternates) == ("b", held.id, [])
    ((_, build),) = scheduler.compute.wait_for(1)
    assert list(build.alternates) == []


@pytest.mark.parametrize("host", ["b", "no-such-host"])
def test_a_pinned_server_its_host_cannot_take_is_no_valid_host(scheduler, host):
    address = scheduler.compute_address
    add_node("a", address, ram_mib=65536)
    add_node("b", address, ram_mib=1024)
    server = instance(ram_mib=4096)

    error = fails(scheduler.select, server, requested_host=host)

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert reason(error) == "NO_VALID_HOST"
    assert f"The requested host {host} could not take the server." in error.details()
    assert "RequestedHostFilter removed" in error.details()
    assert reload(server).vm_state == VmState.ERROR
    assert Claim.select().count() == 0


def test_disabled_or_stale_hosts_are_never_chosen(scheduler):
    address = scheduler.compute_address
    add_node("disabled", address, ram_mib=65536, enabled=False, disabled_reason="maintenance")
    add_node("stale", address, ram_mib=65536, last_heartbeat=stale())
    add_node("never-reported", address, ram_mib=65536, last_heartbeat=None)
    add_node("up", address, ram_mib=2048)
    placed = 0
    while placed < 10:
        try:
            reply = scheduler.select(instance(ram_mib=1024))
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert reason(error) == "NO_VALID_HOST"
            break
        assert reply.selection.host == "up"
        assert list(reply.selection.alternates) == []
        placed += 1
    assert 2 <= placed < 10
    assert ComputeNode.select().where(ComputeNode.instances_used > 0).count() == 1


def test_repeated_request_id_answers_the_first_selection_without_claiming_again(scheduler):
    add_node("a", scheduler.compute_address)
    add_node("b", scheduler.compute_address)
    server = instance()
    first = scheduler.select(server, request_id="req-same")
    again = scheduler.select(server, request_id="req-same")
    assert again == first
    assert Claim.select().count() == 1
    assert len(scheduler.compute.wait_for(2, timeout=0.5)) == 1


def test_repeated_request_without_id_answers_the_placement_already_made(scheduler):
    add_node("a", scheduler.compute_address)
    add_node("b", scheduler.compute_address)
    server = instance()
    first = scheduler.select(server)
    again = scheduler.select(server)
    assert again.selection == first.selection
    assert Claim.select().count() == 1
    assert sum(n.instances_used for n in ComputeNode.select()) == 1
    # Still SCHEDULING: the build was cast again, with the same claim (the host
    # ignores a build it has begun).
    builds = scheduler.compute.wait_for(2)
    assert [b.claim_id for _, b in builds] == [first.selection.claim_id] * 2


def claimed_without_cast(server, node, alternates=()) -> placement.Placement:
    """What a scheduler replica that died between its claim and its cast leaves behind."""
    config = SchedulerConfig()
    state = host_state.from_node(reload(node), config.ratios, config.service_down_time_seconds)
    resources = claims.Resources(server.vcpus, server.ram_mib, server.disk_gib)
    placed = placement.claim_and_record(
        server.id, "", state, resources, config.ratios, list(alternates)
    )
    assert placed is not None
    return placed


def test_repeated_request_for_a_server_claimed_but_never_cast_casts_the_build(scheduler):
    node = add_node("a", scheduler.compute_address)
    add_node("b", scheduler.compute_address, ram_mib=4096)
    server = instance()
    placed = claimed_without_cast(server, node, ["b"])
    assert scheduler.compute.wait_for(1, timeout=0.2) == []

    reply = scheduler.select(server)

    assert (reply.selection.host, reply.selection.claim_id) == ("a", placed.claim_id)
    assert list(reply.selection.alternates) == ["b"]
    ((context, build),) = scheduler.compute.wait_for(1)
    assert (build.instance_id, build.claim_id, build.attempt) == (server.id, placed.claim_id, 1)
    assert list(build.alternates) == ["b"]
    assert context.auth_token == USER_TOKEN
    assert Claim.select().count() == 1
    assert reload(node).instances_used == 1


def test_repeated_request_whose_host_is_unreachable_releases_the_claim_and_places_anew(
    scheduler,
):
    gone = add_node("gone", dead_address(), ram_mib=65536)
    add_node("good", scheduler.compute_address, ram_mib=8192)
    server = instance()
    first = claimed_without_cast(server, gone)

    reply = scheduler.select(server)

    assert reply.selection.host == "good"
    assert reply.selection.claim_id != first.claim_id
    assert claims_on(gone) == []
    node = reload(gone)
    assert (node.vcpus_used, node.ram_mib_used, node.instances_used) == (0, 0, 0)
    ((_, build),) = scheduler.compute.wait_for(1)
    assert build.claim_id == reply.selection.claim_id
    row = reload(server)
    assert (row.host, row.claim_id) == ("good", reply.selection.claim_id)
    assert row.task_state == TaskState.SCHEDULING
    assert Claim.select().count() == 1


def test_a_claim_is_not_released_once_its_host_began_the_build(scheduler):
    node = add_node("a", scheduler.compute_address)
    server = instance()
    placed = claimed_without_cast(server, node)
    Instance.update(task_state=TaskState.SPAWNING).where(Instance.id == server.id).execute()

    assert placement.undo(server.id, placed) is False

    row = reload(server)
    assert (row.host, row.claim_id) == ("a", placed.claim_id)
    assert Claim.select().count() == 1 and reload(node).instances_used == 1


def test_repeated_request_whose_only_host_is_unreachable_is_no_reachable_host(scheduler):
    gone = add_node("gone", dead_address())
    server = instance()
    claimed_without_cast(server, gone)

    error = fails(scheduler.select, server)

    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(error) == "NO_REACHABLE_HOST"
    assert Claim.select().count() == 0 and reload(gone).instances_used == 0
    row = reload(server)
    assert row.vm_state == VmState.ERROR and (row.host, row.claim_id) == ("", "")
    assert "gone" in row.faults[0].message


# SelectDestinations: failures --------------------------------------------------------


def test_broken_receiver_releases_its_claim_and_the_next_alternate_gets_the_cast(scheduler):
    broken = add_node("broken", dead_address(), ram_mib=65536)
    add_node("good", scheduler.compute_address, ram_mib=8192)
    add_node("spare", scheduler.compute_address, ram_mib=4096)
    server = instance()

    reply = scheduler.select(server)

    assert reply.selection.host == "good"
    assert list(reply.selection.alternates) == ["spare"]
    assert claims_on(broken) == []
    node = reload(broken)
    assert (node.vcpus_used, node.ram_mib_used, node.instances_used) == (0, 0, 0)
    ((_, build),) = scheduler.compute.wait_for(1)
    assert build.claim_id == reply.selection.claim_id
    assert list(build.alternates) == ["spare"]
    row = reload(server)
    assert (row.host, row.claim_id) == ("good", reply.selection.claim_id)
    assert Claim.select().count() == 1


def test_no_reachable_host_is_unavailable_with_every_claim_released(scheduler):
    add_node("dead-1", dead_address())
    add_node("dead-2", dead_address())
    server = instance()
    error = fails(scheduler.select, server)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(error) == "NO_REACHABLE_HOST"
    assert Claim.select().count() == 0
    assert sum(n.ram_mib_used for n in ComputeNode.select()) == 0
    row = reload(server)
    assert row.vm_state == VmState.ERROR and row.task_state == TaskState.NONE
    assert row.host == "" and row.claim_id == ""
    (fault,) = row.faults
    assert fault.code == grpc.StatusCode.UNAVAILABLE.value[0]
    assert "dead-1" in fault.message and "dead-2" in fault.message


def test_no_valid_host_sets_error_with_fault_and_logs_each_filter(scheduler, caplog):
    address = scheduler.compute_address
    add_node("down", address, last_heartbeat=stale())
    add_node("small-1", address, ram_mib=1024)
    add_node("small-2", address, ram_mib=512)
    server = instance(ram_mib=4096)

    with caplog.at_level(logging.INFO, logger="components.scheduler"):
        error = fails(scheduler.select, server)

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert reason(error) == "NO_VALID_HOST"
    assert error.details().startswith("No valid host was found. ")
    row = reload(server)
    assert row.vm_state == VmState.ERROR and row.task_state == TaskState.NONE
    (fault,) = InstanceFault.select().where(InstanceFault.instance == server.id)
    assert fault.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert fault.message == error.details()
    assert "ComputeFilter removed 1" in fault.message and "RamFilter removed 2" in fault.message
    assert Claim.select().count() == 0
    assert f"instance {server.id}: ComputeFilter removed 1 of 3 hosts" in caplog.text
    assert f"instance {server.id}: RamFilter removed 2 of 2 hosts" in caplog.text
    assert f"instance {server.id}: DiskFilter removed 0 of 0 hosts" in caplog.text


def test_no_hosts_at_all_is_no_valid_host(scheduler):
    server = instance()
    error = fails(scheduler.select, server)
    assert reason(error) == "NO_VALID_HOST"
    assert "There are no compute hosts." in reload(server).faults[0].message


def test_missing_instance_is_not_found(scheduler):
    ghost = Instance(
        id=str(uuid.uuid4()), project_id=PROJECT, user_id=USER, vcpus=1, ram_mib=1, disk_gib=0
    )
    error = fails(scheduler.select, ghost)
    assert error.code() == grpc.StatusCode.NOT_FOUND


NOT_WAITING = [
    {"task_state": TaskState.DELETING},
    {"task_state": TaskState.NONE, "vm_state": VmState.ACTIVE},
    {"deleted_time": utcnow(), "vm_state": VmState.DELETED, "task_state": TaskState.NONE},
]


def test_instance_not_waiting_for_a_host_is_failed_precondition(scheduler):
    add_node("a", scheduler.compute_address)
    for fields in NOT_WAITING:
        error = fails(scheduler.select, instance(**fields))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, fields
    assert Claim.select().count() == 0


INVALID = [
    ({"vcpus": 0}, "spec.vcpus"),
    ({"ram_mib": 0}, "spec.ram_mib"),
    ({"disk_gib": -1}, "spec.disk_gib"),
    ({"project_id": ""}, "spec.project_id"),
    ({"user_id": ""}, "spec.user_id"),
    ({"auth_token": ""}, "auth_token"),
    ({"max_alternates": -1}, "max_alternates"),
    ({"project_id": str(uuid.uuid4())}, "spec.project_id"),
]


def test_invalid_request_is_invalid_argument_naming_the_field(scheduler):
    add_node("a", scheduler.compute_address)
    server = instance()
    for change, field in INVALID:
        error = fails(
            scheduler.stub.SelectDestinations, request(server, **change), metadata=metadata(API)
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, change
        assert errors.error_info(error).metadata["field"] == field
    assert reload(server).task_state == TaskState.SCHEDULING
    assert Claim.select().count() == 0


def test_malformed_instance_id_is_invalid_argument(scheduler):
    bad = pb2.SelectDestinationsRequest(
        instance_id="not-a-uuid",
        spec=pb2.RequestSpec(project_id=PROJECT, user_id=USER, vcpus=1, ram_mib=1),
        auth_token=USER_TOKEN,
    )
    error = fails(scheduler.stub.SelectDestinations, bad, metadata=metadata(API))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_only_services_may_select_destinations(scheduler):
    add_node("a", scheduler.compute_address)
    for token, code in [
        (MEMBER, grpc.StatusCode.PERMISSION_DENIED),
        (ADMIN, grpc.StatusCode.PERMISSION_DENIED),
        (None, grpc.StatusCode.UNAUTHENTICATED),
        ("garbage", grpc.StatusCode.UNAUTHENTICATED),
    ]:
        error = fails(scheduler.select, instance(), token=token)
        assert error.code() == code, token
    assert Claim.select().count() == 0


def test_claims_admit_up_to_capacity_times_the_allocation_ratio(scheduler):
    add_node("a", scheduler.compute_address, ram_mib=1000)
    # ram_allocation_ratio 1.5: 1500 MiB fit on a 1000 MiB host.
    assert scheduler.select(instance(ram_mib=1400)).selection.host == "a"


# ListHosts ----------------------------------------------------------------------------


def test_list_hosts_pages_by_name_with_capacity_usage_and_state(scheduler):
    address = scheduler.compute_address
    for name in ("e", "c", "a", "d"):
        add_node(name, address)
    add_node("b", address, last_heartbeat=stale(), availability_zone="az-2")
    add_node("f", address, last_heartbeat=None)
    scheduler.select(instance(vcpus=3, ram_mib=1000, disk_gib=7), ignore_hosts=["c", "d", "e"])
    stub, names, token = scheduler.stub, [], ""
    while True:
        page = stub.ListHosts(
            pb2.ListHostsRequest(page_size=2, page_token=token), metadata=metadata(ADMIN)
        )
        assert len(page.hosts) <= 2
        names += [h.name for h in page.hosts]
        if not page.next_page_token:
            break
        token = page.next_page_token
    assert names == ["a", "b", "c", "d", "e", "f"]
    hosts = {
        h.name: h for h in stub.ListHosts(pb2.ListHostsRequest(), metadata=metadata(ADMIN)).hosts
    }
    a = hosts["a"]
    assert (a.used_vcpus, a.used_ram_mib, a.used_disk_gib, a.instance_count) == (3, 1000, 7, 1)
    assert (a.vcpus, a.ram_mib, a.disk_gib) == (16, 8192, 200)
    assert a.address == address and a.hypervisor_type == "QEMU" and a.architecture == "x86_64"
    assert a.state == pb2.Host.STATE_UP and a.enabled
    assert a.last_heartbeat_time.seconds > 0 and a.create_time.seconds > 0
    assert hosts["b"].state == pb2.Host.STATE_DOWN
    assert hosts["f"].state == pb2.Host.STATE_DOWN
    assert not hosts["f"].HasField("last_heartbeat_time")


def test_list_hosts_filters_by_availability_zone(scheduler):
    add_node("a", scheduler.compute_address, availability_zone="az-1")
    add_node("b", scheduler.compute_address, availability_zone="az-2")
    page = scheduler.stub.ListHosts(
        pb2.ListHostsRequest(availability_zone="az-2"), metadata=metadata(ADMIN)
    )
    assert [h.name for h in page.hosts] == ["b"] and page.next_page_token == ""


def test_list_hosts_bad_page_token_or_size_is_invalid_argument(scheduler):
    for bad in (pb2.ListHostsRequest(page_token="not-a-token"), pb2.ListHostsRequest(page_size=-1)):
        error = fails(scheduler.stub.ListHosts, bad, metadata=metadata(ADMIN))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_list_hosts_is_admin_only(scheduler):
    for token in (MEMBER, API):
        error = fails(scheduler.stub.ListHosts, pb2.ListHostsRequest(), metadata=metadata(token))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED


# UpdateHost ---------------------------------------------------------------------------


def update(scheduler, name, paths, token=ADMIN, **fields):
    return scheduler.stub.UpdateHost(
        pb2.UpdateHostRequest(
            host=pb2.Host(name=name, **fields),
            update_mask=field_mask_pb2.FieldMask(paths=paths),
        ),
        metadata=metadata(token),
    )


def test_disabled_host_gets_no_servers_until_enabled_again(scheduler):
    add_node("big", scheduler.compute_address, ram_mib=65536)
    add_node("small", scheduler.compute_address, ram_mib=4096)
    host = update(
        scheduler,
        "big",
        ["enabled", "disabled_reason"],
        enabled=False,
        disabled_reason="disk replacement",
    )
    assert (host.enabled, host.disabled_reason) == (False, "disk replacement")
    assert (
        update(
            scheduler,
            "big",
            ["enabled", "disabled_reason"],
            enabled=False,
            disabled_reason="disk replacement",
        )
        == host
    )
    assert scheduler.select(instance()).selection.host == "small"

    host = update(scheduler, "big", ["enabled"], enabled=True)
    assert (host.enabled, host.disabled_reason) == (True, "")
    assert scheduler.select(instance()).selection.host == "big"


def test_update_host_changes_only_the_masked_fields(scheduler):
    add_node("a", scheduler.compute_address, enabled=False, disabled_reason="old")
    host = update(scheduler, "a", ["disabled_reason"], enabled=True, disabled_reason="new")
    assert (host.enabled, host.disabled_reason) == (False, "new")


BAD_UPDATES = [
    ([], {"enabled": False}),
    (["vcpus"], {"vcpus": 1}),
    (["name"], {}),
    (["disabled_reason"], {"disabled_reason": "x"}),  # the host is enabled
    (["enabled"], {"enabled": False, "name": ""}),
]


def test_update_host_bad_mask_or_fields_is_invalid_argument(scheduler):
    add_node("a", scheduler.compute_address)
    for paths, fields in BAD_UPDATES:
        fields = dict(fields)
        error = fails(update, scheduler, fields.pop("name", "a"), paths, **fields)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, paths
    assert ComputeNode.get(ComputeNode.host == "a").enabled


def test_update_missing_host_is_not_found(scheduler):
    error = fails(update, scheduler, "nowhere", ["enabled"], enabled=False)
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_update_host_is_admin_only(scheduler):
    add_node("a", scheduler.compute_address)
    for token in (MEMBER, API):
        error = fails(update, scheduler, "a", ["enabled"], token=token, enabled=False)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert ComputeNode.get(ComputeNode.host == "a").enabled


# DeleteHost ---------------------------------------------------------------------------


def delete_host(scheduler, name, token=ADMIN, request_id=""):
    return scheduler.stub.DeleteHost(
        pb2.DeleteHostRequest(name=name, request_id=request_id), metadata=metadata(token)
    )


def list_names(scheduler) -> list[str]:
    hosts = scheduler.stub.ListHosts(pb2.ListHostsRequest(), metadata=metadata(ADMIN)).hosts
    return [h.name for h in hosts]


def test_delete_host_removes_a_down_empty_host_and_it_can_register_again(scheduler):
    add_node("gone", scheduler.compute_address, last_heartbeat=stale())
    add_node("never-reported", scheduler.compute_address, last_heartbeat=None)
    add_node("kept", scheduler.compute_address)
    assert delete_host(scheduler, "gone") == pb2.DeleteHostResponse()
    assert delete_host(scheduler, "never-reported") == pb2.DeleteHostResponse()
    assert list_names(scheduler) == ["kept"]
    error = fails(delete_host, scheduler, "gone")
    assert error.code() == grpc.StatusCode.NOT_FOUND
    add_node("gone", scheduler.compute_address)
    assert list_names(scheduler) == ["gone", "kept"]


def test_delete_host_retried_with_its_request_id_answers_the_first_result(scheduler):
    add_node("gone", scheduler.compute_address, last_heartbeat=stale())
    request_id = str(uuid.uuid4())
    first = delete_host(scheduler, "gone", request_id=request_id)
    assert delete_host(scheduler, "gone", request_id=request_id) == first


def test_delete_host_that_is_up_is_failed_precondition(scheduler):
    add_node("alive", scheduler.compute_address)
    error = fails(delete_host, scheduler, "alive")
    assert (error.code(), reason(error)) == (grpc.StatusCode.FAILED_PRECONDITION, "HOST_UP")
    assert list_names(scheduler) == ["alive"]


def test_delete_host_with_servers_or_claims_is_failed_precondition(scheduler):
    node = add_node("busy", scheduler.compute_address)
    placed = scheduler.select(instance())
    assert placed.selection.host == "busy"
    ComputeNode.update(last_heartbeat=stale()).where(ComputeNode.id == node.id).execute()
    error = fails(delete_host, scheduler, "busy")
    assert (error.code(), reason(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "HOST_HAS_INSTANCES",
    )
    Instance.update(deleted_time=utcnow()).execute()
    error = fails(delete_host, scheduler, "busy")
    assert (error.code(), reason(error)) == (grpc.StatusCode.FAILED_PRECONDITION, "HOST_HAS_CLAIMS")
    assert claims_on(node) and list_names(scheduler) == ["busy"]


def test_delete_host_missing_or_unnamed_is_not_found_or_invalid_argument(scheduler):
    assert fails(delete_host, scheduler, "nowhere").code() == grpc.StatusCode.NOT_FOUND
    for bad in ("", "x" * 300, "a\x00b"):
        assert fails(delete_host, scheduler, bad).code() == grpc.StatusCode.INVALID_ARGUMENT


def test_delete_host_removes_a_host_registered_under_a_name_no_longer_accepted(scheduler):
    add_node("10.0.0.0/33", "Ap:m\tQv$/Uai", last_heartbeat=stale())
    delete_host(scheduler, "10.0.0.0/33")
    assert list_names(scheduler) == []


def test_delete_host_is_admin_only(scheduler):
    add_node("gone", scheduler.compute_address, last_heartbeat=stale())
    for token in (MEMBER, API):
        error = fails(delete_host, scheduler, "gone", token=token)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert list_names(scheduler) == ["gone"]


# Every RPC ----------------------------------------------------------------------------


def test_every_rpc_is_implemented(scheduler):
    for service in pb2.DESCRIPTOR.services_by_name.values():
        for method in service.methods:
            request_cls = getattr(pb2, method.input_type.name)
            token = API if method.name == "SelectDestinations" else ADMIN
            try:
                getattr(scheduler.stub, method.name)(request_cls(), metadata=metadata(token))
            except grpc.RpcError as exc:
                assert exc.code() != grpc.StatusCode.UNIMPLEMENTED, method.full_name
                assert exc.code() != grpc.StatusCode.INTERNAL, method.full_name
