"""ListDomains reports each libvirt state as the Domain.State the contract names for it."""

import libvirt
import pytest

from components.compute.service import DOMAIN_STATES
from stratus.compute.v1 import compute_service_pb2 as pb2

State = pb2.Domain.State
EXPECTED = {
    "VIR_DOMAIN_NOSTATE": State.STATE_NO_STATE,
    "VIR_DOMAIN_RUNNING": State.STATE_RUNNING,
    "VIR_DOMAIN_BLOCKED": State.STATE_BLOCKED,
    "VIR_DOMAIN_PAUSED": State.STATE_PAUSED,
    "VIR_DOMAIN_SHUTDOWN": State.STATE_SHUTTING_DOWN,
    "VIR_DOMAIN_SHUTOFF": State.STATE_SHUTOFF,
    "VIR_DOMAIN_CRASHED": State.STATE_CRASHED,
    "VIR_DOMAIN_PMSUSPENDED": State.STATE_PM_SUSPENDED,
}


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_each_libvirt_state_is_the_domain_state_of_its_name(name, expected):
    assert DOMAIN_STATES[getattr(libvirt, name)] == expected


def test_every_domain_state_but_unspecified_is_reported_for_some_libvirt_state():
    assert set(DOMAIN_STATES.values()) == set(State.values()) - {State.STATE_UNSPECIFIED}
