"""One command's session: a token issued once, stubs to every service from its catalog.

The token is asked for on the first call that needs it (so ``--help`` and
argument mistakes never reach identity) and reused for every other call of the
command; each service's address comes from the catalog the IssueToken reply
carries. Every call has a deadline and carries the command's request id, so
the services' logs tie a command's calls together.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from components.cli import errors
from components.cli.cloud_config import Credentials
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
    ) -> None:
        self._load_credentials = load_credentials
        self.timeout = timeout
        self.wait_timeout = wait_timeout
        self.request_id = f"req-cli-{uuid.uuid4()}"
        self._credentials: Credentials | None = None
        self._login: identity_pb2.IssueTokenResponse | None = None
        self._channels: dict[str, grpc.Channel] = {}

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            self._credentials = self._load_credentials()
        return self._credentials

    @property
    def login(self) -> identity_pb2.IssueTokenResponse:
        """The IssueToken reply: token, user, project, roles and catalog (asked for once)."""
        if self._login is None:
            self._login = self._issue_token()
        return self._login

    def client(self, service: str, stub_class: type) -> Client:
        """A client of ``service`` ("api", "image", ...) at its catalog address."""
        address = self.credentials.auth_url if service == "identity" else self._address(service)
        return Client(self, stub_class(self._channel(address)), service, address)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return ((TOKEN_HEADER, self.login.token), (REQUEST_ID_HEADER, self.request_id))

    def invoke(self, client: Client, method: str, callable_, request, timeout: float | None):
        timeout = timeout or self.timeout
        metadata = self.metadata()
        started = time.perf_counter()
        try:
            reply = callable_(request, metadata=metadata, timeout=timeout)
        except grpc.RpcError as exc:
            raise self._failure(exc, client, method, timeout) from None
        finally:
            log.debug(
                "%s %s %.0f ms", client.service, method, (time.perf_counter() - started) * 1000
            )
        if isinstance(callable_, grpc.UnaryStreamMultiCallable):
            return self._stream(reply, client, method, timeout)
        return reply

    def _stream(self, replies, client: Client, method: str, timeout: float) -> Iterator[Any]:
        try:
            yield from replies
        except grpc.RpcError as exc:
            raise self._failure(exc, client, method, timeout) from None
        finally:
            replies.cancel()

    @staticmethod
    def _failure(exc: grpc.RpcError, client: Client, method: str, timeout: float):
        return errors.from_rpc_error(
            exc, service=client.service, method=method, address=client.address, timeout=timeout
        )

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def _channel(self, address: str) -> grpc.Channel:
        if address not in self._channels:
            self._channels[address] = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        return self._channels[address]

    def _address(self, service: str) -> str:
        region = self.credentials.region_name
        entries = {entry.type: entry for entry in self.login.catalog}
        entry = entries.get(service)
        if entry is None or not entry.endpoints:
            known = ", ".join(sorted(entries)) or "nothing"
            raise errors.CliError(f"The catalog has no {service} service (it lists {known})")
        for endpoint in entry.endpoints:
            if not region or endpoint.region == region:
                return endpoint.address
        raise errors.CliError(f"The catalog has no {service} endpoint in region '{region}'")

    def _issue_token(self) -> identity_pb2.IssueTokenResponse:
        creds = self.credentials
        stub = identity_grpc.IdentityStub(self._channel(creds.auth_url))
        request = identity_pb2.IssueTokenRequest(
            username=creds.username,
            password=creds.password,
            project_name=creds.project_name,
            domain_name=creds.domain_name,
        )
        try:
            return stub.IssueToken(
                request,
                metadata=((REQUEST_ID_HEADER, self.request_id),),
                timeout=self.timeout,
            )
        except grpc.RpcError as exc:
            raise _login_failure(exc, creds, self.timeout) from None


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
            f"Cannot reach the identity service at {creds.auth_url} (OS_AUTH_URL): {error.details}"
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
