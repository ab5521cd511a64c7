"""A request_id is handled once, by the server interceptor, for every component.

The contract (each ``request_id`` field's comment): a retry with the same
request_id and the same request returns the first successful reply without
acting again, for a day; another project's request_id is another key; the
same request_id with a different request is INVALID_ARGUMENT.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import uuid

import grpc
import pytest

from components.framework import auth, errors, idempotency
from components.framework import database as db
from components.framework.clock import utcnow
from components.framework.component import Runtime, keep_replies
from components.framework.config import Config
from components.framework.idempotency import RequestRecord
from components.framework.server import Service, build_server
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.type.v1 import cast_pb2
from stratus.volume.v1 import volume_service_pb2 as pb2
from stratus.volume.v1 import volume_service_pb2_grpc as pb2_grpc
from tests.harness import StaticValidator, caller, metadata

CREATE = "/stratus.volume.v1.Volumes/CreateVolume"
UPLOAD = "/stratus.image.v1.Images/UploadImage"
CASTS = "/stratus.compute.v1.Compute/Casts"
OPEN = auth.Policy({CREATE: auth.reader, UPLOAD: auth.reader, CASTS: auth.reader})
VALIDATOR = StaticValidator(
    {"a": caller(["member"], project_id="p-a", token="a"), "b": caller(["member"], "p-b", "b")}
)


class Volumes(pb2_grpc.VolumesServicer):
    """Each call makes a new volume id, so a replay is told from a second run."""

    def __init__(self) -> None:
        self.runs = 0

    def CreateVolume(self, request, context):
        self.runs += 1
        if request.name == "fail":
            raise errors.Unavailable("the backend is away")
        return pb2.Volume(id=str(uuid.uuid4()), name=request.name, size_gib=request.size_gib)


class Images(image_grpc.ImagesServicer):
    def __init__(self) -> None:
        self.runs = 0

    def UploadImage(self, request_iterator, context):
        self.runs += 1
        header = next(request_iterator).header
        size = sum(len(r.chunk) for r in request_iterator)
        return image_pb2.Image(id=header.image_id, name=str(uuid.uuid4()), size_bytes=size)


class Casts(compute_grpc.ComputeServicer):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def Casts(self, request_iterator, context):
        received = 0
        for cast in request_iterator:
            received += 1
            self.seen.append(cast.reboot_instance.instance_id)
        return compute_pb2.CastsSummary(received=received)


@contextlib.contextmanager
def served(replies: idempotency.Replies | None):
    volumes, images = Volumes(), Images()
    services = [
        Service.of(volumes, pb2, pb2_grpc, "Volumes"),
        Service.of(images, image_pb2, image_grpc, "Images"),
    ]
    config = Config(component="test", host="127.0.0.1", max_workers=8)
    server, port = build_server(config, services, OPEN, VALIDATOR, 0, replies)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield pb2_grpc.VolumesStub(channel), image_grpc.ImagesStub(channel), volumes, images
    finally:
        channel.close()
        server.stop(0)


@pytest.fixture
def api(database_url):
    db.connect(database_url)
    with served(idempotency.Replies()) as parts:
        yield parts


def create(stub, token="a", **fields):
    return stub.CreateVolume(pb2.CreateVolumeRequest(**fields), metadata=metadata(token))


def refusal(fn, *args, **kwargs) -> tuple[grpc.StatusCode, str, str]:
    """(code, reason, field) of the error the call answers."""
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    error = errors.from_rpc_error(info.value)
    return info.value.code(), error.reason, error.metadata.get("field", "")


@pytest.mark.database
def test_a_retry_gets_the_first_reply_and_the_servicer_runs_once(api):
    stub, _, volumes, _ = api
    first = create(stub, name="v", size_gib=1, request_id="r-1")
    again = create(stub, name="v", size_gib=1, request_id="r-1")
    assert again == first
    assert volumes.runs == 1


@pytest.mark.database
def test_the_same_request_id_from_another_project_is_not_replayed(api):
    stub, _, volumes, _ = api
    first = create(stub, "a", name="v", size_gib=1, request_id="r-1")
    other = create(stub, "b", name="v", size_gib=1, request_id="r-1")
    assert other.id != first.id
    assert volumes.runs == 2
    assert create(stub, "b", name="v", size_gib=1, request_id="r-1") == other


@pytest.mark.database
def test_the_same_request_id_with_a_different_request_is_invalid_argument(api):
    stub, _, volumes, _ = api
    create(stub, name="v", size_gib=1, request_id="r-1")
    assert refusal(create, stub, name="v", size_gib=2, request_id="r-1") == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "REQUEST_ID_REUSED",
        "request_id",
    )
    assert volumes.runs == 1


@pytest.mark.database
def test_a_request_without_request_id_runs_every_time_and_is_not_recorded(api):
    stub, _, volumes, _ = api
    first = create(stub, name="v", size_gib=1)
    again = create(stub, name="v", size_gib=1)
    assert first.id != again.id
    assert volumes.runs == 2
    assert RequestRecord.select().count() == 0


@pytest.mark.database
def test_a_failed_call_is_not_recorded_so_its_retry_runs_again(api):
    stub, _, volumes, _ = api
    for _ in range(2):
        code, _, _ = refusal(create, stub, name="fail", size_gib=1, request_id="r-1")
        assert code == grpc.StatusCode.UNAVAILABLE
    assert volumes.runs == 2
    assert RequestRecord.select().count() == 0


@pytest.mark.database
def test_a_request_id_longer_than_128_characters_is_invalid_argument(api):
    stub, _, volumes, _ = api
    code, _, field = refusal(create, stub, name="v", size_gib=1, request_id="r" * 129)
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "request_id")
    assert volumes.runs == 0


@pytest.mark.database
def test_a_client_stream_is_replayed_by_its_first_message(api):
    _, stub, _, images = api

    def upload(data: bytes, image_id: str = "i-1"):
        header = image_pb2.UploadImageHeader(image_id=image_id, request_id="r-up")
        messages = [image_pb2.UploadImageRequest(header=header)]
        messages += [image_pb2.UploadImageRequest(chunk=data)]
        return stub.UploadImage(iter(messages), metadata=metadata("a"))

    first = upload(b"12345")
    assert upload(b"other bytes") == first
    assert images.runs == 1
    code, reason, _ = refusal(upload, b"12345", "i-2")
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")


@pytest.mark.database
def test_purge_removes_replies_older_than_a_day_and_they_are_not_replayed(api):
    stub, _, volumes, _ = api
    old = create(stub, name="v", size_gib=1, request_id="r-old")
    fresh = create(stub, name="v", size_gib=1, request_id="r-fresh")
    day_ago = utcnow() - idempotency.KEEP - datetime.timedelta(minutes=1)
    RequestRecord.update(create_time=day_ago).where(RequestRecord.request_id == "r-old").execute()
    # Expired but not purged yet: already not replayed.
    assert create(stub, name="v", size_gib=1, request_id="r-old").id != old.id
    RequestRecord.update(create_time=day_ago).where(RequestRecord.request_id == "r-old").execute()
    assert idempotency.Replies().purge() == 1
    assert [r.request_id for r in RequestRecord.select()] == ["r-fresh"]
    assert create(stub, name="v", size_gib=1, request_id="r-fresh") == fresh
    assert volumes.runs == 3


@pytest.mark.database
def test_a_cast_streams_context_request_id_is_not_an_idempotency_key(database_url):
    """CastContext.request_id names the user request in the logs; every stream is handled."""
    db.connect(database_url)
    casts = Casts()
    config = Config(component="test", host="127.0.0.1", max_workers=4)
    service = Service.of(casts, compute_pb2, compute_grpc, "Compute")
    server, port = build_server(config, [service], OPEN, VALIDATOR, 0, idempotency.Replies())
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = compute_grpc.ComputeStub(channel)
            for instance in ("i-1", "i-2"):
                cast = compute_pb2.ComputeCast(
                    context=cast_pb2.CastContext(request_id="req-same"),
                    reboot_instance=compute_pb2.RebootInstance(instance_id=instance),
                )
                assert stub.Casts(iter([cast]), metadata=metadata("a")).received == 1
    finally:
        server.stop(0)
    assert casts.seen == ["i-1", "i-2"]
    assert RequestRecord.select().count() == 0


def test_without_replies_a_server_runs_every_call():
    """A test's fake (no database) serves a request_id call as any other."""
    with served(None) as (stub, _, volumes, _):
        create(stub, name="v", size_gib=1, request_id="r-1")
        create(stub, name="v", size_gib=1, request_id="r-1")
    assert volumes.runs == 2


@pytest.mark.database
def test_connect_creates_the_table_by_the_framework_migrations(database_url):
    database = db.connect(database_url)
    assert RequestRecord.table_exists()
    history = database.execute_sql("SELECT name FROM stratus_framework_migration").fetchall()
    assert sorted(row[0] for row in history) == [
        "0001_request_records",
        "0002_request_fingerprints",
    ]


@pytest.mark.database
def test_a_table_made_before_the_migrations_is_upgraded_with_its_records(database_url):
    """The table as the framework made it outside migrations: its replies still replay."""
    from playhouse.migrations import Runner

    database = db.open_database(database_url)
    db.database.initialize(database)
    first = Runner(database, str(db.FRAMEWORK_MIGRATIONS), table_name="pre_migrations")
    first.up("0001_request_records")  # the table as install() created it
    database.execute_sql("DROP TABLE pre_migrations")
    reply = pb2.Volume(id="v-1", name="kept")
    database.execute_sql(
        "INSERT INTO stratus_request_record (id, create_time, update_time, method, project_id,"
        " request_id, response) VALUES (%s, %s, %s, %s, %s, %s, %s)".replace("%s", database.param),
        ("x", utcnow(), utcnow(), CREATE, "p-a", "r-1", reply.SerializeToString()),
    )
    database.close()
    db.connect(database_url)
    with served(idempotency.Replies()) as (stub, _, volumes, _):
        assert create(stub, name="anything", size_gib=9, request_id="r-1") == reply
    assert volumes.runs == 0


@pytest.mark.database
def test_a_component_with_a_database_purges_on_a_timer(database_url, monkeypatch):
    db.connect(database_url)
    RequestRecord.create(
        method=CREATE,
        request_id="r-old",
        response=b"",
        create_time=utcnow() - idempotency.KEEP - datetime.timedelta(minutes=1),
    )
    purged = threading.Event()
    original = idempotency.Replies.purge

    def purge(self):
        gone = original(self)
        purged.set()
        return gone

    monkeypatch.setattr(idempotency.Replies, "purge", purge)
    runtime = Runtime(component=None, config=Config(component="test"), clients=None)
    keep_replies(runtime)
    try:
        assert purged.wait(30)
    finally:
        while runtime.closers:
            runtime.closers.pop()()
    assert RequestRecord.select().count() == 0


@pytest.mark.database
def test_the_framework_migrations_make_the_schema_the_model_describes(database_url, tmp_path):
    from tests.unit.test_migrations import differences, fresh, schema

    tables = [RequestRecord._meta.table_name]
    reference = db.open_database(fresh(database_url, tmp_path, "models.sqlite"))
    with reference.bind_ctx([RequestRecord]):
        reference.create_tables([RequestRecord])
    expected = schema(reference, tables)
    reference.close()
    db.connect(fresh(database_url, tmp_path, "migrated.sqlite"))
    assert differences(schema(db.database.obj, tables), expected) == []


@pytest.mark.parametrize(
    ("method", "keyed"),
    [
        (CREATE, True),
        ("/stratus.volume.v1.Volumes/GetVolume", False),
        (UPLOAD, True),
        ("/stratus.image.v1.Images/DownloadImage", False),
        (CASTS, False),
        ("/stratus.conductor.v1.Conductor/UpdateInstance", True),
        ("/no.such.Service/Call", False),
    ],
)
def test_a_method_is_keyed_when_its_request_or_upload_header_has_a_request_id(method, keyed):
    # A served method's module is loaded; the conductor's is not otherwise loaded here.
    from stratus.conductor.v1 import conductor_service_pb2  # noqa: F401

    assert idempotency.Replies().keyed(method) is keyed
