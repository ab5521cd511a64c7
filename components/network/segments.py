"""VXLAN segments: the configured VNI ranges, and a VNI of its own for each new network.

As Neutron's ml2 vxlan type driver, but without a row per free VNI: a VNI is
held by the network row carrying it (UNIQUE on network_type, segmentation_id)
and freed when that row is deleted. A creation starts looking at a random VNI
of the ranges, so concurrent creators seldom pick the same one; when they do,
the loser's insert fails on the UNIQUE index and it looks again, now seeing the
winner's row.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import peewee

from components.framework import (
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
    quote,
    transactions,
)
from components.network.models import Network

NETWORK_TYPE = "vxlan"
# A VNI is 24 bits wide; Neutron's MIN_VXLAN_VNI and MAX_VXLAN_VNI.
VNI_MIN, VNI_MAX = 1, 2**24 - 1
# How many times one creation looks again after losing a VNI to a concurrent one.
ATTEMPTS = 32

Range = tuple[int, int]
_random = random.SystemRandom()


def parse_ranges(text: str) -> tuple[Range, ...]:
    """``"1:1000,2000:3000"`` (Neutron's vni_ranges) as sorted inclusive (min, max) pairs."""
    ranges = []
    for part in text.split(","):
        low, sep, high = part.strip().partition(":")
        try:
            pair = (int(low), int(high)) if sep else None
        except ValueError:
            pair = None
        if pair is None or not VNI_MIN <= pair[0] <= pair[1] <= VNI_MAX:
            raise InvalidArgument(
                f"vni_ranges {quote(text)} must be comma-separated MIN:MAX ranges"
                f" within {VNI_MIN}:{VNI_MAX}",
                field="vni_ranges",
            )
        ranges.append(pair)
    ranges.sort()
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start <= end:
            raise InvalidArgument(f"vni_ranges {quote(text)} overlap", field="vni_ranges")
    return tuple(ranges)


DEFAULT_RANGES = parse_ranges(f"{VNI_MIN}:{VNI_MAX}")


def _search_order(ranges: tuple[Range, ...], rng: random.Random) -> Iterator[Range]:
    """The ranges cut at a random VNI: from it to the end, then around back to it."""
    pick = rng.randrange(sum(high - low + 1 for low, high in ranges))
    for index, (low, high) in enumerate(ranges):
        if pick <= high - low:
            start = low + pick
            yield start, high
            yield from ranges[index + 1 :]
            yield from ranges[:index]
            if start > low:
                yield low, start - 1
            return
        pick -= high - low + 1


def _first_free(low: int, high: int) -> int | None:
    """The lowest VNI of [low, high] no network holds, or None."""
    vxlan = Network.network_type == NETWORK_TYPE
    if not Network.select().where(vxlan & (Network.segmentation_id == low)).exists():
        return low
    following = Network.alias()
    gap = (
        Network.select(Network.segmentation_id + 1)
        .where(
            vxlan
            & Network.segmentation_id.between(low, high - 1)
            & ~peewee.fn.EXISTS(
                following.select().where(
                    (following.network_type == NETWORK_TYPE)
                    & (following.segmentation_id == Network.segmentation_id + 1)
                )
            )
        )
        .order_by(Network.segmentation_id)
        .limit(1)
    )
    return gap.scalar()


def free_vni(ranges: tuple[Range, ...], rng: random.Random = _random) -> int:
    """A VNI of ``ranges`` no network holds now; RESOURCE_EXHAUSTED if there is none."""
    for low, high in _search_order(ranges, rng):
        vni = _first_free(low, high)
        if vni is not None:
            return vni
    spans = ",".join(f"{low}:{high}" for low, high in ranges)
    raise ResourceExhausted(
        f"every VXLAN VNI of the configured ranges ({spans}) is in use;"
        " delete a network or widen vni_ranges"
    )


def create_network(ranges: tuple[Range, ...], fields: dict) -> Network:
    """A new network row with ``fields`` and a VNI of ``ranges`` no other network holds."""

    def insert() -> Network:
        vni = free_vni(ranges)
        return Network.create(network_type=NETWORK_TYPE, segmentation_id=vni, **fields)

    for _ in range(ATTEMPTS):
        try:
            return transactions.run(insert)
        except peewee.IntegrityError:
            # A concurrent creation took the VNI first; the next look sees it.
            continue
    raise Unavailable("concurrent network creations kept taking the free VNIs; try again")
