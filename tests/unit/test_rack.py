"""The rack's names and addresses, worked out without touching the host."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from components.supervisor.rack import (
    IFNAMSIZ,
    Layout,
    Rack,
    RackError,
    namespace_listed,
    namespaces_with_prefix,
    overlapping_routes,
    subnet_for_tag,
    tag_for_port_offset,
)


def test_each_tag_gets_its_own_24_in_10_251():
    assert str(subnet_for_tag(0)) == "10.251.0.0/24"
    assert str(subnet_for_tag(20)) == "10.251.20.0/24"
    assert str(subnet_for_tag(255)) == "10.251.255.0/24"


@pytest.mark.parametrize("tag", [-1, 256])
def test_a_tag_outside_0_to_255_is_refused(tag):
    with pytest.raises(RackError, match=r"outside 0\.\.255"):
        subnet_for_tag(tag)


def test_port_offsets_a_thousand_apart_get_different_tags():
    assert tag_for_port_offset(0) == 0
    assert tag_for_port_offset(1000) == 1
    assert tag_for_port_offset(20000) == 20
    assert len({tag_for_port_offset(o) for o in range(0, 65000, 1000)}) == 65


def test_the_operator_is_dot_1_and_the_nth_machine_starts_at_ten_times_n():
    layout = Layout("strk", tag=7)
    controller = layout.add("controller", addresses=2)
    first = layout.add("compute-1")
    second = layout.add("compute-2")
    assert layout.operator_address == "10.251.7.1"
    assert controller.addresses == ("10.251.7.10", "10.251.7.11")
    assert first.addresses == ("10.251.7.20",)
    assert second.addresses == ("10.251.7.30",)


def test_every_address_lies_in_the_rack_subnet_even_when_full():
    layout = Layout("strk", tag=3)
    for n in range(24):
        layout.add(f"m{n}", addresses=10)
    hosts = [a for m in layout.machines.values() for a in m.addresses]
    assert len(set(hosts)) == 240
    assert all(ipaddress.IPv4Address(a) in layout.subnet for a in hosts)
    assert layout.operator_address not in hosts
    with pytest.raises(RackError, match="full"):
        layout.add("one-more")


def test_names_carry_the_prefix_and_fit_an_interface_name():
    layout = Layout("stratus20000")
    machine = layout.add("compute-3")
    assert layout.underlay == "stratus20000-underlay"
    assert machine.namespace == "stratus20000-compute-3"
    assert machine.port == "compute-3"
    assert layout.operator_link == "stratus20000-op"
    assert len(layout.operator_link) <= IFNAMSIZ


@pytest.mark.parametrize("prefix", ["", "stratus200000", "Strat", "1rack", "a b", "rack_1"])
def test_a_prefix_that_cannot_name_the_operator_link_is_refused(prefix):
    with pytest.raises(RackError, match="rack prefix"):
        Layout(prefix)


@pytest.mark.parametrize(
    "name", ["switch", "operator", "underlay", "lo", "a-very-long-machine", "Compute", "c 1"]
)
def test_a_reserved_or_unfit_machine_name_is_refused(name):
    with pytest.raises(RackError, match="machine name"):
        Layout("strk").add(name)


def test_a_machine_added_twice_or_with_no_addresses_is_refused():
    layout = Layout("strk")
    layout.add("controller")
    with pytest.raises(RackError, match="already"):
        layout.add("controller")
    with pytest.raises(RackError, match="addresses"):
        layout.add("compute-1", addresses=0)
    with pytest.raises(RackError, match="addresses"):
        layout.add("compute-1", addresses=11)


def test_the_rack_answers_names_and_addresses_before_anything_is_made(tmp_path):
    rack = Rack("strk", tmp_path, tag=5)
    rack.layout.add("controller", addresses=2)
    assert rack.namespace("controller") == "strk-controller"
    assert rack.exec_prefix("controller") == ["ip", "netns", "exec", "strk-controller"]
    assert rack.address("controller") == "10.251.5.10"
    assert rack.address("controller", 1) == "10.251.5.11"
    assert rack.operator_address == "10.251.5.1"
    assert rack.state_file == tmp_path / "rack.json"
    assert not rack.state_file.exists()


def test_an_unknown_machine_or_address_index_is_a_rack_error(tmp_path):
    rack = Rack("strk", tmp_path)
    rack.layout.add("controller")
    with pytest.raises(RackError, match="no machine 'compute-9'"):
        rack.namespace("compute-9")
    with pytest.raises(RackError, match="no #1"):
        rack.address("controller", 1)


def test_a_machine_cannot_be_added_before_the_rack_is_created():
    with pytest.raises(RackError, match="not created"):
        Rack("strk", Path("/nonexistent")).add("controller")


def test_routes_overlapping_the_subnet_are_named_and_the_default_route_is_not():
    subnet = ipaddress.IPv4Network("10.251.20.0/24")
    routes = [
        {"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"},
        {"dst": "192.0.2.0/24", "dev": "eth0"},
        {"dst": "10.0.0.0/8", "dev": "vpn0"},
        {"dst": "10.251.20.1", "dev": "other-op", "type": "local", "table": "local"},
        {"dst": "10.251.21.0/24", "dev": "next-op"},
        {"dst": "fe80::/64", "dev": "eth0"},
    ]
    assert overlapping_routes(subnet, routes) == ["10.0.0.0/8 dev vpn0", "10.251.20.1 dev other-op"]


def test_namespaces_are_found_by_prefix_with_its_dash():
    listing = "strk12-controller (id: 4)\nstrk123-controller (id: 5)\nstrk12-underlay\nother\n"
    assert namespaces_with_prefix(listing, "strk12") == ["strk12-controller", "strk12-underlay"]
    assert namespace_listed(listing, "strk12-underlay")
    assert not namespace_listed(listing, "strk12")
