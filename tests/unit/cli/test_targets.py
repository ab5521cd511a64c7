"""Which endpoints the CLI calls: the public ones of its region, replicas round-robin,
and over TLS replicas verified by the service type their certificates carry."""

from __future__ import annotations

import json

import grpc
import pytest

from components.cli import targets
from components.cli.cloud_config import Credentials
from components.cli.errors import CliError
from components.cli.session import Session
from components.cli.targets import Target, choose
from components.framework.server import Service
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from tests.unit.cli.fakes import PASSWORD, Calls, FakeFlavors, FakeIdentity
from tests.unit.cli.tls_certs import Ca, serving_tls


def endpoint(address: str, interface: str = "public", region: str = "RegionOne"):
    return identity_pb2.Endpoint(region=region, address=address, interface=interface)


def catalog(*endpoints, kind: str = "api"):
    return [identity_pb2.CatalogEntry(type=kind, name=kind, endpoints=list(endpoints))]


def test_internal_and_admin_endpoints_are_not_for_the_cli():
    target = choose(
        catalog(
            endpoint("10.0.0.1:9774", "internal"),
            endpoint("10.0.0.1:8774"),
            endpoint("10.0.0.1:35357", "admin"),
        ),
        "api",
        "",
    )
    assert target == Target("api", ("10.0.0.1:8774",))
    assert target.uri == "10.0.0.1:8774" and not target.replicated


def test_an_empty_interface_is_public_as_an_older_identity_sends_it():
    assert choose(catalog(endpoint("10.0.0.1:8774", "")), "api", "").uri == "10.0.0.1:8774"


def test_several_public_endpoints_are_replicas_in_one_round_robin_target():
    target = choose(
        catalog(
            endpoint("10.0.0.1:8774"),
            endpoint("10.0.0.1:9774", "internal"),
            endpoint("10.0.0.2:8774"),
            endpoint("10.0.0.2:8774"),
        ),
        "api",
        "RegionOne",
    )
    assert target.replicated
    assert target.uri == "ipv4:10.0.0.1:8774,10.0.0.2:8774"
    assert str(target) == "10.0.0.1:8774, 10.0.0.2:8774"


def test_ipv6_replicas_are_one_ipv6_target():
    target = Target.of("api", ["[fd00::1]:8774", "[fd00::2]:8774"])
    assert target.uri == "ipv6:[fd00::1]:8774,[fd00::2]:8774"


def test_replicas_with_host_names_are_reached_at_the_first():
    assert Target.of("api", ["api-a:8774", "10.0.0.2:8774"]).uri == "api-a:8774"


def test_the_region_picks_its_replicas_and_no_region_takes_the_first_public_ones():
    entries = catalog(
        endpoint("10.1.0.1:8774", "internal", "RegionOne"),
        endpoint("10.2.0.1:8774", region="RegionTwo"),
        endpoint("10.2.0.2:8774", region="RegionTwo"),
        endpoint("10.3.0.1:8774", region="RegionThree"),
    )
    assert choose(entries, "api", "RegionThree").uri == "10.3.0.1:8774"
    assert choose(entries, "api", "").uri == "ipv4:10.2.0.1:8774,10.2.0.2:8774"


def test_a_region_without_public_endpoints_is_named():
    entries = catalog(endpoint("10.1.0.1:9774", "internal"), endpoint("10.2.0.1:8774", region="R2"))
    with pytest.raises(CliError, match="no api endpoint in region 'RegionOne'"):
        choose(entries, "api", "RegionOne")


def test_a_service_with_internal_endpoints_only_is_named():
    with pytest.raises(CliError, match=r"no public endpoint of the api service \(only internal\)"):
        choose(catalog(endpoint("10.0.0.1:9774", "internal")), "api", "")


def test_a_service_missing_from_the_catalog_lists_what_is_there():
    with pytest.raises(CliError, match=r"no image service \(it lists api\)"):
        choose(catalog(endpoint("10.0.0.1:8774")), "image", "")


def test_replica_channels_are_round_robin_and_over_tls_name_the_service(monkeypatch):
    made = []
    monkeypatch.setattr(grpc, "secure_channel", lambda *a, **kw: made.append((a, kw)))
    monkeypatch.setattr(grpc, "insecure_channel", lambda *a, **kw: made.append((a, kw)))
    replicas = Target("api", ("10.0.0.1:8774", "10.0.0.2:8774"))
    single = Target("api", ("10.0.0.1:8774",))
    credentials = grpc.ssl_channel_credentials(None)
    targets.channel(replicas, credentials)
    targets.channel(replicas, None)
    targets.channel(single, credentials)
    (tls, tls_kw), (plain, plain_kw), (one, one_kw) = made
    round_robin = (
        "grpc.service_config",
        json.dumps({"loadBalancingConfig": [{"round_robin": {}}]}),
    )
    assert tls[0] == plain[0] == "ipv4:10.0.0.1:8774,10.0.0.2:8774"
    assert set(tls_kw["options"]) == {round_robin, ("grpc.ssl_target_name_override", "api")}
    assert set(plain_kw["options"]) == {round_robin}
    assert one[0] == "10.0.0.1:8774" and one_kw["options"] == ()


class CatalogIdentity(FakeIdentity):
    """The fake identity whose catalog lists the api endpoints it is given."""

    def __init__(self, api_endpoints) -> None:
        super().__init__(Calls())
        self.api_endpoints = api_endpoints

    def IssueToken(self, request, context):
        reply = super().IssueToken(request, context)
        del reply.catalog[:]
        reply.catalog.extend(catalog(*self.api_endpoints))
        return reply


def test_the_cli_calls_every_tls_replica_and_never_the_internal_endpoint(tmp_path):
    ca = Ca(tmp_path / "pki")
    replicas = [FakeFlavors(Calls()), FakeFlavors(Calls())]
    # The replicas' certificate names the service type alone: no address verifies it.
    pair = ca.issue("api", dns=["api"])
    identity_pair = ca.issue("identity", dns=["identity"], ips=["127.0.0.1"])
    flavors = [[Service.of(r, api_pb2, api_grpc, "Flavors")] for r in replicas]
    internal = FakeFlavors(Calls())
    with (
        serving_tls(flavors[0], pair) as first,
        serving_tls(flavors[1], pair) as second,
        serving_tls([Service.of(internal, api_pb2, api_grpc, "Flavors")], pair) as other,
    ):
        identity = CatalogIdentity(
            [
                endpoint(f"127.0.0.1:{other}", "internal"),
                endpoint(f"127.0.0.1:{first}"),
                endpoint(f"127.0.0.1:{second}"),
            ]
        )
        services = [Service.of(identity, identity_pb2, identity_grpc, "Identity")]
        with serving_tls(services, identity_pair) as identity_port:
            creds = Credentials(
                auth_url=f"127.0.0.1:{identity_port}",
                username="demo",
                password=PASSWORD,
                project_name="demo",
                cacert=str(ca.ca_file),
            )
            session = Session(lambda: creds, timeout=10)
            try:
                client = session.client("api", api_grpc.FlavorsStub)
                assert client.address == f"127.0.0.1:{first}, 127.0.0.1:{second}"
                for _ in range(50):
                    client.ListFlavors(api_pb2.ListFlavorsRequest())
                    if all(r.calls.count["ListFlavors"] for r in replicas):
                        break
            finally:
                session.close()
    assert all(r.calls.count["ListFlavors"] for r in replicas)
    assert internal.calls.count["ListFlavors"] == 0
