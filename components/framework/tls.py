"""TLS on every gRPC connection, mutual between components.

A component with ``tls_ca_file``, ``tls_cert_file`` and ``tls_key_file`` set
presents its certificate on every port it listens on, and every channel it
opens verifies the peer against the CA and presents the same certificate as a
client certificate.

gRPC for Python either demands a client certificate or does not ask for one;
it cannot ask for an optional one. So a component that serves users as well
as services listens twice, as Keystone's catalog has ``public`` and
``internal`` interfaces: the public port (TLS; users need no certificate, their
token authorises them) and the internal port (mutual TLS: only a peer with a
certificate from the run's CA gets in). A component only services call
(conductor, compute) has the internal kind of port alone.

A token with the ``service`` role is accepted only on a connection whose peer
presented a verified certificate naming that service
(:func:`service_certificate_problem`), so a stolen service token alone is not
enough.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from components.framework.errors import InvalidArgument

if TYPE_CHECKING:
    from components.framework.config import Config

log = logging.getLogger(__name__)

# The internal port of a component serving users too, unless ``internal_port`` says:
# its public port plus this.
INTERNAL_PORT_STEP = 1000


@dataclasses.dataclass(frozen=True)
class Tls:
    """A CA to verify peers with and, for a component, its own key and certificate."""

    ca: bytes
    cert: bytes = b""
    key: bytes = b""

    @classmethod
    def from_files(cls, ca_file: str, cert_file: str = "", key_file: str = "") -> Tls:
        if bool(cert_file) != bool(key_file):
            raise InvalidArgument("tls_cert_file and tls_key_file go together: set both or neither")
        return cls(
            ca=_read(ca_file, "tls_ca_file"),
            cert=_read(cert_file, "tls_cert_file") if cert_file else b"",
            key=_read(key_file, "tls_key_file") if key_file else b"",
        )

    @classmethod
    def of(cls, config: Config) -> Tls | None:
        """The component's TLS settings, or None when it runs without TLS."""
        if not (config.tls_ca_file or config.tls_cert_file or config.tls_key_file):
            return None
        if not (config.tls_ca_file and config.tls_cert_file and config.tls_key_file):
            raise InvalidArgument(
                "TLS needs tls_ca_file, tls_cert_file and tls_key_file together "
                "(the CA verifies peers; the certificate is presented to them)"
            )
        return cls.from_files(config.tls_ca_file, config.tls_cert_file, config.tls_key_file)

    def server_credentials(self, require_client_certificate: bool) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.key, self.cert)],
            root_certificates=self.ca,
            require_client_auth=require_client_certificate,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """Verify the server against the CA; present our certificate when we have one."""
        return grpc.ssl_channel_credentials(self.ca, self.key or None, self.cert or None)


def _read(path: str, setting: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidArgument(f"{setting} {path!r} cannot be read: {exc.strerror}") from None


def channel(target: str, tls: Tls | None, options=(), server_name: str = "") -> grpc.Channel:
    """A channel to ``target``: over TLS when ``tls`` is given, else plaintext.

    ``server_name`` is the name the server's certificate must carry when the target
    lists several addresses (each replica's certificate names its service type)."""
    if tls is None:
        return grpc.insecure_channel(target, options=options)
    options = tuple(options)
    if server_name:
        options += (("grpc.ssl_target_name_override", server_name),)
    return grpc.secure_channel(target, tls.channel_credentials(), options=options)


def service_name(package: str) -> str:
    """The service type a proto package belongs to: ``stratus.compute.v1`` → ``compute``.

    Every certificate of a component carries its service type as a DNS name."""
    parts = package.split(".")
    return parts[1] if len(parts) > 2 else parts[0]


def peer_verified(context: grpc.ServicerContext) -> bool:
    """Whether the caller presented a certificate the server verified against its CA."""
    try:
        return bool(context.auth_context().get("x509_pem_cert"))
    except (AttributeError, ValueError):
        return False


def peer_names(context: grpc.ServicerContext) -> frozenset[str]:
    """The DNS names of the caller's verified certificate (its service type, its instance);
    empty without one."""
    if not peer_verified(context):
        return frozenset()
    return frozenset(name.decode() for name in context.auth_context().get("peer_dns", ()))


def service_certificate_problem(user_name: str, context: grpc.ServicerContext) -> str:
    """Why a service token of ``user_name`` is not accepted from this peer, or "".

    The peer must have shown a certificate of the run's CA that names the service the
    token belongs to: a stolen service token is of no use without that service's key,
    and one service's key does not lend another service's token its rights."""
    names = peer_names(context)
    if not names:
        return (
            "a service token is accepted only from a peer with a service certificate "
            "(mutual TLS, on the component's internal endpoint)"
        )
    if user_name not in names:
        return (
            f"the service token of {user_name!r} came with a certificate of "
            f"{', '.join(sorted(names))}: each service calls with its own certificate"
        )
    return ""


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (where plaintext stays on this machine)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listening(config: Config, tls: Tls | None) -> None:
    """Refuse plaintext on a non-loopback address unless ``allow_insecure`` is set."""
    if tls is not None or is_loopback(config.host):
        return
    if not config.allow_insecure:
        raise InvalidArgument(
            f"refusing to listen on {config.host} without TLS: set tls_ca_file, tls_cert_file "
            "and tls_key_file, or allow_insecure = true to send tokens in clear"
        )
    log.warning(
        "listening on %s WITHOUT TLS (allow_insecure = true): tokens cross the network in clear",
        config.host,
    )
