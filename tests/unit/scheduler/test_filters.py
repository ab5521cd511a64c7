"""Each filter on its own: the hosts it keeps and the hosts it removes."""

from __future__ import annotations

import pytest

from components.scheduler import filters
from components.scheduler.filters.availability_zone import AvailabilityZoneFilter
from components.scheduler.filters.compute import ComputeFilter
from components.scheduler.filters.core import CoreFilter
from components.scheduler.filters.disk import DiskFilter
from components.scheduler.filters.ignore_hosts import IgnoreHostsFilter
from components.scheduler.filters.image_properties import ImagePropertiesFilter
from components.scheduler.filters.ram import RamFilter
from tests.unit.scheduler.hosts import host, spec


@pytest.mark.parametrize(
    ("enabled", "is_up", "passes"),
    [(True, True, True), (False, True, False), (True, False, False), (True, None, False)],
)
def test_compute_filter_keeps_only_enabled_hosts_with_a_recent_heartbeat(enabled, is_up, passes):
    state = host(enabled=enabled, is_up=is_up)
    assert ComputeFilter().host_passes(state, spec()) is passes


@pytest.mark.parametrize(
    ("host_zone", "wanted", "passes"),
    [("nova", "", True), ("nova", "nova", True), ("az-2", "nova", False)],
)
def test_availability_zone_filter_matches_the_requested_zone_or_any(host_zone, wanted, passes):
    state = host(availability_zone=host_zone)
    assert AvailabilityZoneFilter().host_passes(state, spec(availability_zone=wanted)) is passes


@pytest.mark.parametrize(
    ("properties", "passes"),
    [
        ({}, True),
        ({"os_distro": "debian"}, True),
        ({"architecture": "x86_64"}, True),
        ({"architecture": "AMD64"}, True),
        ({"architecture": "aarch64"}, False),
        ({"hypervisor_type": "qemu"}, True),
        ({"hypervisor_type": "xen"}, False),
        ({"architecture": "x86_64", "hypervisor_type": "xen"}, False),
    ],
)
def test_image_properties_filter_compares_architecture_and_hypervisor_type(properties, passes):
    state = host(architecture="x86_64", hypervisor_type="QEMU")
    image_filter = ImagePropertiesFilter()
    request = spec(image_properties=properties)
    assert image_filter.host_passes(state, request) is passes
    assert (image_filter.filter_all([state], request) == [state]) is passes


@pytest.mark.parametrize(("free", "passes"), [(4096.0, True), (2048.0, True), (2047.0, False)])
def test_ram_filter_needs_the_requested_memory_free(free, passes):
    assert RamFilter().host_passes(host(free_ram_mib=free), spec(ram_mib=2048)) is passes


@pytest.mark.parametrize(("free", "passes"), [(3.0, True), (2.0, True), (1.0, False), (-4, False)])
def test_core_filter_needs_the_requested_vcpus_free(free, passes):
    assert CoreFilter().host_passes(host(free_vcpus=free), spec(vcpus=2)) is passes


@pytest.mark.parametrize(
    ("free", "wanted", "passes"), [(20.0, 20, True), (19.0, 20, False), (0.0, 0, True)]
)
def test_disk_filter_needs_the_requested_root_disk_free(free, wanted, passes):
    assert DiskFilter().host_passes(host(free_disk_gib=free), spec(disk_gib=wanted)) is passes


def test_ignore_hosts_filter_removes_the_named_hosts():
    request = spec(ignore_hosts=frozenset({"node-2"}))
    assert IgnoreHostsFilter().host_passes(host("node-1"), request)
    assert not IgnoreHostsFilter().host_passes(host("node-2"), request)


def test_run_counts_what_each_filter_removed_in_order():
    hosts = [
        host("down", is_up=False),
        host("small", free_ram_mib=512.0),
        host("other-zone", availability_zone="az-2"),
        host("good"),
    ]
    kept, reports = filters.run(
        [ComputeFilter(), AvailabilityZoneFilter(), RamFilter()],
        hosts,
        spec(availability_zone="nova"),
    )
    assert [h.host for h in kept] == ["good"]
    assert [(r.name, r.before, r.removed) for r in reports] == [
        ("ComputeFilter", 4, 1),
        ("AvailabilityZoneFilter", 3, 1),
        ("RamFilter", 2, 1),
    ]


def test_summary_names_the_filters_that_removed_hosts():
    reports = [
        filters.FilterReport("ComputeFilter", 3, 1),
        filters.FilterReport("DiskFilter", 2, 0),
        filters.FilterReport("RamFilter", 2, 2),
    ]
    assert filters.summary(3, reports) == (
        "Filters left none of 3 hosts: ComputeFilter removed 1, RamFilter removed 2."
    )
    assert filters.summary(0, []) == "There are no compute hosts."


def test_filters_asked_nothing_by_the_request_keep_every_host_without_looking():
    hosts = [host("a", availability_zone="az-9", architecture="sparc"), host("b")]
    request = spec(image_properties={"os_distro": "debian"})
    for host_filter in (AvailabilityZoneFilter(), IgnoreHostsFilter(), ImagePropertiesFilter()):
        assert not host_filter.relevant(request)
        assert host_filter.filter_all(hosts, request) is hosts
    assert RamFilter().relevant(request)
