"""What a compute host may report: RFC 1123 names, host:port addresses, bounded capacities."""

from __future__ import annotations

import pytest

from components.conductor import node_checks
from components.framework.errors import InvalidArgument


@pytest.mark.parametrize(
    "name", ["compute-1", "9", "a.b.c", "Compute-1.Example.ORG", "c" * 63, ".".join(["a" * 63] * 4)]
)
def test_rfc_1123_host_names_are_accepted(name):
    assert node_checks.host_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "10.0.0.0/33",
        "under_score",
        "-lead",
        "trail-",
        "a..b",
        ".a",
        "a.",
        "c" * 64,
        ".".join(["a" * 63] * 4) + ".b",  # 257 characters
        "tab\there",
        "compute-1\x00",
        "ünïcode",
    ],
)
def test_other_host_names_are_invalid_argument_naming_the_field(name):
    with pytest.raises(InvalidArgument) as info:
        node_checks.host_name(name)
    assert info.value.metadata["field"] == "host"


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1:8782", "10.1.2.3:1", "[::1]:65535", "[fd00::5]:8782", "compute-1.example:80"],
)
def test_host_port_addresses_are_accepted(address):
    assert node_checks.address(address) == address


@pytest.mark.parametrize(
    "address",
    [
        "",
        "Ap:m\tQv$/Uai",
        "127.0.0.1",
        ":8782",
        "127.0.0.1:",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:+80",
        "127.0.0.1:٨٠",
        "10.0.0.300:8782",
        "::1:8782",
        "[::1]8782",
        "[10.0.0.1]:8782",
        "bad_host:8782",
        "h" * 300 + ":1",
    ],
)
def test_other_addresses_are_invalid_argument_naming_the_field(address):
    with pytest.raises(InvalidArgument) as info:
        node_checks.address(address)
    assert info.value.metadata["field"] == "address"


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [("vcpus", 1, 4096), ("ram_mib", 1, 64 * 1024 * 1024), ("disk_gib", 1, 1024 * 1024)],
)
def test_capacities_are_bounded_on_both_sides(field, low, high):
    assert node_checks.capacity(field, low) == low
    assert node_checks.capacity(field, high) == high
    for bad in (low - 1, high + 1, -(2**40), 2**53):
        with pytest.raises(InvalidArgument) as info:
            node_checks.capacity(field, bad)
        assert info.value.metadata["field"] == field


def test_a_whole_report_is_checked_and_the_first_bad_field_named():
    report = {
        "host": "compute-1",
        "address": "127.0.0.1:8782",
        "availability_zone": "nova",
        "hypervisor_type": "QEMU",
        "hypervisor_version": "8.2.2",
        "architecture": "x86_64",
        "vcpus": 16,
        "ram_mib": 65536,
        "disk_gib": 500,
    }
    assert node_checks.checked_report(report) == report
    for field, bad in [("hypervisor_version", "8.2\n"), ("architecture", " x86"), ("ram_mib", 0)]:
        with pytest.raises(InvalidArgument) as info:
            node_checks.checked_report({**report, field: bad})
        assert info.value.metadata["field"] == field
