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
failed by the conductor's sweep) meanwhile is left as it is. Once the build
has an outcome the row (and the user's token in it) is deleted.

A placement is not yet an outcome: the scheduler's BuildAndRunInstance cast
to the host is at most once (a scheduler killed with the cast still in its
send buffer has answered, and the cast is gone). So the row of a placed
build stays, no longer held by anyone, with its lease set recast_seconds
ahead. When it lapses, whichever replica finds it deletes it if the host
has taken the build (the instance left SCHEDULING), or otherwise hands the
build to the scheduler again, which casts it to the same host with the same
claim (a host ignores a build it has begun). This repeats until the host
takes the build or the conductor's sweep fails it.

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

import peewee
from google.rpc import code_pb2

from components.compute_db import lifecycle
from components.compute_db.models import BuildRequest, Instance
from components.compute_db.states import TaskState, VmState
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
        # Kept only until the build's host takes it (or it fails): then the row goes.
        auth_token=build.auth_token,
        lease_until=utcnow() + datetime.timedelta(seconds=lease_seconds),
    )


def forget(instance_id: str) -> None:
    """Delete the build's row, and the user's token with it: the build has an outcome."""
    transactions.run(
        lambda: BuildRequest.delete().where(BuildRequest.instance == instance_id).execute()
    )


def schedule(
    clients: Clients, build: Build, retry: Retry | None = None, recast_seconds: float = 0.0
) -> None:
    """Ask the scheduler to place ``build``; record a fault on the instance if it cannot.

    While the scheduler is unreachable the call is made again within ``retry``'s
    budget: a repeat is harmless, as the scheduler answers a repeated request
    with the placement it made. A refused build's row is deleted, as is a
    placed one's whose host has already taken it; any other placed one's is
    left to lapse ``recast_seconds`` from now (see the module's docstring),
    or deleted at once if that is 0. If recording fails (the
    database), the row stays for a replica to adopt once its lease lapses.
    """
    placed = _hand_over(clients, build, retry)
    # A host is often quicker than the scheduler's answer: then the build is over here.
    if placed and recast_seconds > 0 and _still_scheduling(build.instance_id):
        _await_host(build.instance_id, _lease_from_now(recast_seconds))
    else:
        forget(build.instance_id)


def _await_host(instance_id: str, until: datetime.datetime) -> None:
    """Leave the placed build's row to lapse at ``until`` unless its host takes it first."""
    transactions.run(
        lambda: (
            BuildRequest.update(lease_until=until, update_time=utcnow())
            .where(BuildRequest.instance == instance_id)
            .execute()
        )
    )


def _hand_over(clients: Clients, build: Build, retry: Retry | None) -> bool:
    """Whether the scheduler placed the build (otherwise it has an outcome)."""
    request = scheduler_pb2.SelectDestinationsRequest(
        instance_id=build.instance_id, spec=build.spec, auth_token=build.auth_token
    )
    try:
        # Resolving the scheduler's address may fail too (Unavailable).
        stub = clients.stub(scheduler_grpc.SchedulerStub, "scheduler", as_service=True)
        call(stub.SelectDestinations, request, retry=retry)
        return True
    except StratusError as exc:
        if isinstance(exc, NotFound) or exc.reason == "INSTANCE_NOT_SCHEDULING":
            # Deleted, or failed by the sweep, while it waited: nothing left to build.
            log.info("instance %s was not scheduled: %s", build.instance_id, exc.message)
            return False
        if isinstance(exc, ResourceExhausted) or exc.reason in RECORDED_BY_SCHEDULER:
            return False  # the scheduler has put the instance in ERROR with its fault
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
        return False


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


def _waiting() -> peewee.Expression:
    """The instances whose build waits for a host: not deleted, BUILDING, SCHEDULING."""
    return (
        Instance.deleted_time.is_null()
        & (Instance.vm_state == VmState.BUILDING)
        & (Instance.task_state == TaskState.SCHEDULING)
    )


def _still_scheduling(instance_id: str) -> bool:
    return Instance.select().where((Instance.id == instance_id) & _waiting()).exists()


def _forget_started() -> int:
    """Delete every lapsed row whose build no longer waits (its host took it, or it was
    deleted or failed): one statement; the number deleted."""
    waiting = Instance.select(Instance.id).where(_waiting())
    return transactions.run(
        lambda: (
            BuildRequest.delete()
            .where((BuildRequest.lease_until <= utcnow()) & BuildRequest.instance.not_in(waiting))
            .execute()
        )
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
        recast_seconds: float = 0.0,
    ) -> None:
        self.clients = clients
        self.retry = Retry(budget_seconds=retry_seconds)
        self.lease_seconds = lease_seconds
        self.recast_seconds = recast_seconds
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
            schedule(self.clients, build, self.retry, self.recast_seconds)
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
        """Take the builds whose lease has lapsed (their replica died, or their host has
        not taken them) and queue them here, as many as there is room for; the instance
        ids taken. Lapsed rows of builds that no longer wait are deleted first."""
        if not BuildRequest.select().where(BuildRequest.lease_until <= utcnow()).exists():
            return []  # the usual case: no write at all
        _forget_started()
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
            log.info(
                "handing the build of instance %s to the scheduler again: no host has taken it "
                "and no api replica holds it",
                row.instance_id,
            )
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
