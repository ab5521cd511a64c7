"""Senders of casts to other components' ``Casts`` streams, by address.

``CastClient(clients, ComputeStub, compute_pb2, "ComputeCast")`` keeps one
long-lived stream per receiver (a compute host, the conductor) and sends with
the component's service token; the user's token travels inside each message's
``CastContext`` so the receiver can act for the user.
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

import grpc

from components.framework import auth
from components.framework.casts import CastSender
from components.framework.clients import Clients
from components.framework.clock import utcnow
from components.framework.convert import timestamp
from components.framework.logs import current_request_id, new_request_id
from stratus.type.v1 import cast_pb2

log = logging.getLogger(__name__)


class CastClient:
    def __init__(self, clients: Clients, stub_cls: type, pb2: ModuleType, envelope: str) -> None:
        self.clients = clients
        self.stub_cls = stub_cls
        self.pb2 = pb2
        self.envelope = getattr(pb2, envelope)
        self.sender = CastSender(self._open, self._ready)

    def _channel(self, address: str) -> grpc.Channel:
        return self.clients.channel(address, self.pb2, as_service=True)

    def _open(self, address: str, requests) -> grpc.Future:
        return self.stub_cls(self._channel(address)).Casts.future(requests)

    def _ready(self, address: str, timeout: float) -> bool:
        try:
            grpc.channel_ready_future(self._channel(address)).result(timeout=timeout)
            return True
        except grpc.FutureTimeoutError:
            return False

    def context(self, auth_token: str = "", user_id: str = "", project_id: str = ""):
        """The CastContext for a cast made while serving the current request."""
        who = auth.optional_caller()
        rid = current_request_id()
        return cast_pb2.CastContext(
            request_id=rid if rid != "-" else new_request_id(),
            auth_token=auth_token or (who.token if who else ""),
            user_id=user_id or (who.user_id if who else ""),
            project_id=project_id or (who.project_id if who else ""),
            send_time=timestamp(utcnow()),
        )

    def cast(self, address: str, context: Any, **payload: Any) -> None:
        """Send one cast (``build_and_run_instance=...``); raises CastFailed."""
        self.sender.send(address, self.envelope(context=context, **payload))

    def close(self) -> None:
        self.sender.close()
