"""The DHCP agent's settings, and where it keeps dnsmasq's files."""

import pytest

from components.framework import InvalidArgument
from components.network import dhcp_agent
from components.network.config import NetworkConfig


def test_no_driver_needs_nothing_else():
    dhcp_agent.check_config(NetworkConfig())


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"dhcp_driver": "isc"}, "dhcp_driver"),
        ({"dhcp_driver": "dnsmasq", "dhcp_underlay_device": "lo"}, "dhcp_tunnel_ip"),
        ({"dhcp_driver": "dnsmasq", "dhcp_tunnel_ip": "fd00::1"}, "dhcp_tunnel_ip"),
        ({"dhcp_driver": "dnsmasq", "dhcp_tunnel_ip": "10.0.0.1"}, "dhcp_underlay_device"),
    ],
)
def test_a_driver_that_cannot_work_refuses_to_start(fields, field):
    with pytest.raises(InvalidArgument) as caught:
        dhcp_agent.check_config(NetworkConfig(**fields))
    assert caught.value.metadata["field"] == field


def test_dnsmasq_files_are_under_run_one_directory_per_data_dir(tmp_path):
    first = dhcp_agent.files_root(tmp_path / "a")
    assert first.parent == dhcp_agent.RUN_ROOT
    assert first == dhcp_agent.files_root(tmp_path / "a" / ".." / "a")
    assert first != dhcp_agent.files_root(tmp_path / "b")
