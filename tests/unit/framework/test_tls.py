"""TLS in the framework's server: a public port for users, mutual TLS for services.

Real gRPC servers with certificates from the run's authority (supervisor/pki.py);
the far side of the token contract is a fixed table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging

import grpc
import pytest

from components.framework import tls
from components.framework.config import Config
from components.framework.errors import InvalidArgument
from components.framework.server import Service, build_server
from components.scheduler.policy import POLICY
from components.supervisor.pki import Authority
from stratus.scheduler.v1 import scheduler_service_pb2 as pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as pb2_grpc
from tests.harness import StaticValidator, caller, metadata

VALIDATOR = StaticValidator(
    {
        # The api's service token (its user is the service's name) and the conductor's.
        "svc": dataclasses.replace(caller(["service"], token="svc"), user_name="api"),
        "cond": dataclasses.replace(caller(["service"], token="cond"), user_name="conductor"),
        "adm": caller(["admin"], token="adm"),
    }
)


class Scheduler(pb2_grpc.SchedulerServicer):
    def ListHosts(self, request, context):
        return pb2.ListHostsResponse()

    def SelectDestinations(self, request, context):
        return pb2.SelectDestinationsResponse()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    root = tmp_path_factory.mktemp("pki")
    ours, theirs = Authority.load_or_create(root / "ours"), Authority.load_or_create(root / "other")
    return {
        "ca": ours.ca_file,
        "server": ours.issue("scheduler", "scheduler", ["127.0.0.1"]),
        "client": ours.issue("api", "api", ["127.0.0.1"]),
        "foreign": theirs.issue("api", "api", ["127.0.0.1"]),
    }


@contextlib.contextmanager
def serving(pki, serves_users=True, **settings):
    server_cert = pki["server"]
    config = Config(
        component="scheduler",
        tls_ca_file=str(pki["ca"]),
        tls_cert_file=str(server_cert.cert_file),
        tls_key_file=str(server_cert.key_file),
        **settings,
    )
    service = Service.of(Scheduler(), pb2, pb2_grpc, "Scheduler")
    server, _ = build_server(config, [service], POLICY, VALIDATOR, 0, serves_users=serves_users)
    server.start()
    try:
        yield server
    finally:
        server.stop(0)


def client(pki, port, cert=None):
    """A channel verifying the server; presenting ``cert`` (pki's key) when given."""
    security = tls.Tls.from_files(
        str(pki["ca"]), str(cert.cert_file) if cert else "", str(cert.key_file) if cert else ""
    )
    return tls.channel(f"127.0.0.1:{port}", security, server_name="scheduler")


def call(channel, method, token):
    stub = pb2_grpc.SchedulerStub(channel)
    request = pb2.ListHostsRequest() if method == "ListHosts" else pb2.SelectDestinationsRequest()
    return getattr(stub, method)(request, metadata=metadata(token), timeout=5)


def code_of(fn) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        fn()
    return caught.value.code()


def test_a_user_needs_no_certificate_on_the_public_port(pki):
    with serving(pki) as server, client(pki, server.port) as channel:
        call(channel, "ListHosts", "adm")


def test_a_service_token_without_a_certificate_is_refused(pki):
    with (
        serving(pki) as server,
        client(pki, server.port) as channel,
        pytest.raises(grpc.RpcError) as caught,
    ):
        call(channel, "SelectDestinations", "svc")
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "service certificate" in caught.value.details()


def test_a_service_with_its_certificate_is_served_on_the_internal_port(pki):
    with serving(pki) as server:
        assert server.internal_port and server.internal_port != server.port
        with client(pki, server.internal_port, pki["client"]) as channel:
            call(channel, "SelectDestinations", "svc")


def test_a_service_token_with_another_services_certificate_is_refused(pki):
    with (
        serving(pki) as server,
        client(pki, server.internal_port, pki["client"]) as channel,  # the api's certificate
        pytest.raises(grpc.RpcError) as caught,
    ):
        call(channel, "SelectDestinations", "cond")  # the conductor's token
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "'conductor' came with a certificate of api" in caught.value.details()


def test_the_internal_port_refuses_a_peer_without_a_certificate(pki):
    with serving(pki) as server, client(pki, server.internal_port) as channel:
        assert code_of(lambda: call(channel, "ListHosts", "adm")) == grpc.StatusCode.UNAVAILABLE


def test_a_certificate_from_another_ca_is_refused(pki):
    with serving(pki) as server, client(pki, server.internal_port, pki["foreign"]) as channel:
        assert code_of(lambda: call(channel, "ListHosts", "adm")) == grpc.StatusCode.UNAVAILABLE


def test_a_plaintext_client_is_refused(pki):
    with serving(pki) as server:
        for port in (server.port, server.internal_port):
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                assert code_of(lambda c=channel: call(c, "ListHosts", "adm")) in (
                    grpc.StatusCode.UNAVAILABLE,
                    grpc.StatusCode.INTERNAL,
                )


def test_a_service_only_component_demands_a_certificate_on_its_one_port(pki):
    with serving(pki, serves_users=False) as server:
        assert server.internal_port == 0
        with client(pki, server.port) as bare:
            assert code_of(lambda: call(bare, "ListHosts", "adm")) == grpc.StatusCode.UNAVAILABLE
        with client(pki, server.port, pki["client"]) as channel:
            call(channel, "SelectDestinations", "svc")


def test_tls_needs_all_three_files(pki):
    config = Config(component="x", tls_ca_file=str(pki["ca"]))
    with pytest.raises(InvalidArgument, match="tls_cert_file"):
        tls.Tls.of(config)


def test_plaintext_beyond_loopback_is_refused_unless_allowed(caplog):
    with pytest.raises(InvalidArgument, match="allow_insecure"):
        tls.check_listening(Config(component="x", host="10.251.0.2"), None)
    with caplog.at_level(logging.WARNING):
        tls.check_listening(Config(component="x", host="10.251.0.2", allow_insecure=True), None)
    assert "WITHOUT TLS" in caplog.text
    tls.check_listening(Config(component="x", host="127.0.0.1"), None)
    tls.check_listening(Config(component="x", host="::1"), None)


@pytest.mark.parametrize(
    ("package", "name"),
    [("stratus.compute.v1", "compute"), ("example.keyvalue.v1", "keyvalue"), ("x", "x")],
)
def test_the_service_name_a_certificate_carries(package, name):
    assert tls.service_name(package) == name
