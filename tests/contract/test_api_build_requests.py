"""Builds outlive the api replica that recorded them (components/api/scheduling.py).

Two api runtimes on one database stand for two replicas. The first one's pool is
stopped before CreateServer, so its builds are recorded and answered but never
handed to the scheduler: the replica died. The second adopts them once their
lease lapses. The scheduler is a recording fake (tests/contract/fakes.py) that
places each build on "fake-host", which takes it at once unless a test says
otherwise.
"""

from __future__ import annotations

import datetime
import threading
import time
from concurrent import futures

import pytest

from components.api import scheduling
from components.api.__main__ import COMPONENT
from components.api.config import ApiConfig
from components.compute_db.models import BuildRequest, ComputeNode, Instance
from components.compute_db.states import TaskState, VmState
from components.framework import errors
from components.framework.clock import utcnow
from components.framework.server import Service
from stratus.api.v1 import api_service_pb2 as pb2
from stratus.api.v1 import api_service_pb2_grpc as pb2_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as scheduler_grpc
from tests.contract import fakes
from tests.contract.test_api_service import IMAGE, TOKENS, OpenPolicy, md, place_on_fake_host
from tests.harness import StaticValidator, serving, serving_component

# Never by itself during a test: the tests call renew() and adopt().
NOT_BY_ITSELF = 3600.0


class Replica:
    """One api replica: its Servers stub and its scheduling pool."""

    def __init__(self, runtime, channel) -> None:
        self.servers = pb2_grpc.ServersStub(channel)
        self.flavors = pb2_grpc.FlavorsStub(channel)
        self.builds: scheduling.Scheduling = runtime.state["scheduling"]


class Apis:
    def __init__(self, dead: Replica, alive: Replica, scheduler: fakes.FakeScheduler) -> None:
        self.dead, self.alive, self.scheduler = dead, alive, scheduler
        self.flavor_id = ""
        self.endpoints: dict[str, str] = {}

    def create_on_dead(self, name="vm", **fields) -> pb2.Server:
        """CreateServer answered by the replica whose pool never runs."""
        request = pb2.CreateServerRequest(
            name=name, flavor_id=self.flavor_id, image_id=IMAGE, **fields
        )
        return self.dead.servers.CreateServer(request, metadata=md("alice"))

    def create_on_alive(self) -> pb2.Server:
        """CreateServer answered by the replica whose pool hands builds to the scheduler."""
        request = pb2.CreateServerRequest(name="vm", flavor_id=self.flavor_id, image_id=IMAGE)
        return self.alive.servers.CreateServer(request, metadata=md("alice"))

    def selected(self) -> list[str]:
        return [r.instance_id for r in self.scheduler.named("SelectDestinations")]


def lapse(*instance_ids: str) -> None:
    """Let these builds' leases run out, as they do when their replica is gone."""
    past = utcnow() - datetime.timedelta(seconds=1)
    BuildRequest.update(lease_until=past).where(BuildRequest.instance.in_(instance_ids)).execute()


def rows() -> dict[str, BuildRequest]:
    return {row.instance_id: row for row in BuildRequest.select()}


def place_and_take(request) -> None:
    """The scheduler places the build and its host takes it (the instance leaves SCHEDULING)."""
    place_on_fake_host(request)
    Instance.update(task_state=TaskState.SPAWNING).where(
        Instance.id == request.instance_id
    ).execute()


def far_side(scheduler: fakes.FakeScheduler) -> list[Service]:
    images = fakes.FakeImages()
    images.add(IMAGE, min_ram_mib=128, properties={"architecture": "x86_64"})
    return [
        Service.of(images, image_pb2, image_grpc, "Images"),
        Service.of(scheduler, scheduler_pb2, scheduler_grpc, "Scheduler"),
    ]


def api_config(**settings) -> ApiConfig:
    settings.setdefault("build_request_poll_seconds", NOT_BY_ITSELF)
    unlimited = {"quota_instances": -1, "quota_cores": -1, "quota_ram_mib": -1}
    return ApiConfig(component="api", scheduler_retry_seconds=1.0, **unlimited, **settings)


@pytest.fixture
def apis(database_url):
    scheduler = fakes.FakeScheduler(place_and_take)
    validator = StaticValidator(TOKENS)
    with serving(far_side(scheduler), OpenPolicy(), validator) as (_, port):
        address = f"127.0.0.1:{port}"
        endpoints = {name: address for name in ("image", "network", "volume", "scheduler")}
        with (
            serving_component(
                COMPONENT, validator, database_url, config=api_config(), endpoints=endpoints
            ) as (runtime_1, channel_1),
            serving_component(
                COMPONENT, validator, database_url, config=api_config(), endpoints=endpoints
            ) as (runtime_2, channel_2),
        ):
            ComputeNode.create(
                host="fake-host", address=address, vcpus=8, ram_mib=8192, disk_gib=100
            )
            dead = Replica(runtime_1, channel_1)
            dead.builds.close()  # the replica dies: CreateServer answers, nothing is scheduled
            clouds = Apis(dead, Replica(runtime_2, channel_2), scheduler)
            clouds.endpoints = endpoints
            clouds.flavor_id = dead.flavors.CreateFlavor(
                pb2.CreateFlavorRequest(name="m1.small", vcpus=2, ram_mib=2048, disk_gib=20),
                metadata=md("admin"),
            ).id
            yield clouds


def test_a_build_left_by_a_dead_api_is_adopted_once_its_lease_lapses(apis):
    server = apis.create_on_dead()
    assert server.task_state == TaskState.SCHEDULING
    (row,) = rows().values()
    assert row.instance_id == server.id and row.auth_token == "alice"
    assert apis.selected() == []

    lapse(server.id)
    assert apis.alive.builds.adopt() == [server.id]
    assert apis.alive.builds.wait_idle(10)

    (call,) = apis.scheduler.named("SelectDestinations")
    assert call.instance_id == server.id and call.auth_token == "alice"
    assert (call.spec.vcpus, call.spec.ram_mib, call.spec.disk_gib) == (2, 2048, 20)
    assert call.spec.image_properties["architecture"] == "x86_64"
    assert rows() == {}
    assert Instance.get_by_id(server.id).host == "fake-host"
    # Nothing is left to adopt, by this replica or any other.
    assert apis.alive.builds.adopt() == []
    assert len(apis.scheduler.named("SelectDestinations")) == 1


def test_a_build_whose_lease_has_not_lapsed_is_not_taken(apis):
    server = apis.create_on_dead()
    assert apis.alive.builds.adopt() == []
    assert apis.selected() == []
    assert list(rows()) == [server.id]


def test_a_renewed_lease_keeps_the_build_with_its_replica(apis):
    released = threading.Event()

    def slow(request):
        released.wait(10)
        place_and_take(request)

    apis.scheduler.place = slow
    server = apis.create_on_alive()
    # The build is in the hands of its replica (the scheduler has not answered)...
    lapse(server.id)
    assert apis.alive.builds.renew() == 1
    assert rows()[server.id].lease_until > utcnow()
    # ...so a replica looking for lapsed builds leaves it alone.
    other = scheduling.Scheduling(apis.alive.builds.clients, 1.0, 10.0)
    try:
        assert other.adopt() == []
    finally:
        other.close()
    released.set()
    assert apis.alive.builds.wait_idle(10)
    assert apis.selected() == [server.id]
    assert rows() == {}


def test_two_replicas_racing_for_lapsed_builds_take_each_once(apis):
    servers = [apis.create_on_dead(name=f"vm-{i}").id for i in range(12)]
    lapse(*servers)
    adopters = [scheduling.Scheduling(apis.alive.builds.clients, 1.0, 10.0) for _ in range(3)]
    start = threading.Barrier(len(adopters))

    def adopt(adopter):
        start.wait(5)
        return adopter.adopt()

    try:
        with futures.ThreadPoolExecutor(len(adopters)) as pool:
            taken = list(pool.map(adopt, adopters))
        for adopter in adopters:
            assert adopter.wait_idle(10)
    finally:
        for adopter in adopters:
            adopter.close()
    every = [instance_id for each in taken for instance_id in each]
    assert sorted(every) == sorted(servers)
    assert sorted(apis.selected()) == sorted(servers)
    assert rows() == {}


def test_a_lapsed_build_of_a_deleted_server_is_dropped_without_scheduling(apis):
    server = apis.create_on_dead()
    apis.alive.servers.DeleteServer(
        pb2.DeleteServerRequest(server_id=server.id), metadata=md("alice")
    )
    assert rows() == {}  # the user's token goes with the server
    lapse(server.id)
    assert apis.alive.builds.adopt() == []
    assert apis.selected() == []
    assert rows() == {}


def test_create_server_keeps_the_token_only_until_the_host_has_taken_the_build(apis):
    asked, released = threading.Event(), threading.Event()

    def slow(request):
        asked.set()
        released.wait(10)
        place_and_take(request)

    apis.scheduler.place = slow
    server = apis.create_on_alive()
    assert asked.wait(10)
    row = rows()[server.id]
    assert row.auth_token == "alice"
    spec = scheduler_pb2.RequestSpec.FromString(bytes(row.spec))
    assert (spec.vcpus, spec.ram_mib, spec.project_id) == (2, 2048, server.project_id)
    released.set()
    assert apis.alive.builds.wait_idle(10)
    assert rows() == {}


def test_a_refused_build_is_recorded_in_error_and_its_token_dropped(apis):
    apis.scheduler.fail_next["SelectDestinations"] = errors.InvalidArgument("bad spec")
    server = apis.create_on_alive()
    assert apis.alive.builds.wait_idle(10)
    assert Instance.get_by_id(server.id).vm_state == VmState.ERROR
    assert rows() == {}


def test_a_retried_create_records_one_build(apis):
    request = pb2.CreateServerRequest(
        name="vm", flavor_id=apis.flavor_id, image_id=IMAGE, request_id="boot-1"
    )
    first = apis.dead.servers.CreateServer(request, metadata=md("alice"))
    second = apis.dead.servers.CreateServer(request, metadata=md("alice"))
    assert first.id == second.id
    assert list(rows()) == [first.id]


def test_an_api_replica_adopts_lapsed_builds_by_itself(apis, database_url):
    server = apis.create_on_dead()
    lapse(server.id)
    config = api_config(build_request_poll_seconds=0.05)
    validator = StaticValidator(TOKENS)
    with serving_component(
        COMPONENT, validator, database_url, config=config, endpoints=apis.endpoints
    ):
        deadline = time.monotonic() + 10
        while rows() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert rows() == {}
    assert apis.selected() == [server.id]
    assert Instance.get_by_id(server.id).host == "fake-host"


def test_a_replica_stopping_with_builds_queued_lets_another_take_them_at_once(apis):
    first, queued = apis.create_on_dead(name="first").id, apis.create_on_dead(name="queued").id
    asked, released = threading.Event(), threading.Event()

    def slow(request):
        asked.set()
        released.wait(10)
        place_and_take(request)

    apis.scheduler.place = slow
    stopping = scheduling.Scheduling(apis.alive.builds.clients, 1.0, 30.0, workers=1)
    for instance_id in (first, queued):
        row = rows()[instance_id]
        spec = scheduler_pb2.RequestSpec.FromString(bytes(row.spec))
        stopping.submit(scheduling.Build(instance_id, spec, row.auth_token))
    assert asked.wait(10)
    threading.Timer(0.2, released.set).start()
    stopping.close()  # the running build finishes; the queued one is let go

    assert apis.selected() == [first]
    assert list(rows()) == [queued]
    assert apis.alive.builds.adopt() == [queued]
    assert apis.alive.builds.wait_idle(10)
    assert apis.selected() == [first, queued]
    assert rows() == {}


def test_a_placed_build_its_host_never_took_is_handed_to_the_scheduler_again(apis):
    # The scheduler answered, but its cast never reached the host (it was killed with
    # the cast in its send buffer): the instance stays SCHEDULING on its host.
    apis.scheduler.place = place_on_fake_host
    server = apis.create_on_alive()
    assert apis.alive.builds.wait_idle(10)
    assert apis.selected() == [server.id]
    # The row and the user's token stay, held by nobody, until recast time has passed.
    row = rows()[server.id]
    assert row.auth_token == "alice"
    assert utcnow() + datetime.timedelta(seconds=5) < row.lease_until
    assert apis.alive.builds.renew() == 0
    assert apis.alive.builds.adopt() == []

    lapse(server.id)
    assert apis.alive.builds.adopt() == [server.id]
    assert apis.alive.builds.wait_idle(10)
    again = apis.scheduler.named("SelectDestinations")
    assert [c.instance_id for c in again] == [server.id, server.id]
    assert again[1].auth_token == "alice" and again[1].spec == again[0].spec
    assert list(rows()) == [server.id]  # still not taken: it will be asked for again

    # The host takes it at last: the next replica to find the row lapsed deletes it.
    Instance.update(task_state=TaskState.SPAWNING).where(Instance.id == server.id).execute()
    lapse(server.id)
    assert apis.alive.builds.adopt() == []
    assert rows() == {}
    assert len(apis.selected()) == 2


def test_a_placed_build_that_failed_meanwhile_is_not_asked_for_again(apis):
    apis.scheduler.place = place_on_fake_host
    server = apis.create_on_alive()
    assert apis.alive.builds.wait_idle(10)
    # The conductor's sweep gave up on it before the row lapsed.
    Instance.update(vm_state=VmState.ERROR, task_state=TaskState.NONE).where(
        Instance.id == server.id
    ).execute()
    lapse(server.id)
    assert apis.alive.builds.adopt() == []
    assert rows() == {}
    assert apis.selected() == [server.id]


def test_without_recasts_a_placed_build_loses_its_token_at_the_answer(apis, database_url):
    config = api_config(build_recast_seconds=0)
    apis.scheduler.place = place_on_fake_host
    with serving_component(
        COMPONENT, StaticValidator(TOKENS), database_url, config=config, endpoints=apis.endpoints
    ) as (runtime, channel):
        server = pb2_grpc.ServersStub(channel).CreateServer(
            pb2.CreateServerRequest(name="vm", flavor_id=apis.flavor_id, image_id=IMAGE),
            metadata=md("alice"),
        )
        assert runtime.state["scheduling"].wait_idle(10)
    assert apis.selected() == [server.id]
    assert rows() == {}
