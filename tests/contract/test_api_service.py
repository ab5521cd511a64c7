"""Contract tests of stratus.api.v1 against fakes of image, network, volume, scheduler, compute."""

from __future__ import annotations

import datetime
import threading
import time
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import code_pb2

from components.api.__main__ import COMPONENT
from components.api.config import ApiConfig
from components.compute_db.models import BuildRequest, ComputeNode, Instance, InstanceFault
from components.compute_db.states import PowerState, TaskState, VmState
from components.framework import auth, errors
from components.framework.server import Service
from stratus.api.v1 import api_service_pb2 as pb2
from stratus.api.v1 import api_service_pb2_grpc as pb2_grpc
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as scheduler_grpc
from stratus.type.v1 import instance_state_pb2
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc
from tests.contract import fakes
from tests.harness import StaticValidator, caller, serving, serving_component

PROJECT_A, PROJECT_B = str(uuid.uuid4()), str(uuid.uuid4())
TOKENS = {
    "admin": caller(["admin"], project_id=PROJECT_A, token="admin"),
    "alice": caller(["member"], project_id=PROJECT_A, token="alice"),
    "bob": caller(["member"], project_id=PROJECT_B, token="bob"),
    "reader": caller(["reader"], project_id=PROJECT_A, token="reader"),
    # A role of the cloud's own making: authenticated, but not reader, member or admin.
    "observer": caller(["observer"], project_id=PROJECT_A, token="observer"),
    "service-token": caller(["service"], project_id=str(uuid.uuid4()), token="service-token"),
}
IMAGE, BIG_IMAGE, QUEUED_IMAGE = (str(uuid.uuid4()) for _ in range(3))
NETWORK, VOLUME, BUSY_VOLUME = (str(uuid.uuid4()) for _ in range(3))
PORT, BOUND_PORT = (str(uuid.uuid4()) for _ in range(2))


class OpenPolicy(auth.Policy):
    """The fakes let any valid token in: they stand for other components."""

    def __init__(self) -> None:
        super().__init__({})

    def rule_for(self, method):
        return auth.authenticated


def md(token):
    return (("x-auth-token", token),)


class Cloud:
    def __init__(self, channel, fakes_, builds):
        self.servers = pb2_grpc.ServersStub(channel)
        self.flavors = pb2_grpc.FlavorsStub(channel)
        self.quotas = pb2_grpc.QuotasStub(channel)
        self.keypairs = pb2_grpc.KeypairsStub(channel)
        self.images, self.network, self.volumes, self.scheduler, self.compute = fakes_
        # The api's queue of builds to hand to the scheduler (scheduling.py).
        self.builds = builds
        self.flavor_id = ""

    def create(self, token="alice", scheduled=True, **fields):
        """CreateServer's answer; with ``scheduled``, once the scheduler has been asked too."""
        fields.setdefault("name", "vm")
        fields.setdefault("flavor_id", self.flavor_id)
        fields.setdefault("image_id", IMAGE)
        reply = self.servers.CreateServer(pb2.CreateServerRequest(**fields), metadata=md(token))
        if scheduled:
            self.scheduled()
        return reply

    def scheduled(self):
        assert self.builds.wait_idle(10), "the api did not hand its builds to the scheduler"

    def get(self, server_id, token="alice"):
        return self.servers.GetServer(pb2.GetServerRequest(server_id=server_id), metadata=md(token))

    def set_state(self, server_id, vm, task=TaskState.NONE, power=PowerState.RUNNING):
        Instance.update(vm_state=vm, task_state=task, power_state=power).where(
            Instance.id == server_id
        ).execute()


def place_on_fake_host(request):
    Instance.update(host="fake-host").where(Instance.id == request.instance_id).execute()


@pytest.fixture
def cloud(database_url):
    images, network, volumes = fakes.FakeImages(), fakes.FakeNetwork(), fakes.FakeVolumes()
    scheduler, compute = fakes.FakeScheduler(place_on_fake_host), fakes.FakeCompute()
    images.add(IMAGE, min_ram_mib=128, properties={"architecture": "x86_64"})
    images.add(BIG_IMAGE, min_disk_gib=500)
    images.add(QUEUED_IMAGE, status=image_pb2.Image.STATUS_QUEUED)
    network.networks.add(NETWORK)
    network.ports[PORT] = network_pb2.Port(id=PORT, network_id=NETWORK)
    network.ports[BOUND_PORT] = network_pb2.Port(
        id=BOUND_PORT, network_id=NETWORK, device_id=str(uuid.uuid4())
    )
    volumes.volumes.update(
        {VOLUME: volume_pb2.Volume.STATUS_AVAILABLE, BUSY_VOLUME: volume_pb2.Volume.STATUS_IN_USE}
    )
    far_side = [
        Service.of(images, image_pb2, image_grpc, "Images"),
        Service.of(
            network,
            __import__("stratus.network.v1.network_service_pb2", fromlist=["x"]),
            network_grpc,
            "Network",
        ),
        Service.of(volumes, volume_pb2, volume_grpc, "Volumes"),
        Service.of(
            scheduler,
            __import__("stratus.scheduler.v1.scheduler_service_pb2", fromlist=["x"]),
            scheduler_grpc,
            "Scheduler",
        ),
        Service.of(
            compute,
            __import__("stratus.compute.v1.compute_service_pb2", fromlist=["x"]),
            compute_grpc,
            "Compute",
        ),
    ]
    validator = StaticValidator(TOKENS)
    with serving(far_side, OpenPolicy(), validator) as (_, port):
        address = f"127.0.0.1:{port}"
        endpoints = {name: address for name in ("image", "network", "volume", "scheduler")}
        # An unreachable scheduler is tried again for a second, not twenty.
        config = ApiConfig(component="api", scheduler_retry_seconds=1.0)
        with serving_component(
            COMPONENT, validator, database_url, config=config, endpoints=endpoints
        ) as (
            runtime,
            channel,
        ):
            ComputeNode.create(
                host="fake-host", address=address, vcpus=8, ram_mib=8192, disk_gib=100
            )
            fakes_ = (images, network, volumes, scheduler, compute)
            cloud = Cloud(channel, fakes_, runtime.state["scheduling"])
            cloud.flavor_id = cloud.flavors.CreateFlavor(
                pb2.CreateFlavorRequest(name="m1.small", vcpus=2, ram_mib=2048, disk_gib=20),
                metadata=md("admin"),
            ).id
            yield cloud


# Which test exercises each error case the proto comments name (tests/contract/conformance.py).
CONTRACT_CASES = {
    "stratus.api.v1.Servers/CreateServer": {
        "INVALID_ARGUMENT": "test_create_server_refuses_bad_requests_and_records_nothing",
        "FAILED_PRECONDITION": "test_create_server_refuses_bad_requests_and_records_nothing",
        "PERMISSION_DENIED": "test_only_admins_may_pin_a_server_to_a_host",
    },
    "stratus.api.v1.Servers/GetServer": {
        "INVALID_ARGUMENT": "test_get_with_a_huge_id_is_invalid_argument_with_a_short_message",
        "NOT_FOUND": "test_a_missing_or_other_projects_server_is_not_found",
    },
    "stratus.api.v1.Servers/ListServers": {
        "INVALID_ARGUMENT": "test_list_with_a_name_filter_longer_than_255_is_invalid_argument",
        "PERMISSION_DENIED": "test_list_filters_by_host_for_admins_only",
    },
    "stratus.api.v1.Servers/DeleteServer": {
        "NOT_FOUND": "test_delete_of_a_server_without_host_is_immediate_and_frees_quota",
    },
    "stratus.api.v1.Servers/StopServer": {
        "FAILED_PRECONDITION": "test_start_running_and_stop_stopped_are_failed_precondition",
        "NOT_FOUND": "test_a_missing_or_other_projects_server_is_not_found",
    },
    "stratus.api.v1.Servers/StartServer": {
        "FAILED_PRECONDITION": "test_start_running_and_stop_stopped_are_failed_precondition",
        "NOT_FOUND": "test_a_missing_or_other_projects_server_is_not_found",
    },
    "stratus.api.v1.Servers/RebootServer": {
        "FAILED_PRECONDITION": "test_soft_reboot_of_a_stopped_server_is_failed_precondition",
        "INVALID_ARGUMENT": "test_reboot_with_an_undefined_type_is_invalid_argument",
        "NOT_FOUND": "test_a_missing_or_other_projects_server_is_not_found",
    },
    "stratus.api.v1.Servers/GetConsoleOutput": {
        "FAILED_PRECONDITION": "test_console_output_comes_from_the_host",
        "NOT_FOUND": "test_a_missing_or_other_projects_server_is_not_found",
    },
    "stratus.api.v1.Servers/WatchServer": {
        "NOT_FOUND": "test_a_missing_or_other_projects_server_is_not_found",
    },
    "stratus.api.v1.Servers/WatchServers": {
        "INVALID_ARGUMENT": "test_watch_servers_refuses_a_bad_list_naming_the_field",
    },
    "stratus.api.v1.Flavors/CreateFlavor": {
        "INVALID_ARGUMENT": "test_create_flavor_with_a_bad_field_is_invalid_argument_naming_it",
    },
    "stratus.api.v1.Flavors/GetFlavor": {
        "NOT_FOUND": "test_any_caller_reads_public_flavors_only_admin_private_ones",
    },
    "stratus.api.v1.Flavors/ListFlavors": {
        "INVALID_ARGUMENT": "test_list_flavors_with_a_bad_page_token_is_invalid_argument",
    },
    "stratus.api.v1.Flavors/DeleteFlavor": {
        "NOT_FOUND": "test_a_second_flavor_delete_is_not_found",
    },
    "stratus.api.v1.Quotas/GetQuota": {
        "PERMISSION_DENIED": "test_quota_of_another_project_is_permission_denied_for_members",
    },
    "stratus.api.v1.Quotas/UpdateQuota": {
        "INVALID_ARGUMENT": "test_update_quota_with_a_bad_limit_or_mask_is_invalid_argument",
    },
}


def fails(fn, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    return info.value


def reason(error) -> str:
    return errors.error_info(error).reason


# CreateServer -------------------------------------------------------------------------


def test_create_server_answers_scheduling_before_the_scheduler_answers(cloud):
    asked, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_scheduler(request):
        asked.set()
        release.wait(10)
        place_on_fake_host(request)
        finished.set()

    cloud.scheduler.place = slow_scheduler
    server = cloud.create(scheduled=False)
    # The answer came while the scheduler had not answered (it waits for release).
    assert not finished.is_set()
    assert server.status == pb2.Server.STATUS_BUILD
    assert server.task_state == TaskState.SCHEDULING
    assert Instance.get_by_id(server.id).task_state == TaskState.SCHEDULING
    assert asked.wait(10), "the build was never handed to the scheduler"
    release.set()
    cloud.scheduled()
    assert finished.is_set()
    assert cloud.get(server.id, "admin").host == "fake-host"


def test_create_server_records_build_and_schedules_with_the_users_token(cloud):
    server = cloud.create(network_ids=[NETWORK], volume_ids=[VOLUME], metadata={"k": "v"})
    assert server.status == pb2.Server.STATUS_BUILD
    assert server.task_state == instance_state_pb2.TASK_STATE_SCHEDULING
    assert server.project_id == PROJECT_A and server.flavor.vcpus == 2
    assert server.host == ""  # hidden from non-admins
    (call,) = cloud.scheduler.named("SelectDestinations")
    assert call.instance_id == server.id and call.auth_token == "alice"
    assert (call.spec.vcpus, call.spec.ram_mib, call.spec.disk_gib) == (2, 2048, 20)
    assert call.spec.image_properties["architecture"] == "x86_64"
    admin_view = cloud.servers.GetServer(
        pb2.GetServerRequest(server_id=server.id), metadata=md("admin")
    )
    assert admin_view.host == "fake-host"


def test_create_server_with_ports_puts_their_nics_after_the_networks_ones(cloud):
    server = cloud.create(network_ids=[NETWORK], port_ids=[PORT])
    instance = Instance.get_by_id(server.id)
    assert [(n["network_id"], n["port_id"]) for n in instance.requested_networks] == [
        (NETWORK, ""),
        (NETWORK, PORT),
    ]


@pytest.mark.parametrize(
    "fields, code, why",
    [
        ({"flavor_id": str(uuid.uuid4())}, grpc.StatusCode.INVALID_ARGUMENT, "FLAVOR_NOT_FOUND"),
        ({"image_id": str(uuid.uuid4())}, grpc.StatusCode.INVALID_ARGUMENT, "IMAGE_NOT_FOUND"),
        ({"image_id": QUEUED_IMAGE}, grpc.StatusCode.INVALID_ARGUMENT, "IMAGE_UNUSABLE"),
        ({"image_id": BIG_IMAGE}, grpc.StatusCode.INVALID_ARGUMENT, "IMAGE_UNUSABLE"),
        (
            {"network_ids": [str(uuid.uuid4())]},
            grpc.StatusCode.INVALID_ARGUMENT,
            "NETWORK_NOT_FOUND",
        ),
        ({"volume_ids": [str(uuid.uuid4())]}, grpc.StatusCode.INVALID_ARGUMENT, "VOLUME_NOT_FOUND"),
        ({"volume_ids": [BUSY_VOLUME]}, grpc.StatusCode.FAILED_PRECONDITION, "VOLUME_UNAVAILABLE"),
        ({"volume_ids": [VOLUME, VOLUME]}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        ({"port_ids": [str(uuid.uuid4())]}, grpc.StatusCode.INVALID_ARGUMENT, "PORT_NOT_FOUND"),
        ({"port_ids": [BOUND_PORT]}, grpc.StatusCode.FAILED_PRECONDITION, "PORT_IN_USE"),
        ({"port_ids": [PORT, PORT]}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        ({"port_ids": ["not-a-uuid"]}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        ({"network_ids": ["not-a-uuid"]}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        ({"name": ""}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        ({"image_id": "nope"}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        ({"availability_zone": "mars"}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        ({"key_name": "nobody"}, grpc.StatusCode.INVALID_ARGUMENT, "KEYPAIR_NOT_FOUND"),
        ({"key_name": "bob-key"}, grpc.StatusCode.INVALID_ARGUMENT, "KEYPAIR_NOT_FOUND"),
        ({"key_name": "bad/name"}, grpc.StatusCode.INVALID_ARGUMENT, "KEYPAIR_NOT_FOUND"),
        ({"user_data": b"x" * 65537}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
    ],
)
def test_create_server_refuses_bad_requests_and_records_nothing(cloud, fields, code, why):
    # Bob's key pair is not Alice's to boot with: key pairs belong to their user.
    cloud.keypairs.CreateKeypair(pb2.CreateKeypairRequest(name="bob-key"), metadata=md("bob"))
    error = fails(cloud.create, **fields)
    assert error.code() == code and reason(error) == why
    for name in ("key_name", "user_data"):
        if name in fields:
            assert errors.error_info(error).metadata["field"] == name
    assert Instance.select().count() == 0
    assert cloud.scheduler.named("SelectDestinations") == []


def test_a_key_pair_and_user_data_are_stored_with_a_config_drive_and_shown(cloud):
    pair = cloud.keypairs.CreateKeypair(
        pb2.CreateKeypairRequest(name="laptop"), metadata=md("alice")
    ).keypair
    user_data = b"#!/bin/sh\n" + bytes(range(256)) * 255  # 65290 bytes, not text
    server = cloud.create(key_name="laptop", user_data=user_data)
    assert (server.key_name, server.config_drive) == ("laptop", True)
    row = Instance.get_by_id(server.id)
    assert (row.key_name, row.public_key) == ("laptop", pair.public_key)
    assert bytes(row.user_data) == user_data and row.config_drive
    # The key pair is copied: deleting it leaves the server as it was booted.
    cloud.keypairs.DeleteKeypair(pb2.DeleteKeypairRequest(name="laptop"), metadata=md("alice"))
    shown = cloud.get(server.id)
    assert (shown.key_name, shown.config_drive) == ("laptop", True)
    assert Instance.get_by_id(server.id).public_key == pair.public_key


@pytest.mark.parametrize(
    "fields, drive",
    [
        ({}, False),
        ({"config_drive": True}, True),
        ({"user_data": b"#cloud-config\n"}, True),
        ({"user_data": b"x" * 65536}, True),
    ],
)
def test_a_config_drive_is_given_when_asked_for_or_with_user_data(cloud, fields, drive):
    server = cloud.create(**fields)
    assert (server.key_name, server.config_drive) == ("", drive)
    row = Instance.get_by_id(server.id)
    assert (row.key_name, row.public_key, row.config_drive) == ("", "", drive)
    expected = fields.get("user_data")
    assert (bytes(row.user_data) if row.user_data is not None else None) == expected


def test_a_request_id_reused_with_other_user_data_is_refused(cloud):
    cloud.create(request_id="boot-ud", user_data=b"one")
    error = fails(cloud.create, request_id="boot-ud", user_data=b"two")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(error) == "REQUEST_ID_REUSED"
    assert Instance.select().count() == 1


# Pinning to a host: availability_zone "ZONE:HOST" (Nova's forced host) --------------------


def add_host_b(zone="nova"):
    return ComputeNode.create(
        host="host-b",
        address="127.0.0.1:1",
        availability_zone=zone,
        vcpus=8,
        ram_mib=8192,
        disk_gib=100,
    )


@pytest.mark.parametrize(
    "asked, zone",
    [
        ("nova:host-b", "nova"),
        (":host-b", ""),
        ("nova::host-b", "nova"),
        ("nova:host-b:host-b", "nova"),
    ],
)
def test_admin_pins_a_server_to_a_host_through_availability_zone(cloud, asked, zone):
    add_host_b()
    server = cloud.create(token="admin", availability_zone=asked)
    assert server.status == pb2.Server.STATUS_BUILD
    assert Instance.get_by_id(server.id).availability_zone == zone  # never the host
    (call,) = cloud.scheduler.named("SelectDestinations")
    assert call.spec.availability_zone == zone and call.spec.requested_host == "host-b"


def test_a_pinned_build_keeps_its_host_in_the_stored_spec(cloud):
    """Another api replica that adopts the build asks for the same host."""
    add_host_b()
    asked, release = threading.Event(), threading.Event()

    def slow_scheduler(request):
        asked.set()
        release.wait(10)
        place_on_fake_host(request)

    cloud.scheduler.place = slow_scheduler
    server = cloud.create(token="admin", scheduled=False, availability_zone="nova:host-b")
    try:
        assert asked.wait(10)
        row = BuildRequest.get(BuildRequest.instance == server.id)
        stored = scheduler_pb2.RequestSpec.FromString(bytes(row.spec))
        assert (stored.availability_zone, stored.requested_host) == ("nova", "host-b")
    finally:
        release.set()
    cloud.scheduled()


def test_only_admins_may_pin_a_server_to_a_host(cloud):
    add_host_b()
    error = fails(cloud.create, token="alice", availability_zone="nova:host-b")
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    info = errors.error_info(error)
    assert info.reason == "POLICY_DENIED" and info.metadata["rule"] == "create:forced_host"
    assert "create:forced_host" in error.details()
    assert Instance.select().count() == 0
    assert cloud.scheduler.named("SelectDestinations") == []


@pytest.mark.parametrize(
    "asked",
    [
        "nova:no-such-host",  # unknown host
        "az-2:host-b",  # host-b is in nova
        "nova:host-b:other",  # a host is its own node
        "nova:host-b:host-b:x",  # not a form Nova parses
        "nova:",  # no host
    ],
)
def test_pinning_to_an_unknown_host_or_one_outside_the_zone_is_invalid_argument(cloud, asked):
    add_host_b()
    ComputeNode.create(
        host="host-c",
        address="127.0.0.1:1",
        availability_zone="az-2",
        vcpus=8,
        ram_mib=8192,
        disk_gib=100,
    )
    error = fails(cloud.create, token="admin", availability_zone=asked)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == "availability_zone"
    assert Instance.select().count() == 0
    assert cloud.scheduler.named("SelectDestinations") == []


def test_a_plain_zone_asks_for_no_host(cloud):
    add_host_b(zone="az-2")
    server = cloud.create(availability_zone="az-2")
    assert Instance.get_by_id(server.id).availability_zone == "az-2"
    (call,) = cloud.scheduler.named("SelectDestinations")
    assert call.spec.availability_zone == "az-2" and call.spec.requested_host == ""


def test_a_network_listed_twice_gets_two_interfaces(cloud):
    server = cloud.create(network_ids=[NETWORK, NETWORK])
    assert server.status == pb2.Server.STATUS_BUILD
    requested = Instance.get_by_id(server.id).requested_networks
    assert [r["network_id"] for r in requested] == [NETWORK, NETWORK]
    # The network was looked up once.
    assert [r.network_id for r in cloud.network.named("GetNetwork")] == [NETWORK]


def test_quota_is_enforced_atomically_and_nothing_is_left_behind(cloud):
    cloud.quotas.UpdateQuota(
        pb2.UpdateQuotaRequest(
            project_id=PROJECT_A,
            instances=2,
            update_mask=field_mask_pb2.FieldMask(paths=["instances"]),
        ),
        metadata=md("admin"),
    )
    outcomes = []

    def boot(i):
        try:
            cloud.create(name=f"vm-{i}")
            outcomes.append("ok")
        except grpc.RpcError as exc:
            outcomes.append(reason(exc))

    threads = [threading.Thread(target=boot, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["QUOTA_EXCEEDED"] * 4 + ["ok"] * 2
    quota = cloud.quotas.GetQuota(pb2.GetQuotaRequest(), metadata=md("alice"))
    assert (quota.instances.limit, quota.instances.in_use, quota.cores.in_use) == (2, 2, 4)
    assert Instance.select().count() == 2


def test_repeated_request_id_returns_the_first_server(cloud):
    first = cloud.create(request_id="boot-1")
    second = cloud.create(request_id="boot-1")
    assert first.id == second.id
    assert Instance.select().count() == 1
    assert len(cloud.scheduler.named("SelectDestinations")) == 1


def test_unreachable_scheduler_leaves_the_server_in_error_with_a_fault(cloud):
    cloud.scheduler.failing["SelectDestinations"] = errors.Unavailable("down")
    server = cloud.create()
    assert server.task_state == TaskState.SCHEDULING  # the answer came first
    failed = cloud.get(server.id)
    assert failed.status == pb2.Server.STATUS_ERROR
    assert failed.fault.code == code_pb2.UNAVAILABLE
    assert "scheduler" in failed.fault.message
    # It kept trying for scheduler_retry_seconds before giving up.
    assert len(cloud.scheduler.named("SelectDestinations")) > 1


def test_a_scheduler_back_within_the_retry_budget_places_the_server(cloud):
    cloud.scheduler.fail_next["SelectDestinations"] = errors.Unavailable("restarting")
    server = cloud.create()
    placed = cloud.get(server.id)
    assert placed.status == pb2.Server.STATUS_BUILD
    assert not placed.HasField("fault")
    assert len(cloud.scheduler.named("SelectDestinations")) == 2


def test_a_server_the_scheduler_no_longer_expects_gets_no_fault(cloud):
    # As when the server was deleted, or failed by the sweep, before its turn came.
    cloud.scheduler.fail_next["SelectDestinations"] = errors.FailedPrecondition(
        "instance is not waiting to be scheduled", reason="INSTANCE_NOT_SCHEDULING"
    )
    server = cloud.create()
    assert InstanceFault.select().where(InstanceFault.instance == server.id).count() == 0
    assert cloud.get(server.id).status == pb2.Server.STATUS_BUILD


def test_a_scheduler_refusal_puts_the_server_in_error_with_its_code(cloud):
    cloud.scheduler.fail_next["SelectDestinations"] = errors.InvalidArgument("bad spec")
    server = cloud.create()
    failed = cloud.get(server.id, "admin")
    assert failed.status == pb2.Server.STATUS_ERROR
    assert failed.fault.code == code_pb2.INVALID_ARGUMENT
    assert failed.fault.details == "bad spec"


def test_reader_cannot_create_and_others_cannot_see(cloud):
    assert fails(cloud.create, token="reader").code() == grpc.StatusCode.PERMISSION_DENIED
    server = cloud.create()
    hidden = fails(
        cloud.servers.GetServer, pb2.GetServerRequest(server_id=server.id), metadata=md("bob")
    )
    assert hidden.code() == grpc.StatusCode.NOT_FOUND
    assert cloud.servers.ListServers(pb2.ListServersRequest(), metadata=md("bob")).servers == []
    denied = fails(
        cloud.servers.ListServers, pb2.ListServersRequest(all_projects=True), metadata=md("bob")
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    everyone = cloud.servers.ListServers(
        pb2.ListServersRequest(all_projects=True), metadata=md("admin")
    )
    assert [s.id for s in everyone.servers] == [server.id]


def test_list_is_newest_first_paged_and_filtered(cloud):
    ids = [cloud.create(name=f"vm-{i}").id for i in range(5)]
    cloud.set_state(ids[0], VmState.ACTIVE)
    seen, token = [], ""
    while True:
        page = cloud.servers.ListServers(
            pb2.ListServersRequest(page_size=2, page_token=token), metadata=md("alice")
        )
        seen += [s.id for s in page.servers]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(ids))
    active = cloud.servers.ListServers(
        pb2.ListServersRequest(status=pb2.Server.STATUS_ACTIVE), metadata=md("alice")
    )
    assert [s.id for s in active.servers] == [ids[0]]
    named = cloud.servers.ListServers(pb2.ListServersRequest(name="vm-3"), metadata=md("alice"))
    assert [s.id for s in named.servers] == [ids[3]]


def test_list_filters_by_name_substring_without_regard_to_case_and_wildcards(cloud):
    web = cloud.create(name="Web-1").id
    cloud.create(name="db_1")
    cloud.create(name="dbx1")

    def names(**fields):
        reply = cloud.servers.ListServers(pb2.ListServersRequest(**fields), metadata=md("alice"))
        return sorted(s.name for s in reply.servers)

    assert names(name_contains="web") == ["Web-1"]
    assert names(name_contains="B_") == ["db_1"]  # "_" is a character, not a wildcard
    assert names(name_contains="%") == []
    assert names(name_contains="1", name="dbx1") == ["dbx1"]
    cloud.set_state(web, VmState.ACTIVE)
    assert names(name_contains="1", status=pb2.Server.STATUS_BUILD) == ["db_1", "dbx1"]


def test_list_filters_by_host_for_admins_only(cloud):
    placed = cloud.create(name="placed")
    cloud.scheduler.place = None
    cloud.create(name="unplaced")
    on_host = cloud.servers.ListServers(
        pb2.ListServersRequest(host="fake-host", all_projects=True), metadata=md("admin")
    )
    assert [s.id for s in on_host.servers] == [placed.id]
    elsewhere = cloud.servers.ListServers(
        pb2.ListServersRequest(host="other-host"), metadata=md("admin")
    )
    assert elsewhere.servers == []
    denied = fails(
        cloud.servers.ListServers, pb2.ListServersRequest(host="fake-host"), metadata=md("alice")
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason(denied) == "POLICY_DENIED"


@pytest.mark.parametrize("field", ["name", "name_contains"])
def test_list_with_a_name_filter_longer_than_255_is_invalid_argument(cloud, field):
    error = fails(
        cloud.servers.ListServers,
        pb2.ListServersRequest(**{field: "x" * 256}),
        metadata=md("alice"),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == field


@pytest.mark.parametrize("status", [999, -1])
def test_list_with_an_undefined_status_is_invalid_argument_naming_status(cloud, status):
    error = fails(
        cloud.servers.ListServers, pb2.ListServersRequest(status=status), metadata=md("alice")
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == "status"


def test_get_with_a_huge_id_is_invalid_argument_with_a_short_message(cloud):
    error = fails(
        cloud.servers.GetServer, pb2.GetServerRequest(server_id="x" * 7000), metadata=md("alice")
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert len(error.details()) < 200
    assert errors.error_info(error).metadata["field"] == "server_id"


# Actions ------------------------------------------------------------------------------


def test_delete_of_a_server_without_host_is_immediate_and_frees_quota(cloud):
    cloud.scheduler.place = None
    server = cloud.create()
    reply = cloud.servers.DeleteServer(
        pb2.DeleteServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert reply.server.status == pb2.Server.STATUS_DELETED
    gone = fails(
        cloud.servers.GetServer, pb2.GetServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert gone.code() == grpc.StatusCode.NOT_FOUND
    assert cloud.quotas.GetQuota(pb2.GetQuotaRequest(), metadata=md("alice")).instances.in_use == 0
    again = fails(
        cloud.servers.DeleteServer,
        pb2.DeleteServerRequest(server_id=server.id),
        metadata=md("alice"),
    )
    assert again.code() == grpc.StatusCode.NOT_FOUND


def test_delete_on_a_host_that_is_down_releases_ports_and_volumes_at_once(cloud):
    server = cloud.create(network_ids=[NETWORK], port_ids=[PORT], volume_ids=[VOLUME])
    made = str(uuid.uuid4())  # the port the host created for the network_ids NIC
    cloud.network.ports[made] = network_pb2.Port(id=made, network_id=NETWORK, device_id=server.id)
    given = cloud.network.ports[PORT]
    given.device_id, given.binding_host_id = server.id, "fake-host"
    stale = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(hours=1)
    ComputeNode.update(last_heartbeat=stale).where(ComputeNode.host == "fake-host").execute()

    reply = cloud.servers.DeleteServer(
        pb2.DeleteServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert reply.server.status == pb2.Server.STATUS_DELETED
    assert cloud.compute.wait_for(1, timeout=0.3) == []  # nothing cast to the dead host
    assert [r.port_id for r in cloud.network.named("DeletePort")] == [made]
    (unbind,) = cloud.network.named("UpdatePort")
    assert unbind.port.id == PORT and set(unbind.update_mask.paths) >= {"device_id"}
    # Only if the port is still this server's (a compare-and-swap on device_id).
    assert unbind.HasField("expected_device_id") and unbind.expected_device_id == server.id
    assert cloud.network.ports[PORT].device_id == ""
    assert [(r.volume_id, r.instance_id) for r in cloud.volumes.named("DetachVolume")] == [
        (VOLUME, server.id)
    ]
    assert [r.volume_id for r in cloud.volumes.named("UnreserveVolume")] == [VOLUME]
    assert cloud.quotas.GetQuota(pb2.GetQuotaRequest(), metadata=md("alice")).instances.in_use == 0


def test_delete_on_a_host_that_reports_is_cast_and_releases_nothing_itself(cloud):
    server = cloud.create(network_ids=[NETWORK], volume_ids=[VOLUME])
    fresh = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    ComputeNode.update(last_heartbeat=fresh).where(ComputeNode.host == "fake-host").execute()
    reply = cloud.servers.DeleteServer(
        pb2.DeleteServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert reply.server.task_state == instance_state_pb2.TASK_STATE_DELETING
    assert len(cloud.compute.wait_for(1)) == 1
    assert cloud.network.named("DeletePort") == [] and cloud.volumes.named("DetachVolume") == []


MISSING = str(uuid.uuid4())


@pytest.mark.parametrize(
    "method, request_",
    [
        ("GetServer", pb2.GetServerRequest(server_id=MISSING)),
        ("DeleteServer", pb2.DeleteServerRequest(server_id=MISSING)),
        ("StopServer", pb2.StopServerRequest(server_id=MISSING)),
        ("StartServer", pb2.StartServerRequest(server_id=MISSING)),
        ("RebootServer", pb2.RebootServerRequest(server_id=MISSING)),
        ("GetConsoleOutput", pb2.GetConsoleOutputRequest(server_id=MISSING)),
        ("WatchServer", pb2.WatchServerRequest(server_id=MISSING)),
    ],
)
def test_a_missing_or_other_projects_server_is_not_found(cloud, method, request_):
    theirs = cloud.create(token="bob")
    for server_id in (MISSING, theirs.id):
        request_.server_id = server_id

        def ask():
            reply = getattr(cloud.servers, method)(request_, metadata=md("alice"), timeout=5)
            if method == "WatchServer":
                list(reply)

        assert fails(ask).code() == grpc.StatusCode.NOT_FOUND, server_id


def test_delete_on_a_host_casts_terminate_with_the_users_token(cloud):
    server = cloud.create()
    reply = cloud.servers.DeleteServer(
        pb2.DeleteServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert reply.server.task_state == instance_state_pb2.TASK_STATE_DELETING
    (cast,) = cloud.compute.wait_for(1)
    assert cast.terminate_instance.instance_id == server.id
    assert cast.context.auth_token == "alice"
    again = cloud.servers.DeleteServer(
        pb2.DeleteServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert again.server.task_state == instance_state_pb2.TASK_STATE_DELETING
    assert len(cloud.compute.wait_for(2, timeout=0.3)) == 1


def test_stop_start_and_reboot_follow_the_state_rules(cloud):
    server = cloud.create()
    early = fails(
        cloud.servers.StopServer, pb2.StopServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert early.code() == grpc.StatusCode.FAILED_PRECONDITION
    cloud.set_state(server.id, VmState.ACTIVE)
    stopping = cloud.servers.StopServer(
        pb2.StopServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert stopping.server.task_state == instance_state_pb2.TASK_STATE_POWERING_OFF
    assert cloud.compute.wait_for(1)[0].stop_instance.instance_id == server.id
    # Stopping again while powering off is fine and casts nothing more.
    cloud.servers.StopServer(pb2.StopServerRequest(server_id=server.id), metadata=md("alice"))
    cloud.set_state(server.id, VmState.STOPPED, power=PowerState.SHUTDOWN)
    cloud.servers.StartServer(pb2.StartServerRequest(server_id=server.id), metadata=md("alice"))
    assert cloud.compute.wait_for(2)[1].start_instance.instance_id == server.id
    cloud.set_state(server.id, VmState.ACTIVE)
    rebooting = cloud.servers.RebootServer(
        pb2.RebootServerRequest(
            server_id=server.id, reboot_type=pb2.RebootServerRequest.REBOOT_TYPE_HARD
        ),
        metadata=md("alice"),
    )
    assert rebooting.server.status == pb2.Server.STATUS_REBOOT
    cast = cloud.compute.wait_for(3)[2]
    assert cast.reboot_instance.instance_id == server.id


def test_reboot_without_a_type_is_a_soft_reboot(cloud):
    server = cloud.create()
    cloud.set_state(server.id, VmState.ACTIVE)
    reply = cloud.servers.RebootServer(
        pb2.RebootServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert reply.server.status == pb2.Server.STATUS_REBOOT
    assert reply.server.task_state == TaskState.REBOOTING
    (cast,) = cloud.compute.wait_for(1)
    assert cast.reboot_instance.reboot_type == compute_pb2.RebootInstance.REBOOT_TYPE_SOFT


def test_reboot_with_an_undefined_type_is_invalid_argument(cloud):
    server = cloud.create()
    cloud.set_state(server.id, VmState.ACTIVE)
    error = fails(
        cloud.servers.RebootServer,
        pb2.RebootServerRequest(server_id=server.id, reboot_type=7),
        metadata=md("alice"),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == "reboot_type"
    assert cloud.get(server.id).task_state == TaskState.NONE
    assert cloud.compute.wait_for(1, timeout=0.3) == []


def test_start_running_and_stop_stopped_are_failed_precondition(cloud):
    server = cloud.create()
    cloud.set_state(server.id, VmState.ACTIVE)
    running = fails(
        cloud.servers.StartServer, pb2.StartServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert running.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(running) == "INVALID_STATE_TRANSITION"
    assert "cannot start" in running.details() and "already running" in running.details()
    cloud.set_state(server.id, VmState.STOPPED, power=PowerState.SHUTDOWN)
    stopped = fails(
        cloud.servers.StopServer, pb2.StopServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert stopped.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(stopped) == "INVALID_STATE_TRANSITION"
    assert "cannot stop" in stopped.details() and "already stopped" in stopped.details()
    assert cloud.compute.wait_for(1, timeout=0.3) == []


def test_soft_reboot_of_a_stopped_server_is_failed_precondition(cloud):
    server = cloud.create()
    cloud.set_state(server.id, VmState.STOPPED, power=PowerState.SHUTDOWN)
    error = fails(
        cloud.servers.RebootServer,
        pb2.RebootServerRequest(
            server_id=server.id, reboot_type=pb2.RebootServerRequest.REBOOT_TYPE_SOFT
        ),
        metadata=md("alice"),
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error.details() == f"cannot reboot server {server.id}: it is stopped"


def test_console_output_comes_from_the_host(cloud):
    cloud.scheduler.place = None
    unplaced = cloud.create()
    error = fails(
        cloud.servers.GetConsoleOutput,
        pb2.GetConsoleOutputRequest(server_id=unplaced.id),
        metadata=md("alice"),
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    cloud.scheduler.place = place_on_fake_host
    server = cloud.create()
    reply = cloud.servers.GetConsoleOutput(
        pb2.GetConsoleOutputRequest(server_id=server.id), metadata=md("alice")
    )
    assert reply.output == f"console of {server.id}"


def test_watch_follows_the_server_until_it_settles(cloud):
    server = cloud.create()

    def progress():
        time.sleep(0.2)
        cloud.set_state(server.id, VmState.BUILDING, TaskState.SPAWNING, PowerState.NOSTATE)
        time.sleep(0.2)
        cloud.set_state(server.id, VmState.ACTIVE)

    threading.Thread(target=progress).start()
    events = list(
        cloud.servers.WatchServer(
            pb2.WatchServerRequest(server_id=server.id), metadata=md("alice"), timeout=10
        )
    )
    statuses = [e.server.status for e in events]
    assert statuses[0] == pb2.Server.STATUS_BUILD
    assert statuses[-1] == pb2.Server.STATUS_ACTIVE
    assert len(events) >= 2


def test_watch_of_a_settled_server_yields_one_message(cloud):
    server = cloud.create()
    cloud.set_state(server.id, VmState.ERROR)
    events = list(
        cloud.servers.WatchServer(
            pb2.WatchServerRequest(server_id=server.id), metadata=md("alice"), timeout=5
        )
    )
    assert [e.server.status for e in events] == [pb2.Server.STATUS_ERROR]


def _watch_many(cloud, ids, token="alice", timeout=10):
    request = pb2.WatchServersRequest(server_ids=ids)
    return list(cloud.servers.WatchServers(request, metadata=md(token), timeout=timeout))


def test_watch_servers_follows_each_until_all_settle_on_one_stream(cloud):
    building, settled_ = cloud.create(), cloud.create()
    cloud.set_state(settled_.id, VmState.ACTIVE)

    def progress():
        time.sleep(0.3)
        cloud.set_state(building.id, VmState.BUILDING, TaskState.SPAWNING, PowerState.NOSTATE)
        time.sleep(0.3)
        cloud.set_state(building.id, VmState.ERROR)

    threading.Thread(target=progress).start()
    events = _watch_many(cloud, [building.id, settled_.id, building.id.upper()])
    # The first messages are each server's current state, in the order asked, each once.
    assert [e.server.id for e in events[:2]] == [building.id, settled_.id]
    assert all(e.HasField("event_time") and not e.missing_server_id for e in events)
    # The settled server is done after its first message; the other is followed to ERROR.
    assert [e.server.id for e in events].count(settled_.id) == 1
    mine = [e.server for e in events if e.server.id == building.id]
    assert mine[0].status == pb2.Server.STATUS_BUILD
    assert mine[-1].status == pb2.Server.STATUS_ERROR
    assert len(mine) >= 2
    assert events[-1].server.id == building.id


def test_watch_servers_names_missing_and_other_projects_servers_alike_and_goes_on(cloud):
    mine, theirs = cloud.create(), cloud.create(token="bob")
    cloud.set_state(mine.id, VmState.ACTIVE)
    events = _watch_many(cloud, [MISSING, mine.id, theirs.id])
    # In the order asked, as any first message.
    assert [(e.missing_server_id, e.server.id) for e in events] == [
        (MISSING, ""),
        ("", mine.id),
        (theirs.id, ""),
    ]
    assert all(e.HasField("server") != bool(e.missing_server_id) for e in events)
    assert events[1].server.status == pb2.Server.STATUS_ACTIVE
    # An admin reads every project's servers.
    cloud.set_state(theirs.id, VmState.STOPPED, power=PowerState.SHUTDOWN)
    (seen,) = _watch_many(cloud, [theirs.id], token="admin")
    assert seen.server.status == pb2.Server.STATUS_SHUTOFF


def test_watch_servers_ends_with_a_deleted_message_when_a_server_is_deleted(cloud):
    server = cloud.create()
    cloud.set_state(server.id, VmState.BUILDING, TaskState.SPAWNING, PowerState.NOSTATE)

    def delete():
        time.sleep(0.3)
        Instance.update(
            vm_state=VmState.DELETED,
            task_state=TaskState.NONE,
            deleted_time=datetime.datetime.now(datetime.UTC),
        ).where(Instance.id == server.id).execute()

    threading.Thread(target=delete).start()
    events = _watch_many(cloud, [server.id])
    assert events[-1].server.status == pb2.Server.STATUS_DELETED


@pytest.mark.parametrize(
    "ids, fragment",
    [
        ([], "server_ids is required"),
        ([MISSING] * 101, "at most 100"),
        ([MISSING, "not-a-uuid"], "not a valid id"),
    ],
)
def test_watch_servers_refuses_a_bad_list_naming_the_field(cloud, ids, fragment):
    error = fails(lambda: _watch_many(cloud, ids, timeout=5))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fragment in error.details()
    assert errors.error_info(error).metadata["field"] == "server_ids"


# Flavors and quotas --------------------------------------------------------------------


def test_flavors_admin_creates_members_read(cloud):
    denied = fails(
        cloud.flavors.CreateFlavor,
        pb2.CreateFlavorRequest(name="m1.x", vcpus=1, ram_mib=1, disk_gib=1),
        metadata=md("alice"),
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    dup = fails(
        cloud.flavors.CreateFlavor,
        pb2.CreateFlavorRequest(name="m1.small", vcpus=1, ram_mib=1, disk_gib=1),
        metadata=md("admin"),
    )
    assert dup.code() == grpc.StatusCode.ALREADY_EXISTS
    bad = fails(
        cloud.flavors.CreateFlavor,
        pb2.CreateFlavorRequest(name="m1.zero", vcpus=0, ram_mib=1, disk_gib=1),
        metadata=md("admin"),
    )
    assert errors.error_info(bad).metadata["field"] == "vcpus"
    private = cloud.flavors.CreateFlavor(
        pb2.CreateFlavorRequest(name="m1.secret", vcpus=1, ram_mib=64, disk_gib=1, is_public=False),
        metadata=md("admin"),
    )
    names = [
        f.name
        for f in cloud.flavors.ListFlavors(pb2.ListFlavorsRequest(), metadata=md("alice")).flavors
    ]
    assert names == ["m1.small"]
    hidden = fails(
        cloud.flavors.GetFlavor, pb2.GetFlavorRequest(flavor_id=private.id), metadata=md("alice")
    )
    assert hidden.code() == grpc.StatusCode.NOT_FOUND
    cloud.flavors.DeleteFlavor(pb2.DeleteFlavorRequest(flavor_id=private.id), metadata=md("admin"))


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": ""}, "name"),
        ({"vcpus": 0}, "vcpus"),
        ({"ram_mib": 0}, "ram_mib"),
        ({"disk_gib": -1}, "disk_gib"),
        ({"extra_specs": {"": "x"}}, "extra_specs key"),
    ],
)
def test_create_flavor_with_a_bad_field_is_invalid_argument_naming_it(cloud, fields, field):
    request_ = {"name": "m1.bad", "vcpus": 1, "ram_mib": 64, "disk_gib": 1, **fields}
    error = fails(
        cloud.flavors.CreateFlavor, pb2.CreateFlavorRequest(**request_), metadata=md("admin")
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == field


def test_a_flavor_with_no_disk_is_accepted(cloud):
    flavor = cloud.flavors.CreateFlavor(
        pb2.CreateFlavorRequest(name="m1.nodisk", vcpus=1, ram_mib=64, disk_gib=0),
        metadata=md("admin"),
    )
    assert flavor.disk_gib == 0


def test_any_caller_reads_public_flavors_only_admin_private_ones(cloud):
    private = cloud.flavors.CreateFlavor(
        pb2.CreateFlavorRequest(name="m1.secret", vcpus=1, ram_mib=64, disk_gib=1, is_public=False),
        metadata=md("admin"),
    )
    for token in ("observer", "reader", "alice", "bob"):
        flavor = cloud.flavors.GetFlavor(
            pb2.GetFlavorRequest(flavor_id=cloud.flavor_id), metadata=md(token)
        )
        assert flavor.name == "m1.small"
        listed = cloud.flavors.ListFlavors(pb2.ListFlavorsRequest(), metadata=md(token))
        assert [f.name for f in listed.flavors] == ["m1.small"], token
        hidden = fails(
            cloud.flavors.GetFlavor, pb2.GetFlavorRequest(flavor_id=private.id), metadata=md(token)
        )
        assert hidden.code() == grpc.StatusCode.NOT_FOUND, token
    missing = fails(
        cloud.flavors.GetFlavor, pb2.GetFlavorRequest(flavor_id=MISSING), metadata=md("admin")
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert cloud.flavors.GetFlavor(
        pb2.GetFlavorRequest(flavor_id=private.id), metadata=md("admin")
    ).name == ("m1.secret")


def test_list_flavors_with_a_bad_page_token_is_invalid_argument(cloud):
    error = fails(
        cloud.flavors.ListFlavors, pb2.ListFlavorsRequest(page_token="%%%"), metadata=md("alice")
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_second_flavor_delete_is_not_found(cloud):
    request_ = pb2.DeleteFlavorRequest(flavor_id=cloud.flavor_id)
    cloud.flavors.DeleteFlavor(request_, metadata=md("admin"))
    error = fails(cloud.flavors.DeleteFlavor, request_, metadata=md("admin"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    "fields, paths",
    [
        ({"instances": -2}, ["instances"]),
        ({"cores": 5}, []),
        ({"cores": 5}, ["vcpus"]),
    ],
)
def test_update_quota_with_a_bad_limit_or_mask_is_invalid_argument(cloud, fields, paths):
    request_ = pb2.UpdateQuotaRequest(
        project_id=PROJECT_B, update_mask=field_mask_pb2.FieldMask(paths=paths), **fields
    )
    error = fails(cloud.quotas.UpdateQuota, request_, metadata=md("admin"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    quota = cloud.quotas.GetQuota(pb2.GetQuotaRequest(project_id=PROJECT_B), metadata=md("admin"))
    assert (quota.instances.limit, quota.cores.limit) == (10, 20)


def test_quota_of_another_project_is_permission_denied_for_members(cloud):
    error = fails(
        cloud.quotas.GetQuota, pb2.GetQuotaRequest(project_id=PROJECT_B), metadata=md("alice")
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason(error) == "POLICY_DENIED"
    own = cloud.quotas.GetQuota(pb2.GetQuotaRequest(project_id=PROJECT_A), metadata=md("alice"))
    assert own.project_id == PROJECT_A
    quota = cloud.quotas.GetQuota(pb2.GetQuotaRequest(project_id=PROJECT_B), metadata=md("admin"))
    assert quota.instances.limit == 10


def test_every_rpc_is_implemented(cloud):
    channels = {
        "Servers": cloud.servers,
        "Flavors": cloud.flavors,
        "Quotas": cloud.quotas,
        "Keypairs": cloud.keypairs,
    }
    for service in pb2.DESCRIPTOR.services_by_name.values():
        stub = channels[service.name]
        for method in service.methods:
            request = getattr(pb2, method.input_type.name)()
            try:
                reply = getattr(stub, method.name)(request, metadata=md("admin"), timeout=5)
                if method.server_streaming:
                    list(reply)
            except grpc.RpcError as exc:
                assert exc.code() not in (
                    grpc.StatusCode.UNIMPLEMENTED,
                    grpc.StatusCode.INTERNAL,
                ), method.full_name
