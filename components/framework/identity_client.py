"""The framework's side of identity: token validation, the service token, the catalog."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from pathlib import Path

import grpc

from components.framework import auth, errors, targets, tls
from components.framework.clients import Clients, ServiceToken
from components.framework.config import Config
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc

log = logging.getLogger(__name__)

CATALOG_TTL_SECONDS = 60.0
# Keystone's endpoint interfaces; an endpoint of an older identity has none: public.
INTERFACES = ("public", "internal", "admin")
# Between attempts to (re)open the revocation watch: doubling from min to max.
WATCH_BACKOFF_MIN_SECONDS = 0.1
WATCH_BACKOFF_MAX_SECONDS = 5.0
# Keepalive pings notice an identity that vanished without closing the stream.
WATCH_CHANNEL_OPTIONS = (("grpc.keepalive_time_ms", 30_000), ("grpc.keepalive_timeout_ms", 10_000))


def secret_path(data_dir: str | Path, user: str) -> Path:
    """Where bootstrap writes a service user's password (mode 0600)."""
    return Path(data_dir) / "secrets" / f"{user}.password"


def caller_from(reply, token: str) -> auth.Caller:
    """The :class:`Caller` described by an IssueToken or ValidateToken reply."""
    return auth.Caller(
        user_id=reply.user.id,
        user_name=reply.user.name,
        project_id=reply.project.id,
        project_name=reply.project.name,
        roles=frozenset(role.name for role in reply.roles),
        token=token,
        expires_time=reply.expires_time.ToDatetime(),
        domain_id=reply.user.domain_id or "default",
        audit_id=reply.audit_id,
        project_domain_id=reply.project.domain_id,
    )


class IdentityValidator:
    """Validates a user's token by asking identity, with this component's service token."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    def watch_revocations(self, sink: auth.RevocationSink) -> RevocationWatcher:
        """Follow identity's revocations into ``sink`` (a background thread, started)."""
        return RevocationWatcher(self.clients, sink).start()

    def validate(self, token: str) -> auth.Caller:
        for attempt in (1, 2):
            stub = self.clients.stub(identity_grpc.IdentityStub, "identity", as_service=True)
            try:
                reply = stub.ValidateToken(identity_pb2.ValidateTokenRequest(subject_token=token))
                return caller_from(reply, token)
            except grpc.RpcError as exc:
                error = errors.from_rpc_error(exc)
                if isinstance(error, errors.NotFound):
                    # The contract: an invalid, expired or revoked subject token is NOT_FOUND.
                    raise errors.Unauthenticated(
                        "the x-auth-token is not valid (expired, revoked or malformed)",
                        reason="TOKEN_INVALID",
                    ) from None
                if isinstance(error, errors.Unauthenticated) and attempt == 1:
                    # Our own service token went stale (identity keys rotated): renew once.
                    if self.clients.service_token is not None:
                        self.clients.service_token.invalidate()
                    continue
                if isinstance(error, errors.StratusError) and error.code in (
                    grpc.StatusCode.UNAVAILABLE,
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                ):
                    raise errors.Unavailable("the identity service cannot be reached") from None
                raise error from None
        raise errors.Unavailable("this component cannot authenticate to identity")


class RevocationWatcher:
    """One daemon thread following identity's WatchRevocations stream into a token cache.

    It reconnects with a bounded backoff, resuming where it left off (identity
    replays what was missed, or says reset). It never keeps the process from
    exiting (daemon, and stopped at exit); ``stop`` ends it promptly.
    """

    def __init__(self, clients: Clients, sink: auth.RevocationSink) -> None:
        self.clients = clients
        self.sink = sink
        # Set while a stream is open and has answered (tests and logs look at it).
        self.connected = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._call = None
        self._channel: grpc.Channel | None = None
        self._resume = ""
        self._thread = threading.Thread(target=self._run, name="revocation-watcher", daemon=True)

    def start(self) -> RevocationWatcher:
        atexit.register(self.stop)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        with self._lock:
            self._stopped.set()
            if self._call is not None:
                self._call.cancel()
            if self._channel is not None:
                self._channel.close()
                self._channel = None
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        atexit.unregister(self.stop)

    def _open(self):
        """A new stream from the resume point, or None once stopped."""
        token = self.clients.service_token.get() if self.clients.service_token else ""
        with self._lock:
            if self._stopped.is_set():
                return None
            if self._channel is None:
                self._channel = tls.channel(
                    self.clients.address("identity"),
                    self.clients.tls,
                    WATCH_CHANNEL_OPTIONS,
                    server_name="identity",
                )
            stub = identity_grpc.IdentityStub(self._channel)
            self._call = stub.WatchRevocations(
                identity_pb2.WatchRevocationsRequest(resume_token=self._resume),
                metadata=((auth.TOKEN_HEADER, token),) if token else (),
            )
            return self._call

    def _follow(self, call) -> None:
        for reply in call:
            if reply.reset:
                self.sink.reset()
            for event in reply.events:
                self.sink.revoke(
                    auth.Revoked(event.audit_id, event.user_id, event.project_id, event.domain_id)
                )
            self._resume = reply.resume_token
            self.connected.set()

    def _run(self) -> None:
        delay, reported = WATCH_BACKOFF_MIN_SECONDS, False
        while not self._stopped.is_set():
            try:
                call = self._open()
                if call is None:
                    return
                self._follow(call)
                problem = "the stream ended"
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                    log.warning("identity offers no WatchRevocations; tokens live their cache time")
                    return
                problem = exc.code().name
                if exc.code() == grpc.StatusCode.UNAUTHENTICATED and self.clients.service_token:
                    self.clients.service_token.invalidate()  # keys rotated: a new one next time
            except Exception as exc:  # no service token yet, identity down: retry all the same
                problem = str(exc)
            if self.connected.is_set():
                self.connected.clear()
                delay, reported = WATCH_BACKOFF_MIN_SECONDS, False
            if not reported and not self._stopped.is_set():
                log.info("revocation watch down (%s); cached tokens live their cache time", problem)
                reported = True
            self._stopped.wait(delay)
            delay = min(delay * 2, WATCH_BACKOFF_MAX_SECONDS)


class CatalogResolver:
    """Service type → gRPC target: explicit config first, then the identity catalog (cached).

    ``interface`` says who asks: "internal" (a component: the type's internal
    endpoints in this region if it has any, else its public ones) or "public"
    (users, the CLI: public ones only). Several addresses (replicas) make one
    target, "ipv4:a:p,b:p", for a channel that spreads calls over them; one
    address is the target as it is ("host:port").
    """

    def __init__(self, config: Config, interface: str = "internal") -> None:
        if interface not in INTERFACES:
            raise ValueError(f"interface {interface!r} is not one of {', '.join(INTERFACES)}")
        self.config = config
        self.interface = interface
        self.clients: Clients | None = None
        self._catalog: dict[str, list[str]] = {}
        self._fetched = 0.0
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    def __call__(self, service_type: str) -> str:
        if service_type == "identity" and service_type not in self.config.endpoints:
            return self.config.identity_address
        addresses = self.addresses(service_type)
        target = targets.grpc_target(addresses)
        if target is None:
            with self._lock:
                if service_type not in self._warned:
                    self._warned.add(service_type)
                    log.warning(
                        "%s has addresses %s, not all IP addresses of one family: "
                        "calls go to %s alone",
                        service_type,
                        ", ".join(addresses),
                        addresses[0],
                    )
            return addresses[0]
        return target

    def addresses(self, service_type: str) -> list[str]:
        """Every address ``service_type`` is reached at ("host:port"), at least one."""
        if service_type in self.config.endpoints:
            return split_addresses(self.config.endpoints[service_type])
        if service_type == "identity":
            return [self.config.identity_address]
        with self._lock:
            if service_type not in self._catalog or self._stale():
                self._refresh()
            addresses = self._catalog.get(service_type)
        if not addresses:
            raise errors.Unavailable(f"no {service_type!r} service in the identity catalog")
        return list(addresses)

    def _stale(self) -> bool:
        return time.monotonic() - self._fetched > CATALOG_TTL_SECONDS

    def _refresh(self) -> None:
        assert self.clients is not None
        stub = self.clients.stub(identity_grpc.IdentityStub, "identity", as_service=True)
        try:
            reply = stub.GetCatalog(identity_pb2.GetCatalogRequest())
        except grpc.RpcError as exc:
            raise errors.from_rpc_error(exc) from None
        self._catalog = {entry.type: self._pick(entry) for entry in reply.catalog}
        self._fetched = time.monotonic()

    def _pick(self, entry: identity_pb2.CatalogEntry) -> list[str]:
        """The addresses of ``entry`` in this region, of the first interface that has any."""
        by_interface: dict[str, list[str]] = {}
        for endpoint in entry.endpoints:
            if not endpoint.region or endpoint.region == self.config.region:
                found = by_interface.setdefault(endpoint.interface or "public", [])
                if endpoint.address not in found:
                    found.append(endpoint.address)
        for interface in dict.fromkeys((self.interface, "public")):
            if by_interface.get(interface):
                return by_interface[interface]
        return []


def split_addresses(setting: str) -> list[str]:
    """The addresses of one endpoints setting: "host:port", or replicas "a:p|b:p"."""
    return [item.strip() for item in setting.split("|") if item.strip()] or [setting]


def service_token_for(config: Config, security: tls.Tls | None = None) -> ServiceToken:
    """The component's service token: its service user, scoped to the service project."""
    user = config.service_user or config.component

    def issue():
        password = config.service_password
        if not password:
            path = secret_path(config.data_dir, user)
            try:
                password = path.read_text().strip()
            except FileNotFoundError:
                raise errors.Unavailable(
                    f"no password for service user {user!r}: set STRATUS_SERVICE_PASSWORD "
                    f"or run identity bootstrap (expected {path})"
                ) from None
        if not channel:
            channel.append(tls.channel(config.identity_address, security, server_name="identity"))
        stub = identity_grpc.IdentityStub(channel[0])
        try:
            reply = stub.IssueToken(
                identity_pb2.IssueTokenRequest(
                    username=user, password=password, project_name=config.service_project
                ),
                timeout=config.call_timeout_seconds,
            )
        except grpc.RpcError as exc:
            raise errors.from_rpc_error(exc) from None
        return reply.token, float(reply.expires_time.seconds)

    channel: list[grpc.Channel] = []
    return ServiceToken(issue)


def clients_for(config: Config) -> Clients:
    """The clients of a component: catalog lookup and its service token."""
    resolver = CatalogResolver(config, interface="internal")
    security = tls.Tls.of(config)
    clients = Clients(
        resolver, service_token_for(config, security), config.call_timeout_seconds, security
    )
    resolver.clients = clients
    return clients
