"""run-all's certificate authority: the files it writes, what a leaf names, and mutual TLS
between a real gRPC server and clients with and without the right certificate."""

from __future__ import annotations

import datetime
import ipaddress
import stat
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from components.supervisor.pki import Authority, Issued

CALL_TIMEOUT = 5.0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture
def authority(tmp_path) -> Authority:
    return Authority.load_or_create(tmp_path / "pki")


def test_files_are_private_and_the_directory_is_0700(authority):
    issued = authority.issue("api-2", "api", ["127.0.0.1"])
    assert mode(authority.pki_dir) == 0o700
    assert authority.ca_file == authority.pki_dir / "ca.pem"
    assert issued.cert_file == authority.pki_dir / "api-2.pem"
    assert issued.key_file == authority.pki_dir / "api-2-key.pem"
    names = sorted(p.name for p in authority.pki_dir.iterdir())
    assert names == ["api-2-key.pem", "api-2.pem", "ca-key.pem", "ca.pem"]  # no temporaries
    assert {oct(mode(authority.pki_dir / n)) for n in names} == {oct(0o600)}


def test_the_authority_is_a_self_signed_ca(authority):
    ca = load(authority.ca_file)
    ca.verify_directly_issued_by(ca)
    assert ca.subject.rfc4514_string() == "CN=Stratus run CA"
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    lifetime = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert datetime.timedelta(days=364) < lifetime < datetime.timedelta(days=366)


def test_a_leaf_is_issued_by_the_ca_and_names_its_instance_and_service(authority):
    issued = authority.issue("api-2", "api", ["10.0.0.5", "[fd00::5]", "api.example", "0.0.0.0"])
    leaf, ca = load(issued.cert_file), load(authority.ca_file)
    leaf.verify_directly_issued_by(ca)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "api-2"
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == (
        "service"
    )
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["api", "api-2", "localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address(a) for a in ("10.0.0.5", "fd00::5", "0.0.0.0", "127.0.0.1", "::1")
    ]
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    key_id = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_id = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert key_id.key_identifier == ca_id.digest
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert datetime.timedelta(days=29) < lifetime < datetime.timedelta(days=31)
    key = serialization.load_pem_private_key(issued.key_file.read_bytes(), password=None)
    assert key.public_key() == leaf.public_key()


def test_a_server_only_leaf_is_not_for_clients(authority):
    leaf = load(authority.issue("scheduler", "scheduler", [], client=False).cert_file)
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["scheduler", "localhost"]


def test_issuing_again_replaces_the_key_and_certificate(authority):
    first = authority.issue("compute-1", "compute", ["10.0.0.7"])
    first_cert = first.cert_file.read_bytes()
    second = authority.issue("compute-1", "compute", ["10.0.0.8"])
    assert second == first
    assert second.cert_file.read_bytes() != first_cert
    names = load(second.cert_file).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert ipaddress.ip_address("10.0.0.8") in names.value.get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address("10.0.0.7") not in names.value.get_values_for_type(x509.IPAddress)


@pytest.mark.parametrize("instance", ["ca", "ca-key", "", "../api-1", "api/1", ".hidden"])
def test_an_instance_name_that_cannot_be_a_file_name_is_refused(authority, instance):
    with pytest.raises(ValueError, match="cannot name a certificate file"):
        authority.issue(instance, "api", [])


def test_a_later_run_reuses_the_stored_authority(authority):
    again = Authority.load_or_create(authority.pki_dir)
    assert again.certificate == authority.certificate
    assert again.ca_file.read_bytes() == authority.ca_file.read_bytes()
    # A leaf issued by the reloaded authority verifies against the original certificate.
    load(again.issue("api-1", "api", []).cert_file).verify_directly_issued_by(authority.certificate)


def test_an_authority_about_to_expire_is_replaced(tmp_path):
    short = Authority.create(tmp_path, valid_for=datetime.timedelta(hours=12))
    fresh = Authority.load_or_create(tmp_path)
    assert fresh.certificate != short.certificate
    assert load(fresh.ca_file) == fresh.certificate


def test_a_damaged_authority_is_replaced(tmp_path):
    original = Authority.load_or_create(tmp_path)
    (tmp_path / "ca-key.pem").write_bytes(b"not a key")
    fresh = Authority.load_or_create(tmp_path)
    assert fresh.certificate != original.certificate
    assert mode(tmp_path / "ca-key.pem") == 0o600


def test_a_leaf_never_outlives_its_authority(tmp_path):
    short = Authority.create(tmp_path, valid_for=datetime.timedelta(days=3))
    leaf = load(short.issue("api-1", "api", []).cert_file)
    assert leaf.not_valid_after_utc == short.certificate.not_valid_after_utc


# Mutual TLS through a real gRPC server: what run-all's components will do.


@pytest.fixture
def health_server(authority):
    """A health service on 127.0.0.1 that requires a client certificate from ``authority``."""
    issued = authority.issue("api-1", "api", ["127.0.0.1"])
    credentials = grpc.ssl_server_credentials(
        [(issued.key_file.read_bytes(), issued.cert_file.read_bytes())],
        root_certificates=authority.ca_file.read_bytes(),
        require_client_auth=True,
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    yield port
    server.stop(None).wait()


def check(
    port: int,
    ca: Authority,
    client: Issued | None,
    target: str = "127.0.0.1",
    override: str | None = None,
) -> health_pb2.HealthCheckResponse:
    key_cert = (client.key_file.read_bytes(), client.cert_file.read_bytes()) if client else ()
    credentials = grpc.ssl_channel_credentials(ca.ca_file.read_bytes(), *key_cert)
    options = [("grpc.ssl_target_name_override", override)] if override else []
    with grpc.secure_channel(f"{target}:{port}", credentials, options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return stub.Check(health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT)


def test_a_client_with_a_certificate_from_the_authority_is_served(authority, health_server):
    client = authority.issue("scheduler", "scheduler", [])
    reply = check(health_server, authority, client)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert check(health_server, authority, client, target="localhost").status == reply.status


def test_a_client_names_the_service_type_not_the_replica(authority, health_server):
    client = authority.issue("conductor", "conductor", [])
    reply = check(health_server, authority, client, override="api")
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_a_client_expecting_another_service_refuses_the_server(authority, health_server):
    client = authority.issue("conductor", "conductor", [])
    with pytest.raises(grpc.RpcError) as refused:
        check(health_server, authority, client, override="compute")
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_client_without_a_certificate_is_refused(authority, health_server):
    with pytest.raises(grpc.RpcError) as refused:
        check(health_server, authority, None)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_client_certified_by_another_authority_is_refused(authority, health_server, tmp_path):
    # Same name, its own key: only the signature tells the two authorities apart.
    other = Authority.load_or_create(tmp_path / "other-pki")
    stranger = other.issue("scheduler", "scheduler", [])
    # The stranger trusts our authority, so the refusal is the server's.
    with pytest.raises(grpc.RpcError) as refused:
        check(health_server, authority, stranger)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_server_only_certificate_is_refused_as_a_client(authority, health_server):
    server_only = authority.issue("scheduler", "scheduler", [], client=False)
    with pytest.raises(grpc.RpcError) as refused:
        check(health_server, authority, server_only)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
