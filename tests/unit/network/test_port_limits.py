"""The network service's limit on fixed IPs per port (Neutron's max_fixed_ips_per_port)."""

import pytest

from components.framework.errors import InvalidArgument
from components.network import ports
from components.network.config import NetworkConfig


def test_a_port_holds_five_fixed_ips_by_default():
    assert NetworkConfig().max_fixed_ips_per_port == 5


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_refused_at_start(limit):
    with pytest.raises(InvalidArgument) as info:
        ports.check_max_fixed_ips(limit)
    assert info.value.metadata["field"] == "max_fixed_ips_per_port"


def test_a_limit_of_one_or_more_is_kept():
    assert ports.check_max_fixed_ips(1) == 1
    assert ports.check_max_fixed_ips(64) == 64
