"""A network listed twice in CreateServer gives the guest two NICs on it, as in Nova."""

from __future__ import annotations

import pytest

from stratus.api.v1 import api_service_pb2 as api_pb2
from tests.e2e.boot import Driver, claims_of

pytestmark = pytest.mark.e2e


def test_a_network_listed_twice_boots_with_two_ports_on_it_and_delete_frees_both(cloud):
    driver = Driver(cloud)
    network = cloud.ids["network"]
    server = driver.create(network_ids=[network, network])
    settled = driver.wait(server.id)
    assert settled.status == api_pb2.Server.STATUS_ACTIVE, settled.fault
    ports = driver.ports_of(server.id)
    assert len(ports) == 2 and {p.network_id for p in ports} == {network}
    assert len({p.fixed_ips[0].ip_address for p in ports}) == 2
    assert [a.network_id for a in settled.addresses] == [network, network]
    assert {a.port_id for a in settled.addresses} == {p.id for p in ports}
    domain = driver.domain_of(server.id)
    assert domain is not None
    assert sorted(i.mac_address for i in domain.interfaces) == sorted(p.mac_address for p in ports)
    driver.delete(server.id)
    assert driver.ports_of(server.id) == []
    assert claims_of(cloud, server.id) == 0
