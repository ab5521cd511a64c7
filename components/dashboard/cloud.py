"""The dashboard's calls to the services: the signed-in user's token on every call.

One set of gRPC channels (asyncio) serves every user: a channel goes to one
service's public endpoints (replicas round-robin, as the CLI reaches them), and
the user's token travels in each call's metadata. ``cloud.servers.ListServers``
is an awaitable call; a server stream (``WatchServer``) is an async iterator; a
client stream (``UploadImage``) takes an async iterator of requests (and is sent
by a synchronous call in a thread: client_streams.py). A failed
call raises :class:`ServiceError`, whose message says what was wrong in the
service's words and, when a service cannot be reached, which one.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from components.cli import errors, targets
from components.cli.targets import Target
from components.dashboard import client_streams
from components.framework import ROUND_ROBIN
from components.framework import tls as framework_tls
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as scheduler_grpc
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc

TOKEN_HEADER = "x-auth-token"
REQUEST_ID_HEADER = "x-request-id"
# The largest page a List RPC gives; pages are read to the end.
PAGE_SIZE = 1000
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
    ("grpc.max_send_message_length", 8 * 1024 * 1024),
)
# What views call (cloud.<name>): the service type in the catalog and the stub.
STUBS: dict[str, tuple[str, type]] = {
    "servers": ("api", api_grpc.ServersStub),
    "flavors": ("api", api_grpc.FlavorsStub),
    "quotas": ("api", api_grpc.QuotasStub),
    "keypairs": ("api", api_grpc.KeypairsStub),
    "images": ("image", image_grpc.ImagesStub),
    "network": ("network", network_grpc.NetworkStub),
    "volumes": ("volume", volume_grpc.VolumesStub),
    "hosts": ("scheduler", scheduler_grpc.SchedulerStub),
    "identity": ("identity", identity_grpc.IdentityStub),
    "projects": ("identity", identity_grpc.ProjectsStub),
    "users": ("identity", identity_grpc.UsersStub),
    "roles": ("identity", identity_grpc.RolesStub),
    "domains": ("identity", identity_grpc.DomainsStub),
}


class ServiceError(Exception):
    """A call failed; ``str(error)`` is the sentence shown to the user."""

    def __init__(
        self, message: str, code: grpc.StatusCode = grpc.StatusCode.UNKNOWN, service: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.service = service

    @property
    def signed_out(self) -> bool:
        """The token is no longer good (expired, revoked, user disabled): sign in again."""
        return self.code == grpc.StatusCode.UNAUTHENTICATED

    @classmethod
    def of(
        cls, exc: grpc.RpcError, service: str, method: str, address: str, timeout: float
    ) -> ServiceError:
        remote = errors.from_rpc_error(
            exc, service=service, method=method, address=address, timeout=timeout
        )
        return cls(remote.message, remote.code, service)


class Channels:
    """Every aio channel the dashboard has, one per target, shared by all users."""

    def __init__(self, ca_file: str = "") -> None:
        self._credentials = (
            grpc.ssl_channel_credentials(framework_tls.Tls.from_files(ca_file).ca)
            if ca_file
            else None
        )
        self._channels: dict[str, grpc.aio.Channel] = {}
        # Synchronous channels, for client streams only (client_streams.py says why).
        self._sync_channels: dict[str, grpc.Channel] = {}

    @property
    def tls(self) -> bool:
        return self._credentials is not None

    def get(self, target: Target) -> grpc.aio.Channel:
        if target.uri not in self._channels:
            options = CHANNEL_OPTIONS
            if target.replicated:
                options += (("grpc.service_config", ROUND_ROBIN),)
            if self._credentials is None:
                channel = grpc.aio.insecure_channel(target.uri, options=options)
            else:
                if target.replicated:
                    options += (("grpc.ssl_target_name_override", target.service),)
                channel = grpc.aio.secure_channel(target.uri, self._credentials, options=options)
            self._channels[target.uri] = channel
        return self._channels[target.uri]

    def sync(self, target: Target) -> grpc.Channel:
        if target.uri not in self._sync_channels:
            self._sync_channels[target.uri] = targets.channel(
                target, self._credentials, CHANNEL_OPTIONS
            )
        return self._sync_channels[target.uri]

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
        for sync_channel in self._sync_channels.values():
            sync_channel.close()
        self._sync_channels.clear()


class Cloud:
    """The services as one signed-in user reaches them (``login`` is its IssueToken reply).

    ``login`` None: only identity's public calls (sign-in) are possible.
    """

    def __init__(
        self,
        channels: Channels,
        identity_address: str,
        login: identity_pb2.IssueTokenResponse | None = None,
        region: str = "",
        timeout: float = 10.0,
    ) -> None:
        self._channels = channels
        self._identity = Target("identity", (identity_address,))
        self.login = login
        self.region = region
        self.timeout = timeout
        self.request_id = f"req-dash-{uuid.uuid4()}"

    def __getattr__(self, name: str) -> Service:
        if name not in STUBS:
            raise AttributeError(name)
        service, stub_class = STUBS[name]
        return Service(self, service, stub_class)

    def target(self, service: str) -> Target:
        if service == "identity":
            return self._identity
        if self.login is None:
            raise ServiceError("Sign in first", grpc.StatusCode.UNAUTHENTICATED, service)
        try:
            return targets.choose(self.login.catalog, service, self.region)
        except errors.CliError as exc:
            raise ServiceError(exc.message, grpc.StatusCode.UNAVAILABLE, service) from None

    def metadata(self) -> tuple[tuple[str, str], ...]:
        metadata = ((REQUEST_ID_HEADER, self.request_id),)
        if self.login is not None:
            metadata += ((TOKEN_HEADER, self.login.token),)
        return metadata

    async def every(self, method: Callable[..., Any], request, field: str) -> list:
        """Every item of a List RPC, page after page (``field`` is the repeated field)."""
        page = type(request)()
        page.CopyFrom(request)
        page.page_size = PAGE_SIZE
        items: list = []
        while True:
            reply = await method(page)
            items.extend(getattr(reply, field))
            if not reply.next_page_token:
                return items
            page.page_token = reply.next_page_token


class Service:
    """One stub of one service: its methods are async calls with the user's token."""

    def __init__(self, cloud: Cloud, service: str, stub_class: type) -> None:
        self._cloud = cloud
        self._service = service
        self._stub_class = stub_class

    def __getattr__(self, method: str) -> Callable[..., Any]:
        cloud, service = self._cloud, self._service

        def call(request, *, timeout: float | None = None):
            target = cloud.target(service)
            stub = self._stub_class(cloud._channels.get(target))
            multicallable = getattr(stub, method)
            limit = timeout or cloud.timeout
            where = (service, method, str(target), limit)
            if isinstance(multicallable, grpc.aio.StreamUnaryMultiCallable):
                sync_method = getattr(self._stub_class(cloud._channels.sync(target)), method)
                sent = client_streams.send(
                    sync_method, request, metadata=cloud.metadata(), timeout=limit
                )
                return _answer(sent, *where)
            invoked = multicallable(request, metadata=cloud.metadata(), timeout=limit)
            if isinstance(multicallable, grpc.aio.UnaryStreamMultiCallable):
                return _replies(invoked, *where)
            return _answer(invoked, *where)

        return call


async def _answer(invoked, service: str, method: str, address: str, timeout: float):
    try:
        return await invoked
    except grpc.RpcError as exc:
        raise ServiceError.of(exc, service, method, address, timeout) from None


async def _replies(
    invoked, service: str, method: str, address: str, timeout: float
) -> AsyncIterator[Any]:
    try:
        async for reply in invoked:
            yield reply
    except grpc.RpcError as exc:
        raise ServiceError.of(exc, service, method, address, timeout) from None
    finally:
        invoked.cancel()
