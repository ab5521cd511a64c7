"""The certificate authority of one run-all, and a key and certificate per component.

``make run-all`` makes one authority under ``<data_dir>/pki/`` (a later run
with the same data dir reuses it while it stays valid for more than a day) and,
before starting each component instance, issues it a fresh leaf certificate:

    pki/ca.pem              the authority's certificate (what every peer trusts)
    pki/ca-key.pem          the authority's private key
    pki/<instance>.pem      e.g. api-2.pem, compute-1.pem, scheduler.pem
    pki/<instance>-key.pem

The directory is 0700 and every file 0600, written whole (a temporary file
created 0600, then renamed). Keys are EC P-256. A leaf names its instance (CN)
and, as DNS names, its service type, its instance and ``localhost``: a client
of a replica set checks the name of the service type (gRPC's
``ssl_target_name_override``), not of the replica it reached. A leaf is valid
for serverAuth and, unless told otherwise, clientAuth, so the same pair serves
mutual TLS in both directions.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import logging
import os
import re
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

CA_LIFETIME = datetime.timedelta(days=365)
LEAF_LIFETIME = datetime.timedelta(days=30)
# A stored authority is reused only while it stays valid for longer than this.
CA_MIN_REMAINING = datetime.timedelta(days=1)
# Certificates start a little in the past, so a peer whose clock lags accepts them.
CLOCK_SKEW = datetime.timedelta(minutes=5)
SERVICE_UNIT = "service"
LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"
# An instance name becomes a file name, and must not be one of the authority's.
_INSTANCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_RESERVED = {CA_CERT.removesuffix(".pem"), CA_KEY.removesuffix(".pem")}


@dataclasses.dataclass(frozen=True)
class Issued:
    """The files of one instance's certificate and key."""

    instance: str
    cert_file: Path
    key_file: Path


@dataclasses.dataclass(frozen=True)
class Authority:
    """A run's certificate authority, kept as ``ca.pem`` and ``ca-key.pem`` in ``pki_dir``."""

    pki_dir: Path
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey = dataclasses.field(repr=False)

    @property
    def ca_file(self) -> Path:
        return self.pki_dir / CA_CERT

    @classmethod
    def load_or_create(cls, pki_dir: Path, name: str = "Stratus run CA") -> Authority:
        """The authority stored in ``pki_dir`` if it is whole and valid for more than a day;
        otherwise a new one (replacing whatever was there)."""
        _private_dir(pki_dir)
        stored = _load(pki_dir)
        if stored is not None:
            log.info("reusing certificate authority %s", pki_dir / CA_CERT)
            return stored
        return cls.create(pki_dir, name)

    @classmethod
    def create(
        cls,
        pki_dir: Path,
        name: str = "Stratus run CA",
        valid_for: datetime.timedelta = CA_LIFETIME,
    ) -> Authority:
        """A new self-signed authority, written to ``pki_dir`` over any previous one."""
        _private_dir(pki_dir)
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + valid_for)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        _write(pki_dir / CA_KEY, _key_pem(key))
        _write(pki_dir / CA_CERT, certificate.public_bytes(serialization.Encoding.PEM))
        log.info(
            "created certificate authority %s, valid until %s", pki_dir / CA_CERT, now + valid_for
        )
        return cls(pki_dir, certificate, key)

    def issue(
        self, instance: str, service_type: str, addresses: list[str], client: bool = True
    ) -> Issued:
        """A new key and certificate for ``instance`` (``api-2``) of ``service_type`` (``api``).

        Every entry of ``addresses`` that is an IP literal (``10.0.0.5``,
        ``[fd00::5]``) is named in the certificate, as are 127.0.0.1 and ::1;
        host names are not (clients check the service type's name). With
        ``client=False`` the certificate serves only the server side of TLS.
        """
        if not _INSTANCE.fullmatch(instance) or instance in _RESERVED:
            raise ValueError(f"instance name {instance!r} cannot name a certificate file")
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        usages = [ExtendedKeyUsageOID.SERVER_AUTH]
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SERVICE_UNIT),
                x509.NameAttribute(NameOID.COMMON_NAME, instance),
            ]
        )
        ca_key_id = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(min(now + LEAF_LIFETIME, self.certificate.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(_alternative_names(instance, service_type, addresses), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id.value),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        issued = Issued(
            instance, self.pki_dir / f"{instance}.pem", self.pki_dir / f"{instance}-key.pem"
        )
        _write(issued.key_file, _key_pem(key))
        _write(issued.cert_file, certificate.public_bytes(serialization.Encoding.PEM))
        return issued


def _alternative_names(
    instance: str, service_type: str, addresses: list[str]
) -> x509.SubjectAlternativeName:
    names = dict.fromkeys([service_type, instance, "localhost"])
    ips = dict.fromkeys([*filter(None, map(_ip_literal, addresses)), *LOOPBACK])
    return x509.SubjectAlternativeName(
        [*(x509.DNSName(n) for n in names), *(x509.IPAddress(ip) for ip in ips)]
    )


def _ip_literal(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _load(pki_dir: Path) -> Authority | None:
    """The stored authority, or None if it is missing, damaged or about to expire."""
    try:
        certificate = x509.load_pem_x509_certificate((pki_dir / CA_CERT).read_bytes())
        key = serialization.load_pem_private_key((pki_dir / CA_KEY).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        if (pki_dir / CA_CERT).exists() or (pki_dir / CA_KEY).exists():
            log.warning(
                "certificate authority in %s is unusable (%s); making a new one", pki_dir, exc
            )
        return None
    now = _now()
    usable = (
        isinstance(key, ec.EllipticCurvePrivateKey)
        and key.public_key() == certificate.public_key()
        and certificate.not_valid_before_utc <= now
        and certificate.not_valid_after_utc - now > CA_MIN_REMAINING
    )
    if not usable:
        log.info("certificate authority in %s expires soon or does not match its key", pki_dir)
        return None
    return Authority(pki_dir, certificate, key)


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def _write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old file or the new one, both 0600."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)  # whatever the umask
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
