"""CatalogResolver: service type → gRPC target, from config or from identity's GetCatalog reply.

The catalog reply is a fake (the far side of the Identity contract, which the
identity contract tests hold identity to); the resolver's side is what is tested.
"""

from __future__ import annotations

import logging

import pytest

from components.framework import errors
from components.framework.config import Config
from components.framework.identity_client import CatalogResolver
from components.framework.targets import grpc_target
from stratus.identity.v1 import identity_service_pb2 as pb2


class FakeIdentity:
    """Clients and Identity stub at once: answers GetCatalog with ``reply``, counts calls."""

    def __init__(self, reply: pb2.GetCatalogResponse | None = None) -> None:
        self.reply = reply or pb2.GetCatalogResponse()
        self.calls = 0

    def stub(self, stub_cls, service_type: str, as_service: bool = False):
        assert (service_type, as_service) == ("identity", True)
        return self

    def GetCatalog(self, request):
        self.calls += 1
        return self.reply


def entry(type_: str, *endpoints: tuple[str, str, str]) -> pb2.CatalogEntry:
    """A catalog entry with (region, interface, address) endpoints."""
    return pb2.CatalogEntry(
        type=type_,
        name=type_,
        endpoints=[pb2.Endpoint(region=r, interface=i, address=a) for r, i, a in endpoints],
    )


def resolver(*entries: pb2.CatalogEntry, interface: str = "internal", **settings):
    fake = FakeIdentity(pb2.GetCatalogResponse(catalog=list(entries)))
    resolve = CatalogResolver(Config(component="test", **settings), interface=interface)
    resolve.clients = fake
    return resolve, fake


API = entry(
    "api",
    ("RegionOne", "public", "10.251.0.2:8774"),
    ("RegionOne", "public", "10.251.0.3:8774"),
    ("RegionOne", "internal", "10.251.0.2:18774"),
    ("RegionOne", "internal", "10.251.0.3:18774"),
    ("RegionTwo", "internal", "10.252.0.2:18774"),
)


def test_a_component_reaches_every_internal_replica_in_its_region():
    resolve, _ = resolver(API)
    assert resolve("api") == "ipv4:10.251.0.2:18774,10.251.0.3:18774"
    assert resolve.addresses("api") == ["10.251.0.2:18774", "10.251.0.3:18774"]


def test_the_default_interface_is_internal():
    assert CatalogResolver(Config(component="test")).interface == "internal"


def test_a_user_reaches_the_public_replicas_only():
    resolve, _ = resolver(API, interface="public")
    assert resolve("api") == "ipv4:10.251.0.2:8774,10.251.0.3:8774"


def test_without_internal_endpoints_a_component_uses_the_public_ones():
    image = entry("image", ("RegionOne", "public", "10.251.0.5:9292"))
    resolve, _ = resolver(image)
    assert resolve("image") == "10.251.0.5:9292"


def test_an_endpoint_without_an_interface_is_public_and_one_without_a_region_is_everywhere():
    old = entry("image", ("", "", "10.251.0.5:9292"), ("", "", "10.251.0.6:9292"))
    assert resolver(old)[0]("image") == "ipv4:10.251.0.5:9292,10.251.0.6:9292"
    assert resolver(old, interface="public")[0]("image") == "ipv4:10.251.0.5:9292,10.251.0.6:9292"


def test_the_region_is_the_configured_one():
    resolve, _ = resolver(API, region="RegionTwo")
    assert resolve("api") == "10.252.0.2:18774"


def test_one_address_is_the_target_as_it_is():
    resolve, _ = resolver(entry("volume", ("RegionOne", "internal", "volume-1.example:8776")))
    assert resolve("volume") == "volume-1.example:8776"


def test_ipv6_replicas_make_an_ipv6_target():
    volume = entry(
        "volume",
        ("RegionOne", "internal", "[fd00::2]:8776"),
        ("RegionOne", "internal", "[fd00::3]:8776"),
    )
    assert resolver(volume)[0]("volume") == "ipv6:[fd00::2]:8776,[fd00::3]:8776"


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.251.0.2:8776", "volume-2.example:8776"],
        ["10.251.0.2:8776", "[fd00::3]:8776"],
    ],
)
def test_replicas_that_are_not_all_ips_of_one_family_use_the_first_and_say_so_once(
    addresses, caplog
):
    volume = entry("volume", *[("RegionOne", "internal", a) for a in addresses])
    resolve, _ = resolver(volume)
    with caplog.at_level(logging.WARNING, logger="components.framework.identity_client"):
        assert resolve("volume") == addresses[0]
        assert resolve("volume") == addresses[0]
    assert len([r for r in caplog.records if "volume" in r.getMessage()]) == 1
    assert resolve.addresses("volume") == addresses


def test_explicit_endpoints_and_the_identity_address_win_over_the_catalog():
    resolve, fake = resolver(
        API,
        endpoints={"api": "127.0.0.1:8774", "image": "10.0.0.5:9292|10.0.0.6:9292"},
        identity_address="10.0.0.1:5000",
    )
    assert resolve("api") == "127.0.0.1:8774"
    assert resolve("image") == "ipv4:10.0.0.5:9292,10.0.0.6:9292"
    assert resolve("identity") == "10.0.0.1:5000"
    assert resolve.addresses("identity") == ["10.0.0.1:5000"]
    assert fake.calls == 0


def test_the_catalog_is_fetched_once_while_fresh():
    resolve, fake = resolver(API, entry("image", ("RegionOne", "public", "10.251.0.5:9292")))
    resolve("api")
    resolve("image")
    resolve.addresses("api")
    assert fake.calls == 1


def test_a_type_missing_from_the_catalog_or_region_is_unavailable():
    resolve, _ = resolver(API, region="RegionThree")
    with pytest.raises(errors.Unavailable):
        resolve("api")
    with pytest.raises(errors.Unavailable):
        resolve("network")


def test_an_unknown_interface_is_refused():
    with pytest.raises(ValueError):
        CatalogResolver(Config(component="test"), interface="private")


@pytest.mark.parametrize(
    ("addresses", "target"),
    [
        (["10.0.0.1:1"], "10.0.0.1:1"),
        (["host:1"], "host:1"),
        (["10.0.0.1:1", "10.0.0.2:2"], "ipv4:10.0.0.1:1,10.0.0.2:2"),
        (["[::1]:1", "[::2]:2"], "ipv6:[::1]:1,[::2]:2"),
        (["::1:1", "::2:2"], None),
        (["10.0.0.1:1", "host:2"], None),
        (["10.0.0.1", "10.0.0.2"], None),
    ],
)
def test_grpc_target(addresses, target):
    assert grpc_target(addresses) == target
