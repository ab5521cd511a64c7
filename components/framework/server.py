"""The gRPC server every component runs: its services, health, reflection, shutdown."""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from types import ModuleType
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from components.framework import reflection, tls
from components.framework.auth import Policy, TokenValidator
from components.framework.config import Config
from components.framework.errors import InvalidArgument
from components.framework.interceptors import ServerInterceptor

if TYPE_CHECKING:
    from components.framework.idempotency import Replies

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
SERVER_OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.so_reuseport", 0),
)


@dataclasses.dataclass(frozen=True)
class Service:
    """One proto service and the object serving it."""

    name: str
    servicer: object
    add_to_server: Callable[[object, grpc.Server], None]

    @classmethod
    def of(cls, servicer: object, pb2: ModuleType, pb2_grpc: ModuleType, short: str) -> Service:
        """``Service.of(IdentityServicer(), identity_pb2, identity_pb2_grpc, "Identity")``."""
        return cls(
            name=pb2.DESCRIPTOR.services_by_name[short].full_name,
            servicer=servicer,
            add_to_server=getattr(pb2_grpc, f"add_{short}Servicer_to_server"),
        )


class Server:
    """A started-or-not gRPC server with its health service."""

    def __init__(
        self,
        grpc_server: grpc.Server,
        port: int,
        services: Sequence[Service],
        internal_port: int = 0,
    ):
        self.grpc = grpc_server
        self.port = port
        # With TLS and users: the port of mutual TLS for services (0: none, one port).
        self.internal_port = internal_port
        self.services = services
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, grpc_server)
        self._stopped = threading.Event()

    def start(self) -> Server:
        self.grpc.start()
        for name in ["", *(s.name for s in self.services)]:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self

    def stop(self, grace: float | None = 5.0) -> None:
        """Stop accepting calls, let in-flight calls finish within ``grace`` seconds."""
        self.health.enter_graceful_shutdown()
        self.grpc.stop(grace).wait()
        self._stopped.set()

    def wait(self) -> None:
        self._stopped.wait()


def build_server(
    config: Config,
    services: Sequence[Service],
    policy: Policy,
    validator: TokenValidator | None,
    port: int | None = None,
    replies: Replies | None = None,
    serves_users: bool = True,
) -> tuple[Server, int]:
    """A server for ``services`` on ``config.host`` (``port`` 0 picks a free one).

    With ``replies`` (a component with a database), a call whose request has a
    ``request_id`` runs once and its retries get the first reply. With TLS
    configured, a component that ``serves_users`` also listens on its internal
    port (mutual TLS; ``port`` 0 picks a free one there too); one that does not
    demands a client certificate on its only port (framework/tls.py).
    """
    security = tls.Tls.of(config)
    tls.check_listening(config, security)
    mutual = security is not None
    grpc_server = grpc.server(
        futures.ThreadPoolExecutor(
            max_workers=config.max_workers, thread_name_prefix=f"{config.component}-rpc"
        ),
        interceptors=[ServerInterceptor(config.component, policy, validator, replies, mutual)],
        options=SERVER_OPTIONS,
        maximum_concurrent_rpcs=config.max_workers * 8,
    )
    for svc in services:
        svc.add_to_server(svc.servicer, grpc_server)
    names = [s.name for s in services]
    reflection.enable(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name], grpc_server
    )
    wanted = config.port if port is None else port
    if security is None:
        bound = _listen(grpc_server, config.host, wanted, None)
        return Server(grpc_server, bound, services), bound
    bound = _listen(grpc_server, config.host, wanted, security.server_credentials(not serves_users))
    internal = 0
    if serves_users:
        wanted_internal = (
            0 if port == 0 else config.internal_port or config.port + tls.INTERNAL_PORT_STEP
        )
        if wanted_internal == bound:
            raise InvalidArgument(f"internal_port {wanted_internal} is the public port")
        internal = _listen(
            grpc_server, config.host, wanted_internal, security.server_credentials(True)
        )
    return Server(grpc_server, bound, services, internal), bound


def _listen(
    grpc_server: grpc.Server, host: str, port: int, credentials: grpc.ServerCredentials | None
) -> int:
    address = f"{host}:{port}"
    if credentials is None:
        bound = grpc_server.add_insecure_port(address)
    else:
        bound = grpc_server.add_secure_port(address, credentials)
    if bound == 0:
        raise OSError(f"cannot listen on {address}")
    return bound


def serve_until_signalled(server: Server, grace: float, on_stop: Callable[[], None] | None = None):
    """Run until SIGTERM or SIGINT, then shut down gracefully."""
    done = threading.Event()

    def handle(signum, _frame):
        log.info("signal %s: shutting down (grace %.1fs)", signal.Signals(signum).name, grace)
        done.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    done.wait()
    if on_stop is not None:
        on_stop()
    server.stop(grace)
    log.info("stopped")
