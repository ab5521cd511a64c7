"""Throw-away certificates for the CLI's TLS tests, and a server that presents them.

Made with ``cryptography`` directly (EC P-256, valid for a day), the way the
supervisor's authority makes them: a server certificate names its service type
as a DNS name and its addresses as IP names.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import ipaddress
from collections.abc import Iterator, Sequence
from concurrent import futures
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from components.framework.server import Service


@dataclasses.dataclass(frozen=True)
class Pair:
    """A certificate and its key, as PEM files."""

    cert_file: Path
    key_file: Path

    @property
    def cert(self) -> bytes:
        return self.cert_file.read_bytes()

    @property
    def key(self) -> bytes:
        return self.key_file.read_bytes()


class Ca:
    """A certificate authority in ``directory``: ``ca.pem`` and leaves it issues."""

    def __init__(self, directory: Path, name: str = "Stratus test CA") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self._name = subject
        self._cert = (
            _builder(subject, subject, self._key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, dns: list[str] = (), ips: list[str] = ()) -> Pair:
        """A leaf for ``name`` good as server and client certificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        names = [x509.DNSName(d) for d in dns] + [
            x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips
        ]
        builder = _builder(subject, self._name, key.public_key()).add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        ).sign(self._key, hashes.SHA256())
        pair = Pair(self.directory / f"{name}.pem", self.directory / f"{name}-key.pem")
        pair.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pair.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return pair


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


@contextlib.contextmanager
def serving_tls(
    services: Sequence[Service], pair: Pair, client_ca: Path | None = None
) -> Iterator[int]:
    """``services`` on a free loopback port over TLS with ``pair``; yields the port.

    With ``client_ca`` the server demands a client certificate it signed (mutual
    TLS, as a component's internal port). No interceptor: the fakes' happy paths."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    for service in services:
        service.add_to_server(service.servicer, server)
    credentials = grpc.ssl_server_credentials(
        [(pair.key, pair.cert)],
        root_certificates=client_ca.read_bytes() if client_ca else None,
        require_client_auth=client_ca is not None,
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        yield port
    finally:
        server.stop(0)
