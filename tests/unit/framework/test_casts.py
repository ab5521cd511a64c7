import threading
import time

import grpc
import pytest

from components.framework import auth
from components.framework.casts import CastFailed, CastReceiver, CastSender, KeyedExecutor
from components.framework.server import Service
from stratus.compute.v1 import compute_service_pb2 as pb2
from stratus.compute.v1 import compute_service_pb2_grpc as pb2_grpc
from stratus.type.v1 import cast_pb2
from tests.harness import StaticValidator, caller, metadata, serving

POLICY = auth.Policy({"/stratus.compute.v1.Compute/Casts": auth.service_or_admin})
VALIDATOR = StaticValidator({"svc": caller(["service"], token="svc")})


class Recorder(pb2_grpc.ComputeServicer):
    """Receives casts and records the instance ids in the order they are handled."""

    def __init__(self, expected: int):
        self.seen: list[str] = []
        self.done = threading.Event()
        self.expected = expected
        # One key for every message: handled strictly in arrival order.
        self.receiver = CastReceiver(
            {"build_and_run_instance": self.build}, key=lambda payload: "one"
        )

    def build(self, context, payload):
        self.seen.append(payload.instance_id)
        if len(self.seen) == self.expected:
            self.done.set()

    def Casts(self, request_iterator, context):
        return pb2.CastsSummary(received=self.receiver.receive(request_iterator))


def sender_for(channels: dict[str, grpc.Channel]) -> CastSender:
    def open_call(address, requests):
        stub = pb2_grpc.ComputeStub(channels[address])
        return stub.Casts.future(requests, metadata=metadata("svc"))

    def ready(address, timeout):
        try:
            grpc.channel_ready_future(channels[address]).result(timeout=timeout)
            return True
        except grpc.FutureTimeoutError:
            return False

    return CastSender(open_call, ready, connect_timeout=1.0, send_timeout=2.0)


def cast(i: int) -> pb2.ComputeCast:
    return pb2.ComputeCast(
        context=cast_pb2.CastContext(request_id=f"req-{i}"),
        build_and_run_instance=pb2.BuildAndRunInstance(instance_id=str(i)),
    )


def test_ten_thousand_casts_on_one_stream_all_arrive_in_order():
    count = 10_000
    recorder = Recorder(count)
    service = Service.of(recorder, pb2, pb2_grpc, "Compute")
    with serving([service], POLICY, VALIDATOR) as (channel, _):
        sender = sender_for({"host": channel})
        for i in range(count):
            sender.send("host", cast(i), wait=(i % 100 == 0))
        summaries = sender.close()
        assert recorder.done.wait(30)
    assert summaries["host"].received == count
    assert recorder.seen == [str(i) for i in range(count)]


def test_sender_learns_when_the_receiver_dies():
    recorder = Recorder(1)
    service = Service.of(recorder, pb2, pb2_grpc, "Compute")
    with serving([service], POLICY, VALIDATOR) as (_, port):
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        sender = sender_for({"host": channel})
        sender.send("host", cast(0))
        assert recorder.done.wait(5)
        assert not sender.broken("host")
    # The receiver is gone (its server stopped) while the stream was open.
    deadline = time.monotonic() + 5
    while not sender.broken("host") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sender.broken("host")
    with pytest.raises(CastFailed):
        sender.send("host", cast(1))
    channel.close()


def test_cast_without_service_token_breaks_the_stream_with_unauthenticated():
    recorder = Recorder(1)
    service = Service.of(recorder, pb2, pb2_grpc, "Compute")
    with serving([service], POLICY, VALIDATOR) as (channel, _):
        stub = pb2_grpc.ComputeStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.Casts(iter([cast(0)]), metadata=metadata("garbage"))
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert recorder.seen == []


def test_keyed_executor_orders_per_key_and_runs_keys_in_parallel():
    executor = KeyedExecutor(max_workers=4)
    log: list[tuple[str, int]] = []
    gate = threading.Event()
    lock = threading.Lock()

    def task(key, n, wait=False):
        def run():
            if wait:
                gate.wait(5)
            with lock:
                log.append((key, n))

        return run

    executor.submit("a", task("a", 0, wait=True))
    for n in range(1, 5):
        executor.submit("a", task("a", n))
    executor.submit("b", task("b", 0))
    time.sleep(0.2)
    # "b" ran while "a" was blocked; "a" has not overtaken itself.
    assert log == [("b", 0)]
    gate.set()
    executor.shutdown(wait=True)
    assert [n for key, n in log if key == "a"] == [0, 1, 2, 3, 4]
