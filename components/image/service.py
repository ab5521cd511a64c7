"""The Images servicer: requests in, one domain call, replies out."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc

from components.framework import InvalidArgument, StratusError, caller
from components.image import images, messages
from components.image.transfers import ImageData
from stratus.image.v1 import image_service_pb2 as pb2
from stratus.image.v1 import image_service_pb2_grpc as pb2_grpc

# How long after the last chunk a cancellation may still be reported.
CANCEL_GRACE_SECONDS = 0.1


class UploadInterrupted(StratusError):
    """The client cancelled the upload, or its stream broke, before closing it."""

    code = grpc.StatusCode.CANCELLED
    reason = "UPLOAD_INTERRUPTED"


class _UploadStream:
    """The messages of one UploadImage call: its header, its chunks, and how it ended.

    gRPC Python can end the request iterator of a call the client cancelled
    as if the client had closed it, reporting the cancellation a moment
    later. Committing then would store a truncated image as ACTIVE, so the
    end of a stream only counts once the cancellation had time to arrive.
    """

    def __init__(self, requests: Iterator[pb2.UploadImageRequest], context) -> None:
        self._requests = requests
        self._context = context
        self._terminated = threading.Event()
        if not context.add_callback(self._terminated.set):
            self._terminated.set()
        self._ended_at = 0.0

    def header(self) -> pb2.UploadImageHeader:
        try:
            first = next(self._requests, None)
        except grpc.RpcError:
            raise UploadInterrupted("the upload stream broke before its header") from None
        if first is None or first.WhichOneof("payload") != "header":
            raise InvalidArgument(
                "the first message of an upload must be its header", field="header"
            )
        return first.header

    def chunks(self) -> Iterator[bytes]:
        try:
            for request in self._requests:
                if request.WhichOneof("payload") != "chunk":
                    raise InvalidArgument(
                        "every message after the header must carry a chunk", field="chunk"
                    )
                yield request.chunk
        except grpc.RpcError:
            raise UploadInterrupted("the client cancelled the upload or its stream broke") from None
        self._ended_at = time.monotonic()

    def confirm_end(self) -> None:
        """Raises UploadInterrupted unless the client closed the stream on purpose."""
        left = CANCEL_GRACE_SECONDS - (time.monotonic() - self._ended_at)
        if self._terminated.wait(max(left, 0.0)) or not self._context.is_active():
            raise UploadInterrupted("the upload stream ended without the client closing it")


class ImagesServicer(pb2_grpc.ImagesServicer):
    def __init__(self, data: ImageData) -> None:
        self.data = data

    def CreateImage(self, request, context):
        fields = messages.new_image(request)
        return messages.image(images.create(caller(), fields))

    def GetImage(self, request, context):
        return messages.image(images.get(caller(), request.image_id))

    def ListImages(self, request, context):
        rows, token = images.list_images(
            caller(),
            request.page_size,
            request.page_token,
            name=request.name,
            status=messages.status_filter(request.status),
            visibility=messages.visibility_filter(request.visibility),
        )
        return pb2.ListImagesResponse(
            images=[messages.image(row) for row in rows], next_page_token=token
        )

    def UpdateImage(self, request, context):
        row = images.update(
            caller(),
            request.image.id,
            set(request.update_mask.paths),
            messages.changed_fields(request),
        )
        return messages.image(row)

    def DeleteImage(self, request, context):
        images.delete(caller(), request.image_id, self.data.discard)
        return pb2.DeleteImageResponse()

    def UploadImage(self, request_iterator, context):
        who = caller()
        stream = _UploadStream(request_iterator, context)
        header = stream.header()
        row = self.data.upload(
            who, messages.upload_header(header), stream.chunks(), stream.confirm_end
        )
        return messages.image(row)

    def DownloadImage(self, request, context):
        chunks = self.data.download(caller(), request.image_id, request.offset_bytes)
        for offset, chunk in chunks:
            yield pb2.DownloadImageResponse(chunk=chunk, offset_bytes=offset)

    def DeactivateImage(self, request, context):
        row = images.deactivate(caller(), request.image_id)
        return pb2.DeactivateImageResponse(image=messages.image(row))

    def ReactivateImage(self, request, context):
        row = images.reactivate(caller(), request.image_id)
        return pb2.ReactivateImageResponse(image=messages.image(row))
