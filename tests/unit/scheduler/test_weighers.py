"""Weighers: normalised to 0..1, multiplied, summed; higher wins."""

from __future__ import annotations

import pytest

from components.scheduler import weighers
from components.scheduler.weighers.cpu import CPUWeigher
from components.scheduler.weighers.ram import RAMWeigher
from tests.unit.scheduler.hosts import host, spec


def test_normalize_maps_min_to_zero_and_max_to_one():
    assert weighers.normalize([10.0, 20.0, 15.0]) == [0.0, 1.0, 0.5]


def test_normalize_of_equal_values_is_all_zero():
    assert weighers.normalize([7.0, 7.0]) == [0.0, 0.0]
    assert weighers.normalize([]) == []


def test_ram_weigher_weighs_free_memory_and_cpu_weigher_free_vcpus():
    state = host(free_ram_mib=1024.0, free_vcpus=3.0)
    assert RAMWeigher().weigh(state, spec()) == 1024.0
    assert CPUWeigher().weigh(state, spec()) == 3.0


def ram_hosts():
    return [host("full", free_ram_mib=1024.0), host("empty", free_ram_mib=8192.0)]


def test_positive_ram_multiplier_spreads_onto_the_emptiest_host():
    ranked = weighers.weigh([RAMWeigher(1.0)], ram_hosts(), spec())
    assert [w.host_state.host for w in ranked] == ["empty", "full"]
    assert [w.weight for w in ranked] == [1.0, 0.0]


def test_negative_ram_multiplier_stacks_onto_the_fullest_host():
    ranked = weighers.weigh([RAMWeigher(-1.0)], ram_hosts(), spec())
    assert [w.host_state.host for w in ranked] == ["full", "empty"]
    assert [w.weight for w in ranked] == [0.0, -1.0]


def test_weights_are_summed_after_normalising_each_weigher():
    hosts = [
        host("ram-rich", free_ram_mib=8192.0, free_vcpus=1.0),
        host("cpu-rich", free_ram_mib=4096.0, free_vcpus=64.0),
        host("poor", free_ram_mib=1024.0, free_vcpus=2.0),
    ]
    ranked = weighers.weigh([RAMWeigher(1.0), CPUWeigher(2.0)], hosts, spec())
    weights = {w.host_state.host: w.weight for w in ranked}
    assert weights["ram-rich"] == pytest.approx(1.0)
    assert weights["cpu-rich"] == pytest.approx(3072 / 7168 + 2.0)
    assert weights["poor"] == pytest.approx(2.0 / 63)
    assert [w.host_state.host for w in ranked] == ["cpu-rich", "ram-rich", "poor"]


def test_zero_multiplier_leaves_the_weigher_out_and_ties_keep_the_loaded_order():
    hosts = [host("a", free_ram_mib=1.0), host("b", free_ram_mib=9.0)]
    ranked = weighers.weigh([RAMWeigher(0.0)], hosts, spec())
    assert [w.host_state.host for w in ranked] == ["a", "b"]
