"""RegisterTunnelEndpoint and GetNetworkSegment: each host's underlay address, and which
hosts carry a network's segment."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from components.network.config import NetworkConfig
from tests.contract.network_api import UNKNOWN_ID, field_of, serving

Code = grpc.StatusCode

CONTRACT_CASES = {
    "stratus.network.v1.Network/RegisterTunnelEndpoint": {
        "INVALID_ARGUMENT": "test_a_malformed_host_or_address_is_invalid_argument",
        "PERMISSION_DENIED": "test_only_a_service_may_register",
    },
    "stratus.network.v1.Network/GetNetworkSegment": {
        "INVALID_ARGUMENT": "test_segment_of_a_missing_or_malformed_network",
        "NOT_FOUND": "test_segment_of_a_missing_or_malformed_network",
        "PERMISSION_DENIED": "test_members_may_not_read_a_segment",
    },
}


@pytest.fixture
def api(database_url):
    with serving(database_url, config=NetworkConfig(physical_mtu=1500)) as client:
        yield client


def register(api, host: str, ip: str, token: str = "compute"):
    return api("RegisterTunnelEndpoint", token, host=host, ip_address=ip)


def endpoints(api, network_id: str, token: str = "compute") -> list[tuple[str, str]]:
    found = api("GetNetworkSegment", token, network_id=network_id)
    return [(e.host, e.ip_address) for e in found.tunnel_endpoints]


def test_a_service_registers_and_moves_its_endpoint_idempotently(api):
    first = register(api, "compute-1", "10.251.7.20")
    assert (first.host, first.ip_address) == ("compute-1", "10.251.7.20")
    assert register(api, "compute-1", "10.251.7.20") == first
    network = api("CreateNetwork")
    api.port(network.id, "compute", binding_host_id="compute-1")
    assert endpoints(api, network.id) == [("compute-1", "10.251.7.20")]
    moved = register(api, "compute-1", "10.251.7.99")
    assert moved.ip_address == "10.251.7.99"
    assert endpoints(api, network.id) == [("compute-1", "10.251.7.99")]
    assert register(api, "compute-2", "fd00:251::7").ip_address == "fd00:251::7"


def test_concurrent_first_registrations_of_one_host_keep_one_row(api):
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: register(api, "racer", f"10.9.0.{i + 1}"), range(8)))
    assert {r.host for r in got} == {"racer"}
    network = api("CreateNetwork")
    api.port(network.id, "compute", binding_host_id="racer")
    assert len(endpoints(api, network.id)) == 1


@pytest.mark.parametrize(
    "host, ip, field",
    [
        ("", "10.0.0.1", "host"),
        ("   ", "10.0.0.1", "host"),
        ("x" * 256, "10.0.0.1", "host"),
        ("two words", "10.0.0.1", "host"),
        ("bad\x01host", "10.0.0.1", "host"),
        ("compute-1", "", "ip_address"),
        ("compute-1", "10.0.0", "ip_address"),
        ("compute-1", "10.0.0.0/24", "ip_address"),
        ("compute-1", "224.0.0.1", "ip_address"),
        ("compute-1", "ff02::1", "ip_address"),
        ("compute-1", "0.0.0.0", "ip_address"),
        ("compute-1", "::", "ip_address"),
        ("compute-1", "255.255.255.255", "ip_address"),
    ],
)
def test_a_malformed_host_or_address_is_invalid_argument(api, host, ip, field):
    error = api.fails("RegisterTunnelEndpoint", "compute", host=host, ip_address=ip)
    assert (error.code(), field_of(error)) == (Code.INVALID_ARGUMENT, field)


@pytest.mark.parametrize("token", ["alice", "alice-reader", "admin"])
def test_only_a_service_may_register(api, token):
    error = api.fails("RegisterTunnelEndpoint", token, host="compute-1", ip_address="10.0.0.1")
    assert error.code() == Code.PERMISSION_DENIED


def test_the_segment_has_vni_mtu_and_the_bound_hosts_endpoints_by_host(api):
    network = api("CreateNetwork")
    other = api("CreateNetwork")
    for host, ip in (("c-2", "10.0.0.2"), ("c-1", "10.0.0.1"), ("c-3", "10.0.0.3")):
        register(api, host, ip)
    api.port(network.id, "compute", binding_host_id="c-2")
    api.port(network.id, "compute", binding_host_id="c-1")
    api.port(network.id, "compute", binding_host_id="c-2")  # a second port: listed once
    api.port(network.id, "compute", binding_host_id="unregistered")  # left out
    api.port(network.id, "compute")  # unbound: left out
    api.port(other.id, "compute", binding_host_id="c-3")  # another network's host
    segment = api("GetNetworkSegment", "admin", network_id=network.id)
    assert segment.network_id == network.id
    assert segment.network_type == "vxlan"
    assert (
        segment.segmentation_id == api("GetNetwork", "admin", network_id=network.id).segmentation_id
    )
    assert segment.mtu == 1450
    assert [(e.host, e.ip_address) for e in segment.tunnel_endpoints] == [
        ("c-1", "10.0.0.1"),
        ("c-2", "10.0.0.2"),
    ]
    assert endpoints(api, other.id) == [("c-3", "10.0.0.3")]


def test_binding_and_deleting_ports_change_the_endpoints(api):
    network = api("CreateNetwork")
    register(api, "c-1", "10.0.0.1")
    assert endpoints(api, network.id) == []
    port = api.port(network.id, "compute")
    assert endpoints(api, network.id) == []
    port.binding_host_id = "c-1"
    api("UpdatePort", "compute", port=port, update_mask={"paths": ["binding_host_id"]})
    assert endpoints(api, network.id) == [("c-1", "10.0.0.1")]
    api("DeletePort", "compute", port_id=port.id)
    assert endpoints(api, network.id) == []


def test_segment_of_a_missing_or_malformed_network(api):
    error = api.fails("GetNetworkSegment", "compute", network_id=UNKNOWN_ID)
    assert error.code() == Code.NOT_FOUND
    for bad in ("", "not-a-uuid"):
        error = api.fails("GetNetworkSegment", "admin", network_id=bad)
        assert (error.code(), field_of(error)) == (Code.INVALID_ARGUMENT, "network_id")


@pytest.mark.parametrize("token", ["alice", "alice-reader", "bob"])
def test_members_may_not_read_a_segment(api, token):
    network = api("CreateNetwork")
    error = api.fails("GetNetworkSegment", token, network_id=network.id)
    assert error.code() == Code.PERMISSION_DENIED
