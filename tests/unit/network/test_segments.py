"""VNI ranges as Neutron's vni_ranges reads them, and the order a creation searches them in."""

from __future__ import annotations

import random

import pytest

from components.framework import InvalidArgument
from components.network import segments


def test_ranges_are_parsed_sorted_and_inclusive():
    assert segments.parse_ranges(" 200:300,1:1 ") == ((1, 1), (200, 300))
    assert segments.DEFAULT_RANGES == ((1, 16777215),)


@pytest.mark.parametrize(
    "text", ["", "5", "0:10", "10:5", "1:16777216", "1:10,5:20", "a:b", "1:2,"]
)
def test_malformed_ranges_are_invalid_argument(text):
    with pytest.raises(InvalidArgument, match="vni_ranges"):
        segments.parse_ranges(text)


@pytest.mark.parametrize("seed", range(20))
def test_the_search_covers_every_vni_once_starting_at_a_random_one(seed):
    ranges = ((3, 5), (10, 10), (20, 23))
    order = list(segments._search_order(ranges, random.Random(seed)))
    vnis = [vni for low, high in order for vni in range(low, high + 1)]
    assert sorted(vnis) == [3, 4, 5, 10, 20, 21, 22, 23]
    assert all(low <= high for low, high in order)
