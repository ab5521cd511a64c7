"""A client stream (UploadImage) sent through a synchronous gRPC call in a thread.

grpc.aio loses a server's early answer to a client stream: when the server ends
the call (say INVALID_ARGUMENT after the first chunk) while the client is still
writing, the failed write replaces the server's status with INTERNAL "Internal
error from Core" (grpc/grpc#36066). The synchronous client reports the server's
status as it is, so the dashboard sends client streams with it: the call runs in
a thread of its own, fed message by message from the event loop through a small
queue (so at most ``DEPTH`` messages are held: an upload is never buffered
whole), and ends as soon as the server has answered.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import grpc

# Messages held between the event loop and the sending thread (1 MiB chunks: 4 MiB).
DEPTH = 4
# How often a full queue is looked at again (the server may have answered meanwhile).
POLL_SECONDS = 0.005
# Client streams sent at once; a further one waits for a thread.
THREADS = 16
_END = object()
_POOL = concurrent.futures.ThreadPoolExecutor(THREADS, thread_name_prefix="client-stream")


async def send(
    method: Callable[..., grpc.Future], messages: AsyncIterator[Any], **call: Any
) -> Any:
    """``method.future(requests, **call)``'s answer, the requests read from ``messages``.

    Raises the call's grpc.RpcError as the server answered it. If reading
    ``messages`` fails (the browser went away) or this coroutine is cancelled, the
    call is cancelled and the error goes on.
    """
    feed: queue.Queue = queue.Queue(maxsize=DEPTH)
    future = method.future(_requests(feed), **call)
    answer = asyncio.get_running_loop().run_in_executor(_POOL, future.result)
    try:
        async for message in messages:
            if not await _put(feed, message, future):
                break  # answered already: the rest is not wanted
        await _put(feed, _END, future)
    except BaseException:
        future.cancel()
        await asyncio.gather(answer, return_exceptions=True)
        raise
    finally:
        # A sending thread waiting for more (the call ended early) is let go; a full
        # queue means nobody waits on it.
        with contextlib.suppress(queue.Full):
            feed.put_nowait(_END)
    return await answer


async def _put(feed: queue.Queue, item: Any, future: grpc.Future) -> bool:
    """Queue ``item`` for the sending thread; False if the call ended first."""
    while not future.done():
        try:
            feed.put_nowait(item)
            return True
        except queue.Full:
            await asyncio.sleep(POLL_SECONDS)
    return False


def _requests(feed: queue.Queue) -> Iterator[Any]:
    while (item := feed.get()) is not _END:
        yield item
