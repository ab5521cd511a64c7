"""Handing a placed build to its compute host: the BuildAndRunInstance cast.

One long-lived stream per host, sent with the scheduler's service token; the
user's token travels inside the cast's context so the host can reach image,
network and volume on the user's behalf.
"""

from __future__ import annotations

import dataclasses

from components.framework import CastClient, Clients
from components.scheduler.placement import Placement
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc


@dataclasses.dataclass(frozen=True)
class OnBehalfOf:
    """The user request a build serves; the token is a secret and never logged."""

    auth_token: str = dataclasses.field(repr=False)
    user_id: str
    project_id: str
    # Empty: the request id of the call being served.
    request_id: str = ""


class BuildCaster:
    def __init__(self, clients: Clients, connect_timeout: float) -> None:
        self.client = CastClient(clients, compute_grpc.ComputeStub, compute_pb2, "ComputeCast")
        # A host that is not listening must not hold the caller for long: the
        # next alternate is waiting.
        self.client.sender.connect_timeout = connect_timeout

    def build(self, address: str, instance_id: str, placement: Placement, who: OnBehalfOf):
        """Cast BuildAndRunInstance (attempt 1); CastFailed if the host's stream is broken."""
        context = self.client.context(
            auth_token=who.auth_token, user_id=who.user_id, project_id=who.project_id
        )
        if who.request_id:
            context.request_id = who.request_id
        build = compute_pb2.BuildAndRunInstance(
            instance_id=instance_id,
            claim_id=placement.claim_id,
            attempt=1,
            alternates=placement.alternates,
        )
        self.client.cast(address, context, build_and_run_instance=build)

    def close(self) -> None:
        self.client.close()
