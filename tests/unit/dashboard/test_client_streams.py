"""Client streams keep the server's own answer, even when it comes before the end.

A real gRPC server (a fake far side of the Images contract) refuses an upload
after its first message; grpc.aio would report INTERNAL there about as often as not.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent import futures

import grpc
import pytest

from components.dashboard import client_streams
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc


class Refusing(image_grpc.ImagesServicer):
    """Answers UploadImage after ``read`` messages: an image, or INVALID_ARGUMENT."""

    def __init__(self, read: int, refuse: bool) -> None:
        self.read, self.refuse = read, refuse
        self.seen = 0
        self.done = threading.Event()

    def UploadImage(self, request_iterator, context):
        try:
            for _ in request_iterator:
                self.seen += 1
                if self.seen >= self.read:
                    break
        finally:  # also when the client cancels the call
            self.done.set()
        if self.refuse:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not a qcow2 image")
        return image_pb2.Image(id="i-1", size_bytes=self.seen)


@pytest.fixture
def serve():
    servers = []

    def start(servicer) -> image_grpc.ImagesStub:
        server = grpc.server(futures.ThreadPoolExecutor(4))
        image_grpc.add_ImagesServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return image_grpc.ImagesStub(grpc.insecure_channel(f"127.0.0.1:{port}"))

    yield start
    for server in servers:
        server.stop(None)


async def chunks(count: int, size: int = 64 * 1024):
    yield image_pb2.UploadImageRequest(header=image_pb2.UploadImageHeader(image_id="i-1"))
    for _ in range(count):
        yield image_pb2.UploadImageRequest(chunk=b"x" * size)


def test_an_early_refusal_is_the_servers_own_status(serve):
    for _ in range(20):
        stub = serve(Refusing(read=1, refuse=True))
        with pytest.raises(grpc.RpcError) as refused:
            asyncio.run(client_streams.send(stub.UploadImage, chunks(200), timeout=10))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details() == "not a qcow2 image"


def test_every_message_reaches_the_server_and_its_answer_comes_back(serve):
    servicer = Refusing(read=10_000, refuse=False)
    stub = serve(servicer)
    image = asyncio.run(client_streams.send(stub.UploadImage, chunks(300), timeout=10))
    assert image.size_bytes == 301  # the header and every chunk


def test_a_failing_source_cancels_the_call(serve):
    servicer = Refusing(read=10_000, refuse=False)
    stub = serve(servicer)

    async def broken():
        yield image_pb2.UploadImageRequest(header=image_pb2.UploadImageHeader(image_id="i-1"))
        for _ in range(500):  # the server is reading the call (bounded: 5 s)
            if servicer.seen:
                break
            await asyncio.sleep(0.01)
        raise ConnectionError("the browser went away")

    with pytest.raises(ConnectionError):
        asyncio.run(client_streams.send(stub.UploadImage, broken(), timeout=10))
    assert servicer.done.wait(5), "the server's call did not end"
