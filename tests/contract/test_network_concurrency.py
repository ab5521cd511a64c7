"""Concurrent CreatePort calls never hand out one address twice, on every backend."""

from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from tests.contract.network_api import addresses, serving

CALLS = 200
THREADS = 32


def create_ports(api, network_id: str) -> tuple[list[str], collections.Counter]:
    """CALLS concurrent CreatePort calls: the addresses handed out and the failure codes."""

    def create(_):
        try:
            return addresses(api.port(network_id)), None
        except grpc.RpcError as error:
            return None, error.code()

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(create, range(CALLS)))
    handed_out = [address for got, _ in results if got for address in got]
    failures = collections.Counter(code for _, code in results if code is not None)
    return handed_out, failures


@pytest.fixture
def api(database_url):
    with serving(database_url) as client:
        yield client


def test_concurrent_create_port_gives_distinct_addresses(api):
    network, _ = api.network(cidr="10.20.0.0/24")
    handed_out, failures = create_ports(api, network.id)
    assert failures == {}
    assert len(handed_out) == CALLS and len(set(handed_out)) == CALLS
    assert sorted(handed_out) == sorted(f"10.20.0.{i}" for i in range(2, 2 + CALLS))
    listed = api("ListPorts", network_id=network.id, page_size=1000).ports
    assert sorted(address for port in listed for address in addresses(port)) == sorted(handed_out)


def test_concurrent_create_port_on_small_subnet_exhausts_without_duplicates(api):
    network, subnet = api.network(cidr="10.21.0.0/28")
    pool_size = 13  # .2 to .14: the gateway, network and broadcast addresses are not handed out
    assert [(p.start, p.end) for p in subnet.allocation_pools] == [("10.21.0.2", "10.21.0.14")]
    handed_out, failures = create_ports(api, network.id)
    assert len(handed_out) == pool_size and len(set(handed_out)) == pool_size
    assert failures == {grpc.StatusCode.RESOURCE_EXHAUSTED: CALLS - pool_size}
    listed = api("ListPorts", network_id=network.id, page_size=1000).ports
    assert len(listed) == pool_size
