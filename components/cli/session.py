"""One command's session: a token issued once, stubs to every service from its catalog.

The token is asked for on the first call that needs it (so ``--help`` and
argument mistakes never reach identity) and reused for every other call of the
command; each service's address comes from the catalog the IssueToken reply
carries. Every call has a deadline and carries the command's request id, so
the services' logs tie a command's calls together.

The IssueToken reply is kept in the user's token cache (see token_cache) and
reused by the next commands until shortly before it expires; a cached token a
service refuses (UNAUTHENTICATED) is dropped and the command signs in once
more. ``--debug`` logs the sign-in like any other call.

A service is reached at its public endpoints of the cloud's region (Keystone's
interfaces: the internal ones are for Stratus's components); several of them
are replicas, called round-robin through one channel. With a CA bundle in the
credentials (``--os-cacert``) every channel is TLS and verifies the service's
certificate: a single address by its IP name, replicas by the service type
each replica's certificate names.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from components.cli import cloud_config, errors, targets
from components.cli.cloud_config import Credentials
from components.cli.targets import Target
from components.cli.token_cache import TokenCache
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc

log = logging.getLogger(__name__)

TOKEN_HEADER = "x-auth-token"
REQUEST_ID_HEADER = "x-request-id"
# The largest page a List RPC gives; the CLI always pages through to the end.
PAGE_SIZE = 1000
# A whole image upload or download is one call: give it time.
TRANSFER_SECONDS = 3600.0
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
    ("grpc.max_send_message_length", 8 * 1024 * 1024),
)


class Client:
    """One service's stub whose methods send the token and request id, with a deadline.

    ``client.GetImage(request)`` returns the reply (or an iterator over a
    server stream); a failed call raises :class:`errors.RemoteError`.
    """

    def __init__(self, session: Session, stub: Any, service: str, address: str) -> None:
        self._session = session
        self._stub = stub
        self.service = service
        self.address = address

    def __getattr__(self, method: str) -> Callable[..., Any]:
        callable_ = getattr(self._stub, method)

        def call(request, *, timeout: float | None = None):
            return self._session.invoke(self, method, callable_, request, timeout)

        return call


class Session:
    """Credentials in, authenticated clients out; ``close()`` at the end of the command."""

    def __init__(
        self,
        load_credentials: Callable[[], Credentials],
        timeout: float = 30.0,
        wait_timeout: float = 600.0,
        token_cache: TokenCache | None = None,
    ) -> None:
        self._load_credentials = load_credentials
        self.timeout = timeout
        self.wait_timeout = wait_timeout
        self.token_cache = token_cache
        self.request_id = f"req-cli-{uuid.uuid4()}"
        self._credentials: Credentials | None = None
        self._login: identity_pb2.IssueTokenResponse | None = None
        self._login_cached = False
        self._channels: dict[str, grpc.Channel] = {}
        self._tls: grpc.ChannelCredentials | None = None

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            self._credentials = self._load_credentials()
        return self._credentials

    @property
    def login(self) -> identity_pb2.IssueTokenResponse:
        """The IssueToken reply: token, user, project, roles and catalog (asked for once).

        From the token cache when it holds a good one; otherwise issued, then cached.
        """
        if self._login is None:
            cached = self.token_cache.load(self.credentials) if self.token_cache else None
            if cached is not None:
                log.debug("identity token from the cache, expires %s", _expires(cached))
                self._login, self._login_cached = cached, True
            else:
                self._login, self._login_cached = self._issue_token(), False
                if self.token_cache is not None:
                    self.token_cache.store(self.credentials, self._login)
        return self._login

    def forget_token(self, token: str | None = None) -> bool:
        """Drop this cloud and user's cached token (only if it is ``token``, when given).

        ``token revoke`` calls it so that the next command signs in again; True
        if a cached token was removed.
        """
        if self.token_cache is None:
            return False
        return self.token_cache.remove(self.credentials, token)

    def _sign_in_again(self, error: errors.RemoteError) -> bool:
        """A cached token was refused: drop it and issue a new one (once). False if not.

        Raises :class:`CloudChanged` when the new token names another user or project
        id: the cloud at this address was made anew since the token was cached, and
        what the command already resolved from the old token is stale.
        """
        if error.code != grpc.StatusCode.UNAUTHENTICATED or not self._login_cached:
            return False
        log.debug("the cached token was refused (%s): signing in again", error.details)
        stale = self._login
        self.forget_token()
        self._login = None
        self._login_cached = False
        if self.token_cache is not None:
            self._login = self._issue_token()
            self.token_cache.store(self.credentials, self._login)
            if stale is not None and _scope(stale) != _scope(self._login):
                raise CloudChanged(self.credentials.auth_url)
        return True

    def client(self, service: str, stub_class: type) -> Client:
        """A client of ``service`` ("api", "image", ...) at its public catalog endpoints."""
        target = self._identity() if service == "identity" else self._target(service)
        return Client(self, stub_class(self._channel(target)), service, str(target))

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return ((TOKEN_HEADER, self.login.token), (REQUEST_ID_HEADER, self.request_id))

    def invoke(self, client: Client, method: str, callable_, request, timeout: float | None):
        timeout = timeout or self.timeout
        if isinstance(callable_, grpc.UnaryStreamMultiCallable):
            return self._stream(client, method, callable_, request, timeout)
        try:
            return self._call(client, method, callable_, request, timeout)
        except errors.RemoteError as exc:
            # A request stream (an upload) has been read: it cannot be sent again.
            if isinstance(callable_, grpc.StreamUnaryMultiCallable) or not self._sign_in_again(exc):
                raise
        return self._call(client, method, callable_, request, timeout)

    def _call(self, client: Client, method: str, callable_, request, timeout: float):
        metadata = self.metadata()
        started = time.perf_counter()
        try:
            return callable_(request, metadata=metadata, timeout=timeout)
        except grpc.RpcError as exc:
            raise self._failure(exc, client, method, timeout) from None
        finally:
            log.debug(
                "%s %s %.0f ms", client.service, method, (time.perf_counter() - started) * 1000
            )

    def _stream(self, client: Client, method: str, callable_, request, timeout: float):
        """A server stream's replies; a cached token refused before the first is replaced."""
        for attempt in (1, 2):
            replies = self._call(client, method, callable_, request, timeout)
            started = False
            try:
                for reply in replies:
                    started = True
                    yield reply
                return
            except grpc.RpcError as exc:
                failure = self._failure(exc, client, method, timeout)
                if attempt == 2 or started or not self._sign_in_again(failure):
                    raise failure from None
            finally:
                replies.cancel()

    def _failure(self, exc: grpc.RpcError, client: Client, method: str, timeout: float):
        error = errors.from_rpc_error(
            exc, service=client.service, method=method, address=client.address, timeout=timeout
        )
        hint = targets.tls_hint(error, self.credentials)
        if not hint:
            return error
        return errors.RemoteError(
            error.code,
            error.details + hint,
            reason=error.reason,
            service=error.service,
            method=error.method,
            address=error.address,
            timeout=error.timeout,
        )

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def _channel(self, target: Target) -> grpc.Channel:
        """One channel per target: plaintext, or TLS when the credentials name a CA."""
        if target.uri not in self._channels:
            self._channels[target.uri] = targets.channel(
                target, self._channel_credentials(), CHANNEL_OPTIONS
            )
        return self._channels[target.uri]

    def _channel_credentials(self) -> grpc.ChannelCredentials | None:
        """The CA to verify services with and our client certificate, read once."""
        if self._tls is None and self.credentials.tls:
            files = cloud_config.read_tls(self.credentials)
            self._tls = grpc.ssl_channel_credentials(files.ca, files.key, files.cert)
        return self._tls

    def _identity(self) -> Target:
        return Target("identity", (self.credentials.auth_url,))

    def _target(self, service: str) -> Target:
        """The public endpoints of ``service`` in the cloud's region (else the first listed)."""
        return targets.choose(self.login.catalog, service, self.credentials.region_name)

    def _issue_token(self) -> identity_pb2.IssueTokenResponse:
        creds = self.credentials
        stub = identity_grpc.IdentityStub(self._channel(self._identity()))
        request = identity_pb2.IssueTokenRequest(
            username=creds.username,
            password=creds.password,
            project_name=creds.project_name,
            domain_name=creds.domain_name,
        )
        started = time.perf_counter()
        try:
            return stub.IssueToken(
                request,
                metadata=((REQUEST_ID_HEADER, self.request_id),),
                timeout=self.timeout,
            )
        except grpc.RpcError as exc:
            raise _login_failure(exc, creds, self.timeout) from None
        finally:
            log.debug(
                "identity IssueToken %.0f ms (sign-in; the catalog comes with the token)",
                (time.perf_counter() - started) * 1000,
            )


class CloudChanged(Exception):
    """The cloud at the auth URL is not the one the cached token came from (its user or
    project ids differ). Nothing was done with the refused token, so the command is
    run again from the start with the new one."""


def _scope(login: identity_pb2.IssueTokenResponse) -> tuple[str, str]:
    return login.user.id, login.project.id


def _expires(login: identity_pb2.IssueTokenResponse) -> str:
    return login.expires_time.ToDatetime().isoformat(timespec="seconds") + "Z"


def _login_failure(exc: grpc.RpcError, creds: Credentials, timeout: float) -> errors.CliError:
    """IssueToken's errors in the words of the mistake that usually causes them."""
    error = errors.from_rpc_error(
        exc, service="identity", method="IssueToken", address=creds.auth_url, timeout=timeout
    )
    who = f"user '{creds.username}' (domain '{creds.domain_name}')"
    if error.code == grpc.StatusCode.UNAUTHENTICATED:
        return errors.CliError(
            f"Authentication failed for {who} at {creds.auth_url}: wrong user name or "
            "password, or the account is locked or disabled"
        )
    if error.code == grpc.StatusCode.PERMISSION_DENIED:
        return errors.CliError(
            f"{who[0].upper()}{who[1:]} cannot use project '{creds.project_name}': "
            "it does not exist, is disabled, or the user holds no role on it"
        )
    if error.code == grpc.StatusCode.UNAVAILABLE:
        return errors.CliError(
            f"Cannot reach the identity service at {creds.auth_url} (OS_AUTH_URL): "
            f"{error.details}{targets.tls_hint(error, creds)}"
        )
    return error


def every(method: Callable[..., Any], request, field: str) -> Iterator[Any]:
    """Every item of a List RPC, page after page (``field`` is the repeated field)."""
    page = type(request)()
    page.CopyFrom(request)
    page.page_size = PAGE_SIZE
    while True:
        reply = method(page)
        yield from getattr(reply, field)
        if not reply.next_page_token:
            return
        page.page_token = reply.next_page_token
