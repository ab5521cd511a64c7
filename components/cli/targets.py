"""Where the CLI sends a service's calls: from catalog endpoints to a gRPC channel.

The CLI uses a service's public endpoints (Keystone's interfaces: "public" for
users, "internal" for Stratus's components, "admin"; an older identity leaves
the interface empty, which is public) in the cloud's region, or else in the
region the first public endpoint names. Several of them are replicas: one
channel calls them round-robin. Over TLS a single address is verified by the
IP name in its certificate; replicas by the service type every replica's
certificate carries as a DNS name.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable

import grpc

from components.cli import errors
from components.cli.cloud_config import Credentials
from components.framework import ROUND_ROBIN, grpc_target
from stratus.identity.v1 import identity_service_pb2 as identity_pb2

log = logging.getLogger(__name__)

# The catalog's interfaces a user's client may use ("" is an older identity's public).
PUBLIC_INTERFACES = ("", "public")


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a service is reached: one address, or its replicas as one round-robin target."""

    service: str
    addresses: tuple[str, ...]

    @classmethod
    def of(cls, service: str, addresses: list[str]) -> Target:
        """Replicas at IP addresses of one family; replicas with host names (which gRPC
        cannot list in one target) are reached at the first."""
        if grpc_target(addresses) is None:
            log.debug(
                "%s: replicas %s are not all IP addresses: using the first", service, addresses
            )
            addresses = addresses[:1]
        return cls(service, tuple(addresses))

    @property
    def replicated(self) -> bool:
        return len(self.addresses) > 1

    @property
    def uri(self) -> str:
        """What gRPC is given: ``host:port``, or ``ipv4:a:p,b:p`` for replicas."""
        return grpc_target(list(self.addresses))

    def __str__(self) -> str:
        return ", ".join(self.addresses)


def choose(catalog: Iterable[identity_pb2.CatalogEntry], service: str, region: str) -> Target:
    """The public endpoints of ``service`` in ``region`` (empty: the first public one's)."""
    entries = {entry.type: entry for entry in catalog}
    entry = entries.get(service)
    if entry is None or not entry.endpoints:
        known = ", ".join(sorted(entries)) or "nothing"
        raise errors.CliError(f"The catalog has no {service} service (it lists {known})")
    public = [e for e in entry.endpoints if e.interface in PUBLIC_INTERFACES]
    if not public:
        listed = ", ".join(sorted({e.interface for e in entry.endpoints}))
        raise errors.CliError(
            f"The catalog has no public endpoint of the {service} service (only {listed})"
        )
    region = region or public[0].region
    addresses = [e.address for e in public if e.region == region]
    if not addresses:
        raise errors.CliError(f"The catalog has no {service} endpoint in region '{region}'")
    return Target.of(service, list(dict.fromkeys(addresses)))


def channel(
    target: Target, credentials: grpc.ChannelCredentials | None, options: tuple = ()
) -> grpc.Channel:
    """A channel to ``target``: TLS with ``credentials``, else plaintext; replicas round-robin."""
    if target.replicated:
        options += (("grpc.service_config", ROUND_ROBIN),)
    if credentials is None:
        return grpc.insecure_channel(target.uri, options=options)
    if target.replicated:
        # One name for every replica: each one's certificate carries its service type.
        options += (("grpc.ssl_target_name_override", target.service),)
    return grpc.secure_channel(target.uri, credentials, options=options)


def tls_hint(error: errors.RemoteError, creds: Credentials) -> str:
    """What to check when a connection failed for TLS's sake ("" when that is unlikely)."""
    if error.code != grpc.StatusCode.UNAVAILABLE:
        return ""
    details = error.details.lower()
    if not creds.tls:
        if "socket closed" in details or "connection reset" in details:
            return (
                " (if it speaks TLS, give the CA that signed its certificate with --os-cacert "
                "or OS_CACERT)"
            )
        return ""
    if "wrong_version_number" in details:
        return " (it does not speak TLS: is the address right, or is --os-cacert not wanted?)"
    if not creds.cert and ("socket closed" in details or "certificate_required" in details):
        # TLS 1.3: a server that demands a client certificate just closes the connection.
        return " (if it asks for a client certificate, give one with --os-cert and --os-key)"
    if any(word in details for word in ("handshake", "certificate", "verification")):
        return (
            f" (its certificate is not signed by a CA in {creds.cacert}, or does not name "
            "the address it was reached at)"
        )
    return ""
