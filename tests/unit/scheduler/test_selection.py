"""The order in which hosts are tried: filters, then weights, then the subset pick."""

from __future__ import annotations

import random

from components.compute_db.placement_config import PlacementConfig
from components.scheduler.config import SchedulerConfig
from components.scheduler.selection import Scheduler, default_filters, default_weighers, order_hosts
from tests.unit.scheduler.hosts import host, spec


def test_hosts_that_fit_come_best_first_and_the_rest_are_left_out():
    hosts = [
        host("disabled", enabled=False, free_ram_mib=99999.0),
        host("medium", free_ram_mib=8192.0),
        host("too-small", free_ram_mib=1024.0),
        host("large", free_ram_mib=16384.0),
        host("small", free_ram_mib=4096.0),
    ]
    config = SchedulerConfig(cpu_weight_multiplier=0.0)
    ordered, reports = order_hosts(
        hosts, spec(ram_mib=2048), default_filters(), default_weighers(config)
    )
    assert [h.host for h in ordered] == ["large", "medium", "small"]
    removed = {r.name: r.removed for r in reports}
    assert removed["ComputeFilter"] == 1 and removed["RamFilter"] == 1


def test_stacking_configuration_fills_the_fullest_host_that_fits_first():
    hosts = [host("large", free_ram_mib=16384.0), host("small", free_ram_mib=4096.0)]
    config = SchedulerConfig(ram_weight_multiplier=-1.0, cpu_weight_multiplier=0.0)
    ordered, _ = order_hosts(hosts, spec(), default_filters(), default_weighers(config))
    assert [h.host for h in ordered] == ["small", "large"]


def test_host_subset_size_picks_the_first_host_among_the_best_few():
    ordered = [host(f"n{i}") for i in range(5)]
    config = SchedulerConfig(host_subset_size=3)
    firsts = {
        Scheduler(config, caster=None, rng=random.Random(seed))._subset_first(ordered)[0].host
        for seed in range(50)
    }
    assert firsts == {"n0", "n1", "n2"}
    one = Scheduler(SchedulerConfig(), caster=None)._subset_first(ordered)
    assert one == ordered


def test_subset_pick_keeps_the_others_in_weighed_order():
    ordered = [host(f"n{i}") for i in range(4)]

    class Third(random.Random):
        def randrange(self, *_):
            return 2

    picked = Scheduler(SchedulerConfig(host_subset_size=3), caster=None, rng=Third())._subset_first(
        ordered
    )
    assert [h.host for h in picked] == ["n2", "n0", "n1", "n3"]


def test_alternates_default_to_the_configured_number_capped_by_max_attempts():
    config = SchedulerConfig(max_alternates=2, placement=PlacementConfig(max_attempts=3))
    assert config.alternates_for(0) == 2
    assert config.alternates_for(1) == 1
    assert config.alternates_for(10) == 2
    assert SchedulerConfig(placement=PlacementConfig(max_attempts=1)).alternates_for(0) == 0
