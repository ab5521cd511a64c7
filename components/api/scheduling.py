"""Handing recorded builds to the scheduler after CreateServer has answered.

nova-api records the instance and hands ``schedule_and_build_instances`` to
the conductor without waiting; here a small pool of worker threads in the api
process calls Scheduler/SelectDestinations for each recorded build, so
CreateServer answers in SCHEDULING whatever the scheduler's latency.

A failure puts the instance in ERROR with a fault, as it would have had the
call been made before answering; "no valid host" and "no reachable host" are
recorded by the scheduler itself. A build whose instance was deleted (or
failed by the conductor's sweep) meanwhile is left as it is.

A build is not stored anywhere but in this queue: if the api process dies
between answering and scheduling, the instance stays SCHEDULING without a
host, and the conductor's sweep fails it after build_start_timeout_seconds
(components/conductor/sweep.py), releasing its claim.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from google.rpc import code_pb2

from components.compute_db import lifecycle
from components.framework import (
    Clients,
    DeadlineExceeded,
    NotFound,
    ResourceExhausted,
    Retry,
    StratusError,
    Unavailable,
    call,
)
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as scheduler_grpc

log = logging.getLogger(__name__)

# Builds scheduled at once (each is one SelectDestinations call).
WORKERS = 4
# Builds recorded but not yet handed over; past this, CreateServer waits for room.
BACKLOG = 1000
# The scheduler's reasons for failures it has recorded on the instance itself.
RECORDED_BY_SCHEDULER = frozenset({"NO_VALID_HOST", "NO_REACHABLE_HOST"})


@dataclasses.dataclass(frozen=True)
class Build:
    """What the scheduler needs for one recorded instance."""

    instance_id: str
    spec: scheduler_pb2.RequestSpec
    # The user's token, for the host to act with (the call itself is the api's).
    auth_token: str


def schedule(clients: Clients, build: Build, retry: Retry | None = None) -> None:
    """Ask the scheduler to place ``build``; record a fault on the instance if it cannot.

    While the scheduler is unreachable the call is made again within ``retry``'s
    budget: a repeat is harmless, as the scheduler places an instance only while
    it is SCHEDULING with no claim (a second call answers INSTANCE_NOT_SCHEDULING).
    """
    request = scheduler_pb2.SelectDestinationsRequest(
        instance_id=build.instance_id, spec=build.spec, auth_token=build.auth_token
    )
    try:
        # Resolving the scheduler's address may fail too (Unavailable).
        stub = clients.stub(scheduler_grpc.SchedulerStub, "scheduler", as_service=True)
        call(stub.SelectDestinations, request, retry=retry)
    except StratusError as exc:
        if isinstance(exc, NotFound) or exc.reason == "INSTANCE_NOT_SCHEDULING":
            # Deleted, or failed by the sweep, while it waited: nothing left to build.
            log.info("instance %s was not scheduled: %s", build.instance_id, exc.message)
            return
        if isinstance(exc, ResourceExhausted) or exc.reason in RECORDED_BY_SCHEDULER:
            return  # the scheduler has put the instance in ERROR with its fault
        log.warning("scheduling %s failed: %s %s", build.instance_id, exc.reason, exc.message)
        unreachable = isinstance(exc, Unavailable | DeadlineExceeded)
        lifecycle.set_error(
            build.instance_id,
            code_pb2.Code.Value(exc.code.name),
            "The scheduler could not be reached; the server was not built."
            if unreachable
            else "The scheduler refused the server; it was not built.",
            exc.message,
        )


class Scheduling:
    """A bounded pool of workers running :func:`schedule` after CreateServer answered."""

    def __init__(
        self,
        clients: Clients,
        retry_seconds: float = 20.0,
        workers: int = WORKERS,
        backlog: int = BACKLOG,
    ) -> None:
        self.clients = clients
        self.retry = Retry(budget_seconds=retry_seconds)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="api-schedule")
        self._room = threading.BoundedSemaphore(backlog)
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, build: Build) -> None:
        """Queue ``build``; waits only while BACKLOG builds are already queued."""
        self._room.acquire()
        with self._idle:
            self._pending += 1
        # The request id (and so the logs' and the scheduler call's) comes along.
        context = contextvars.copy_context()
        try:
            self._pool.submit(context.run, self._run, build)
        except RuntimeError:  # closed: the process is stopping
            log.warning("instance %s left for the sweep: the api is stopping", build.instance_id)
            self._done()

    def _run(self, build: Build) -> None:
        try:
            schedule(self.clients, build, self.retry)
        except Exception:
            # Most likely the database: the sweep fails the build if nobody else does.
            log.exception("scheduling instance %s failed", build.instance_id)
        finally:
            self._done()

    def _done(self) -> None:
        self._room.release()
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Whether every queued build was handed over within ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Let running calls finish; queued builds are left for the sweep."""
        self._pool.shutdown(wait=True, cancel_futures=True)
