"""Handing recorded builds to the scheduler after CreateServer has answered.

nova-api records the instance and hands ``schedule_and_build_instances`` to
the conductor through a durable message queue, without waiting; here the
build is written as a BuildRequest row in the transaction that records the
instance, and a small pool of worker threads in the api process calls
Scheduler/SelectDestinations for it, so CreateServer answers in SCHEDULING
whatever the scheduler's latency.

A failure puts the instance in ERROR with a fault, as it would have had the
call been made before answering; "no valid host" and "no reachable host" are
recorded by the scheduler itself. A build whose instance was deleted (or
failed by the conductor's sweep) meanwhile is left as it is. Once the
scheduler's answer is recorded, whatever it was, the row (and the user's
token in it) is deleted.

Every replica holds a lease on the builds it took (CreateServer's, or ones it
adopted) and renews it every build_request_poll_seconds while they wait or
run. If the replica dies, its leases lapse after build_request_lease_seconds
and another replica adopts the builds: it takes each row with a
compare-and-swap on lease_until (one replica wins) and queues it in its own
pool. A build may so reach the scheduler twice (its first replica died
mid-call); the scheduler answers a repeated request with the placement it
made, casting the build again while the instance still waits for its host.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from google.rpc import code_pb2

from components.compute_db import lifecycle
from components.compute_db.models import BuildRequest, Instance
from components.compute_db.states import TaskState
from components.framework import (
    Clients,
    DeadlineExceeded,
    NotFound,
    ResourceExhausted,
    Retry,
    StratusError,
    Unavailable,
    call,
    transactions,
    utcnow,
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
# Leases renewed by one statement.
RENEW_CHUNK = 500


@dataclasses.dataclass(frozen=True)
class Build:
    """What the scheduler needs for one recorded instance."""

    instance_id: str
    spec: scheduler_pb2.RequestSpec
    # The user's token, for the host to act with (the call itself is the api's).
    auth_token: str = dataclasses.field(repr=False)


def record(build: Build, lease_seconds: float) -> None:
    """Write ``build``'s BuildRequest, held by this replica for ``lease_seconds``.

    Called inside the transaction that records the instance, so the build
    exists exactly when the instance does.
    """
    BuildRequest.create(
        instance=build.instance_id,
        spec=build.spec.SerializeToString(),
        # Kept only until the build is handed to the scheduler (forget() deletes it).
        auth_token=build.auth_token,
        lease_until=utcnow() + datetime.timedelta(seconds=lease_seconds),
    )


def forget(instance_id: str) -> None:
    """Delete the build's row, and the user's token with it: the build has an outcome."""
    transactions.run(
        lambda: BuildRequest.delete().where(BuildRequest.instance == instance_id).execute()
    )


def schedule(clients: Clients, build: Build, retry: Retry | None = None) -> None:
    """Ask the scheduler to place ``build``; record a fault on the instance if it cannot.

    While the scheduler is unreachable the call is made again within ``retry``'s
    budget: a repeat is harmless, as the scheduler answers a repeated request
    with the placement it made. Once the answer is recorded the build's row is
    deleted; if recording it fails (the database), the row stays for a replica
    to adopt once its lease lapses.
    """
    _hand_over(clients, build, retry)
    forget(build.instance_id)


def _hand_over(clients: Clients, build: Build, retry: Retry | None) -> None:
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


def _lease_from_now(seconds: float) -> datetime.datetime:
    return utcnow() + datetime.timedelta(seconds=seconds)


def _take(row: BuildRequest, until: datetime.datetime) -> bool:
    """Whether this replica took ``row``: a compare-and-swap on the lease it was read with."""

    def write() -> int:
        return (
            BuildRequest.update(lease_until=until, update_time=utcnow())
            .where((BuildRequest.id == row.id) & (BuildRequest.lease_until == row.lease_until))
            .execute()
        )

    return transactions.run(write) == 1


def _still_scheduling(instance_id: str) -> bool:
    instance = Instance.get_or_none(Instance.id == instance_id)
    return (
        instance is not None
        and instance.deleted_time is None
        and instance.task_state == TaskState.SCHEDULING
    )


class Scheduling:
    """A bounded pool of workers running :func:`schedule` after CreateServer answered,
    holding a lease on each build it has, and adopting builds whose lease lapsed."""

    def __init__(
        self,
        clients: Clients,
        retry_seconds: float = 20.0,
        lease_seconds: float = 10.0,
        workers: int = WORKERS,
        backlog: int = BACKLOG,
    ) -> None:
        self.clients = clients
        self.retry = Retry(budget_seconds=retry_seconds)
        self.lease_seconds = lease_seconds
        self.backlog = backlog
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="api-schedule")
        self._room = threading.BoundedSemaphore(backlog)
        # The instance ids of the builds queued or running here (their leases are ours).
        self._held: set[str] = set()
        self._idle = threading.Condition()

    def submit(self, build: Build) -> None:
        """Queue ``build``; waits only while BACKLOG builds are already queued."""
        self._room.acquire()
        with self._idle:
            self._held.add(build.instance_id)
        # The request id (and so the logs' and the scheduler call's) comes along.
        context = contextvars.copy_context()
        try:
            self._pool.submit(context.run, self._run, build)
        except RuntimeError:  # closed: the process is stopping
            log.warning(
                "instance %s left for another replica: the api is stopping", build.instance_id
            )
            self._done(build)

    def _run(self, build: Build) -> None:
        try:
            schedule(self.clients, build, self.retry)
        except Exception:
            # Most likely the database: the row stays, and its lease lapses.
            log.exception("scheduling instance %s failed", build.instance_id)
        finally:
            self._done(build)

    def _done(self, build: Build) -> None:
        self._room.release()
        with self._idle:
            self._held.discard(build.instance_id)
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Whether every queued build was handed over within ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._held, timeout)

    def tick(self) -> None:
        """Renew the leases of the builds held here, then adopt lapsed ones (periodic)."""
        self.renew()
        self.adopt()

    def renew(self) -> int:
        """Extend the lease of every build held here; the number of rows renewed."""
        with self._idle:
            held = sorted(self._held)
        until = _lease_from_now(self.lease_seconds)
        renewed = 0
        for start in range(0, len(held), RENEW_CHUNK):
            chunk = held[start : start + RENEW_CHUNK]
            renewed += transactions.run(
                lambda chunk=chunk: (
                    BuildRequest.update(lease_until=until, update_time=utcnow())
                    .where(BuildRequest.instance.in_(chunk))
                    .execute()
                )
            )
        return renewed

    def adopt(self) -> list[str]:
        """Take the builds whose lease has lapsed (their replica died) and queue them here,
        as many as there is room for; the instance ids taken."""
        with self._idle:
            room = self.backlog - len(self._held)
            held = set(self._held)
        if room <= 0:
            return []
        lapsed = (
            BuildRequest.select()
            .where(BuildRequest.lease_until <= utcnow())
            .order_by(BuildRequest.create_time)
            .limit(room)
        )
        taken = []
        for row in list(lapsed):
            if row.instance_id in held or not _take(row, _lease_from_now(self.lease_seconds)):
                continue  # ours (renewed next time), or another replica's now
            if not _still_scheduling(row.instance_id):
                forget(row.instance_id)  # deleted, or failed by the sweep: nothing to build
                continue
            spec = scheduler_pb2.RequestSpec.FromString(bytes(row.spec))
            log.info("adopting the build of instance %s: its api's lease lapsed", row.instance_id)
            self.submit(Build(row.instance_id, spec, row.auth_token))
            taken.append(row.instance_id)
        return taken

    def close(self) -> None:
        """Let running calls finish; queued builds are left for another replica, at once."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._idle:
            left = sorted(self._held)
        if not left:
            return
        try:
            transactions.run(
                lambda: (
                    BuildRequest.update(lease_until=utcnow())
                    .where(BuildRequest.instance.in_(left))
                    .execute()
                )
            )
        except Exception:
            log.exception("%d queued builds wait for their leases to lapse", len(left))
