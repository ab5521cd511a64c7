"""MAC addresses: requested ones are checked and normalized, generated ones carry the prefix."""

from __future__ import annotations

import random

import pytest

from components.framework.errors import InvalidArgument
from components.network import macs


def test_requested_mac_is_lowercased_with_colons():
    assert macs.normalize("FA-16-3E-AA-BB-0C") == "fa:16:3e:aa:bb:0c"
    assert macs.normalize(" 02:00:00:00:00:01 ") == "02:00:00:00:00:01"


@pytest.mark.parametrize(
    "bad",
    [
        "01:00:5e:00:00:01",
        "ff:ff:ff:ff:ff:ff",
        "00:00:00:00:00:00",
        "fa:16:3e:aa:bb",
        "fa:16:3e:aa:bb:cc:dd",
        "fa-16:3e:aa:bb:cc",
        "fa163eaabbcc",
        "gg:16:3e:aa:bb:cc",
        "",
    ],
)
def test_multicast_zero_and_malformed_macs_are_refused(bad):
    with pytest.raises(InvalidArgument) as info:
        macs.normalize(bad)
    assert info.value.metadata["field"] == "mac_address"


def test_generated_macs_carry_the_prefix_and_are_unicast():
    rng = random.Random(7)
    generated = {macs.generate("fa:16:3e", rng) for _ in range(200)}
    assert len(generated) > 190  # random, so the odd repeat is possible
    for mac in generated:
        assert mac.startswith("fa:16:3e:") and macs.normalize(mac) == mac


def test_prefix_must_be_unicast_octets():
    assert macs.check_prefix("FA:16:3E") == "fa:16:3e"
    for bad in ("fb:16:3e", "fa:16:3e:00:00:00", "fa-16-3e", ""):
        with pytest.raises(InvalidArgument):
            macs.check_prefix(bad)
