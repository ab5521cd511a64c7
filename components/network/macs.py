"""MAC addresses: checking a requested one, generating random ones under a prefix."""

from __future__ import annotations

import random
import re

from components.framework import InvalidArgument, quote

_MAC = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")
_PREFIX = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){0,4}$")
_random = random.SystemRandom()


def normalize(text: str, field: str = "mac_address") -> str:
    """A requested MAC in canonical form (lowercase, colons); it must be unicast."""
    value = text.strip().lower()
    if not _MAC.match(value):
        raise InvalidArgument(
            f"{field} {quote(text)} is not a MAC address like fa:16:3e:12:34:56", field=field
        )
    value = value.replace("-", ":")
    octets = [int(part, 16) for part in value.split(":")]
    if octets[0] & 1:
        raise InvalidArgument(f"{field} {value} is a multicast address", field=field)
    if not any(octets):
        raise InvalidArgument(f"{field} {value} is the all-zero address", field=field)
    return value


def check_prefix(prefix: str) -> str:
    """The configured prefix (one to five octets) in canonical form; it must be unicast."""
    value = prefix.strip().lower()
    if not _PREFIX.match(value) or int(value[:2], 16) & 1:
        raise InvalidArgument(
            f"mac_prefix {quote(prefix)} must be one to five unicast octets like fa:16:3e",
            field="mac_prefix",
        )
    return value


def generate(prefix: str, rng: random.Random = _random) -> str:
    """A random MAC starting with ``prefix``."""
    octets = prefix.split(":")
    octets += [f"{rng.randrange(256):02x}" for _ in range(6 - len(octets))]
    return ":".join(octets)
