"""Quotas on every database backend: defaults, limits, and no over-commit under concurrency."""

import threading
from pathlib import Path

import pytest

import components.volume
from components.framework import database as db
from components.framework.errors import InvalidArgument, QuotaExceeded
from components.volume import quotas

MIGRATIONS = Path(components.volume.__file__).parent / "migrations"
DEFAULTS = quotas.Defaults(volumes=10, size_gib=1000)
PROJECT = "5b0e5c0e-0000-4000-8000-000000000001"


@pytest.fixture
def database(database_url):
    db.connect(database_url, MIGRATIONS)
    yield


def charge(project=PROJECT, defaults=DEFAULTS, **amounts):
    quotas.ensure(project)
    with db.database.atomic():
        quotas.charge(project, defaults, **amounts)


def test_project_without_row_has_the_defaults(database):
    view = quotas.get(PROJECT, DEFAULTS)
    assert view == quotas.QuotaView(PROJECT, 10, 1000, 0, 0, True)


def test_charge_counts_and_release_gives_back(database):
    charge(volumes=1, size_gib=40)
    charge(volumes=1, size_gib=2)
    assert quotas.get(PROJECT, DEFAULTS).volumes_used == 2
    quotas.release(PROJECT, volumes=1, size_gib=40)
    view = quotas.get(PROJECT, DEFAULTS)
    assert (view.volumes_used, view.size_gib_used, view.is_default) == (1, 2, True)


def test_charge_over_volume_limit_is_quota_exceeded_and_counts_nothing(database):
    small = quotas.Defaults(volumes=1, size_gib=100)
    charge(defaults=small, volumes=1, size_gib=1)
    with pytest.raises(QuotaExceeded) as raised:
        charge(defaults=small, volumes=1, size_gib=1)
    assert raised.value.reason == "QUOTA_EXCEEDED"
    assert raised.value.metadata["resource"] == "volumes"
    assert quotas.get(PROJECT, small).volumes_used == 1


def test_charge_over_size_limit_names_size(database):
    with pytest.raises(QuotaExceeded) as raised:
        charge(volumes=1, size_gib=1001)
    assert raised.value.metadata["resource"] == "size_gib"


def test_size_only_charge_ignores_volume_count_over_its_limit(database):
    quotas.update(PROJECT, DEFAULTS, volumes_limit=0)
    charge(size_gib=5)
    assert quotas.get(PROJECT, DEFAULTS).size_gib_used == 5


def test_minus_one_is_unlimited(database):
    quotas.update(PROJECT, DEFAULTS, volumes_limit=-1, size_gib_limit=-1)
    charge(volumes=50, size_gib=10**6)
    view = quotas.get(PROJECT, DEFAULTS)
    assert (view.volumes_used, view.is_default) == (50, False)


def test_update_sets_only_the_limits_given(database):
    view = quotas.update(PROJECT, DEFAULTS, size_gib_limit=7)
    assert (view.volumes_limit, view.size_gib_limit, view.is_default) == (10, 7, False)


def test_update_below_minus_one_is_invalid(database):
    with pytest.raises(InvalidArgument) as raised:
        quotas.update(PROJECT, DEFAULTS, volumes_limit=-2)
    assert raised.value.metadata["field"] == "volumes_limit"


def test_limit_below_usage_refuses_further_charges(database):
    charge(volumes=3, size_gib=3)
    quotas.update(PROJECT, DEFAULTS, volumes_limit=2)
    with pytest.raises(QuotaExceeded):
        charge(volumes=1, size_gib=1)
    assert quotas.get(PROJECT, DEFAULTS).volumes_used == 3


def test_concurrent_charges_never_over_commit(database):
    limited = quotas.Defaults(volumes=5, size_gib=1000)
    results: list[str] = []
    barrier = threading.Barrier(20)

    def worker():
        barrier.wait()
        try:
            charge(defaults=limited, volumes=1, size_gib=1)
            results.append("ok")
        except QuotaExceeded:
            results.append("exceeded")
        finally:
            db.database.close()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 5
    assert results.count("exceeded") == 15
    assert quotas.get(PROJECT, limited).volumes_used == 5
