"""The conductor as the compute host sees it: the host's only way to the compute database.

Unary calls (instance records, faults, heartbeats, the host's instance list)
go with the host's service token. Build failures and finished deletions are
casts on one long-lived stream to the conductor, carrying the user's context.

A conductor that restarts must not lose a build: every call but the heartbeat
(which is repeated anyway) and every cast is retried while the conductor is
unreachable, with backoff, for at most ``retry.budget_seconds``. Changes carry
a fresh ``request_id`` that the conductor replays, so a retry of a change that
was made but whose answer was lost is answered, not applied twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from google.protobuf import field_mask_pb2

from components.compute.faults import Fault
from components.framework import (
    CastClient,
    CastFailed,
    Clients,
    FailedPrecondition,
    NotFound,
    Retry,
    call,
    current_request_id,
    new_request_id,
    timestamp,
    utcnow,
)
from stratus.conductor.v1 import conductor_service_pb2 as cond_pb2
from stratus.conductor.v1 import conductor_service_pb2_grpc as cond_grpc
from stratus.type.v1 import cast_pb2, instance_pb2, instance_state_pb2

log = logging.getLogger(__name__)

Instance = cond_pb2.InstanceInfo
VmState = instance_state_pb2.VmState
TaskState = instance_state_pb2.TaskState
PowerState = instance_state_pb2.PowerState
# Reasons meaning "someone else changed the instance under us: stop".
_CHANGED = {"UNEXPECTED_TASK_STATE", "INVALID_STATE_TRANSITION"}


class InstanceChanged(Exception):
    """The instance is no longer in the state this host expected (deleted, or its task
    changed): whoever changed it now owns what happens next."""


class Conductor:
    def __init__(self, clients: Clients, host: str, retry: Retry | None = None) -> None:
        self.clients = clients
        self.host = host
        self.retry = retry or Retry()
        self.casts = CastClient(clients, cond_grpc.ConductorStub, cond_pb2, "ConductorCast")

    def _stub(self) -> cond_grpc.ConductorStub:
        return self.clients.stub(cond_grpc.ConductorStub, "conductor", as_service=True)

    def get_instance(self, instance_id: str) -> Instance:
        request = cond_pb2.GetInstanceRequest(instance_id=instance_id)
        return call(self._stub().GetInstance, request, retry=self.retry)

    def update_instance(
        self, instance_id: str, *, expected: int | None = None, **fields: object
    ) -> Instance:
        """Change ``fields`` (names are mask paths); with ``expected``, only if the task
        state is still that one. Raises InstanceChanged if it is not, or the instance is gone."""
        request = cond_pb2.UpdateInstanceRequest(
            instance_id=instance_id,
            update_mask=field_mask_pb2.FieldMask(paths=sorted(fields)),
            request_id=str(uuid.uuid4()),
            **fields,
        )
        if expected is not None:
            request.expected_task_state = expected
        try:
            return call(self._stub().UpdateInstance, request, retry=self.retry)
        except FailedPrecondition as exc:
            if exc.reason in _CHANGED:
                raise InstanceChanged(exc.message) from None
            raise
        except NotFound as exc:
            raise InstanceChanged(exc.message) from None

    def add_fault(self, instance_id: str, fault: Fault) -> None:
        request = cond_pb2.AddInstanceFaultRequest(
            instance_id=instance_id,
            code=fault.code,
            message=fault.message,
            details=fault.details,
            request_id=str(uuid.uuid4()),
        )
        call(self._stub().AddInstanceFault, request, retry=self.retry)

    def report_node(self, request: cond_pb2.ReportComputeNodeRequest):
        return call(self._stub().ReportComputeNode, request)

    def host_instances(self) -> Iterator[Instance]:
        """Every instance assigned to this host that is not deleted, oldest first."""
        token = ""
        while True:
            page = call(
                self._stub().ListHostInstances,
                cond_pb2.ListHostInstancesRequest(host=self.host, page_size=500, page_token=token),
                retry=self.retry,
            )
            yield from page.instances
            token = page.next_page_token
            if not token:
                return

    def build_failed(self, context, instance_id: str, claim_id: str, fault: Fault) -> None:
        """Cast InstanceBuildFailed: the conductor releases the claim and reschedules or
        sets ERROR. Raises CastFailed if the conductor cannot be reached."""
        failed = cond_pb2.InstanceBuildFailed(
            instance_id=instance_id,
            host=self.host,
            claim_id=claim_id,
            fault=instance_pb2.Fault(code=fault.code, message=fault.message, details=fault.details),
            retryable=fault.retryable,
        )
        self._cast(context, instance_build_failed=failed)

    def instance_deleted(self, context, instance_id: str) -> None:
        """Cast InstanceDeleted: the conductor releases the claim and marks the record deleted."""
        deleted = cond_pb2.InstanceDeleted(instance_id=instance_id, host=self.host)
        self._cast(context, instance_deleted=deleted)

    def _cast(self, context, **payload: object) -> None:
        """Cast, trying again while the conductor cannot be reached (the conductor handles
        a repeated build failure or deletion as it did the first)."""
        message_context = _context(context)
        self.retry.run(
            lambda: self.casts.cast(self.clients.address("conductor"), message_context, **payload),
            lambda exc: isinstance(exc, CastFailed),
            "cast to the conductor",
        )

    def close(self) -> None:
        self.casts.close()


def _context(context) -> cast_pb2.CastContext:
    """The CastContext to send on for the one being handled, with its own send_time."""
    onward = cast_pb2.CastContext()
    onward.CopyFrom(context)
    if not onward.request_id:
        rid = current_request_id()
        onward.request_id = rid if rid != "-" else new_request_id()
    onward.send_time.CopyFrom(timestamp(utcnow()))
    return onward
