"""The address a host registers is one the conductor accepts and other components can dial."""

from __future__ import annotations

import pytest

from components.compute.config import ComputeConfig
from components.compute.host import Host
from components.conductor import node_checks

HOST_PARTS = ("driver", "conductor", "images", "ports", "volumes")
HOST_PARTS += ("cache", "executor", "root", "networks")


def host_bound_to(bind: str, advertised: str = "") -> Host:
    config = ComputeConfig(host=bind, advertised_address=advertised)
    fields = dict.fromkeys(HOST_PARTS)
    return Host(config=config, port=8782, **fields)


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        ("127.0.0.1", "127.0.0.1:8782"),
        ("0.0.0.0", "127.0.0.1:8782"),
        ("::", "127.0.0.1:8782"),
        ("::1", "[::1]:8782"),
        ("fd00::5", "[fd00::5]:8782"),
        ("[fd00::5]", "[fd00::5]:8782"),
        ("compute-1.example", "compute-1.example:8782"),
    ],
)
def test_address_is_host_port_with_ipv6_bracketed(bind, expected):
    address = host_bound_to(bind).address
    assert address == expected
    node_checks.address(address)  # the conductor's check of ReportComputeNode


def test_advertised_address_wins():
    assert host_bound_to("0.0.0.0", "10.1.0.5:9000").address == "10.1.0.5:9000"
