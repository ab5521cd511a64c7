"""Every network gets a VXLAN segment of its own (network_type, segmentation_id)."""

from __future__ import annotations

import collections
import datetime
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from playhouse.migrations import Runner

import components.network
from components.framework import database as db
from components.network.config import NetworkConfig
from tests.contract.network_api import PROJECT_A, reason, serving

Code = grpc.StatusCode
MIGRATIONS = Path(components.network.__file__).parent / "migrations"


@pytest.fixture
def api(database_url):
    with serving(database_url) as client:
        yield client


def ranged(database_url: str, vni_ranges: str):
    return serving(database_url, config=NetworkConfig(vni_ranges=vni_ranges))


def vni(api, network_id: str) -> int:
    """The network's VNI, as an admin sees it."""
    return api("GetNetwork", "admin", network_id=network_id).segmentation_id


def test_admins_and_services_see_the_segment_and_members_do_not(api):
    created = api("CreateNetwork", name="private")
    assert (created.network_type, created.segmentation_id) == ("", 0)
    for token in ("admin", "compute"):
        seen = api("GetNetwork", token, network_id=created.id)
        assert seen.network_type == "vxlan" and 1 <= seen.segmentation_id <= 2**24 - 1
        listed = api("ListNetworks", token).networks
        assert [(n.network_type, n.segmentation_id) for n in listed] == [
            (seen.network_type, seen.segmentation_id)
        ]
    mine = api("GetNetwork", network_id=created.id)
    assert (mine.network_type, mine.segmentation_id) == ("", 0)
    assert [(n.network_type, n.segmentation_id) for n in api("ListNetworks").networks] == [("", 0)]
    by_admin = api("CreateNetwork", "admin", shared=True)
    assert by_admin.network_type == "vxlan" and by_admin.segmentation_id > 0


def test_networks_get_different_vnis(api):
    first, second = api("CreateNetwork"), api("CreateNetwork", "bob")
    assert vni(api, first.id) != vni(api, second.id)


def test_concurrent_creations_get_distinct_vnis(api):
    with ThreadPoolExecutor(20) as pool:
        created = list(pool.map(lambda _: api("CreateNetwork", "admin"), range(20)))
    vnis = [network.segmentation_id for network in created]
    assert len(set(vnis)) == 20
    listed = api("ListNetworks", "admin", page_size=100).networks
    assert sorted(network.segmentation_id for network in listed) == sorted(vnis)


def test_concurrent_creations_on_a_small_range_exhaust_it_without_duplicates(database_url):
    def create(_):
        try:
            return api("CreateNetwork", "admin").segmentation_id, None
        except grpc.RpcError as error:
            return None, error.code()

    with ranged(database_url, "100:104") as api, ThreadPoolExecutor(20) as pool:
        results = list(pool.map(create, range(20)))
    vnis = sorted(got for got, _ in results if got is not None)
    assert vnis == [100, 101, 102, 103, 104]
    assert collections.Counter(code for _, code in results if code) == {Code.RESOURCE_EXHAUSTED: 15}


def test_an_exhausted_range_is_resource_exhausted_and_delete_releases_a_vni(database_url):
    with ranged(database_url, "7:7, 9:9") as api:
        first, second = api("CreateNetwork"), api("CreateNetwork")
        assert {vni(api, first.id), vni(api, second.id)} == {7, 9}
        error = api.fails("CreateNetwork")
        assert (error.code(), reason(error)) == (Code.RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED")
        assert "7:7,9:9" in error.details() and "vni_ranges" in error.details()
        freed = vni(api, first.id)
        api("DeleteNetwork", network_id=first.id)
        third = api("CreateNetwork")
        assert vni(api, third.id) == freed
        assert api.fails("CreateNetwork").code() == Code.RESOURCE_EXHAUSTED


def test_malformed_vni_ranges_refuse_to_start(database_url):
    for bad in ("", "5", "0:10", "10:5", "1:16777216", "1:10,5:20", "a:b"):
        with pytest.raises(Exception, match="vni_ranges"), ranged(database_url, bad):
            pass


def test_the_migration_gives_existing_networks_distinct_vnis(database_url):
    old = db.open_database(database_url)
    Runner(old, str(MIGRATIONS), table_name="stratus_schema_migration").up(target="0001_initial")
    start = datetime.datetime(2026, 1, 2, 3, 4, 5)
    ids = [f"0000000{i}-0000-4000-8000-000000000000" for i in range(3)]
    for offset, network_id in enumerate(reversed(ids)):
        when = start + datetime.timedelta(seconds=offset)
        old.execute_sql(
            "INSERT INTO network (id, create_time, update_time, name, project_id, shared,"
            " admin_state_up, mtu) VALUES (%s, %s, %s, '', %s, %s, %s, 1500)".replace(
                "%s", "?" if database_url.startswith("sqlite") else "%s"
            ),
            (network_id, when, when, PROJECT_A, False, True),
        )
    old.close()
    with ranged(database_url, "1:3") as api:
        seen = {n.id: n for n in api("ListNetworks", "admin").networks}
        # Oldest first: VNIs 1, 2, 3 in create_time order.
        assert [seen[i].segmentation_id for i in reversed(ids)] == [1, 2, 3]
        assert {n.network_type for n in seen.values()} == {"vxlan"}
        assert api.fails("CreateNetwork").code() == Code.RESOURCE_EXHAUSTED
        api("DeleteNetwork", network_id=ids[0])
        assert vni(api, api("CreateNetwork").id) == 3
