"""The host's choice of what plugs guest NICs, by nic_type, and its refusal of unknown ones."""

from __future__ import annotations

import types

import pytest

from components.compute.config import ComputeConfig
from components.compute.host import UnpluggedNics, _guest_networks, build_host
from components.compute.network import PluggedPort
from components.framework import InvalidArgument

PORT = PluggedPort(
    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "n-1", "private", "fa:16:3e:00:00:01", "10.0.0.5", 1450
)


class NoClients:
    def stub(self, *args, **kwargs):
        raise AssertionError("an unknown nic_type stops the host before it calls anything")


def runtime_with(tmp_path, nic_type: str):
    config = ComputeConfig(host_name="host-1", nic_type=nic_type, data_dir=str(tmp_path))
    return types.SimpleNamespace(config=config, clients=NoClients())


@pytest.mark.parametrize("nic_type", ["ethernet", "user"])
def test_ethernet_and_user_nics_are_plugged_nowhere(tmp_path, nic_type):
    networks = _guest_networks(runtime_with(tmp_path, nic_type), tmp_path)
    assert isinstance(networks, UnpluggedNics)
    assert networks.enabled is False
    nic = networks.nic(PORT)
    assert (nic.port_id, nic.mac_address, nic.mtu, nic.bridge) == (
        PORT.port_id,
        PORT.mac_address,
        1450,
        "",
    )
    networks.plug(PORT)
    networks.unplug(PORT.network_id, PORT.mac_address)
    assert not hasattr(networks, "refresh"), "no segments to refresh in the background"


@pytest.mark.parametrize("nic_type", ["network", "macvtap", ""])
def test_an_unknown_nic_type_stops_the_host_at_start_naming_the_allowed_ones(tmp_path, nic_type):
    with pytest.raises(InvalidArgument, match="must be one of ethernet, bridge, user") as raised:
        build_host(runtime_with(tmp_path, nic_type))
    assert "STRATUS_COMPUTE_NIC_TYPE" in str(raised.value)
    assert not (tmp_path / "compute").exists(), "nothing is made before the check"
