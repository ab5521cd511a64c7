"""What a compute host may report about itself: a real name, a reachable address, sane sizes.

A host name is an RFC 1123 host name (letters, digits and hyphens in dot
separated labels of at most 63 characters, 255 in all); the address is
``host:port`` with an IP address (IPv6 in brackets) or such a name and a port
from 1 to 65535; capacities are at least 1 and at most what one machine can
have (4096 vCPUs, 64 TiB of memory, 1 PiB of disk), so that a typing error or
a hostile report cannot make one host look like a whole region.
"""

from __future__ import annotations

import ipaddress
import re

from components.framework import InvalidArgument, quote

MAX_HOST_NAME = 255
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# The most one host may report: (field, unit, upper bound).
MAX_CAPACITY = {
    "vcpus": 4096,
    "ram_mib": 64 * 1024 * 1024,  # 64 TiB
    "disk_gib": 1024 * 1024,  # 1 PiB
}
# Free-text facts about the hypervisor: at most this long, printable ASCII.
MAX_FACT = {"availability_zone": 255, "hypervisor_type": 64, "hypervisor_version": 64}
MAX_ARCHITECTURE = 32
_FACT = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")


def is_host_name(value: str) -> bool:
    return len(value) <= MAX_HOST_NAME and _HOST_NAME.fullmatch(value) is not None


def host_name(value: str, field: str = "host") -> str:
    """An RFC 1123 host name, or INVALID_ARGUMENT naming ``field``."""
    if not value:
        raise InvalidArgument(f"{field} is required", field=field)
    if not is_host_name(value):
        raise InvalidArgument(
            f"{field} {quote(value)} is not a host name (letters, digits, hyphens and dots, "
            f"labels of at most 63 characters, {MAX_HOST_NAME} in all)",
            field=field,
        )
    return value


def address(value: str, field: str = "address") -> str:
    """``host:port`` (``[v6]:port`` for IPv6) with a port from 1 to 65535."""
    if not value:
        raise InvalidArgument(f"{field} is required", field=field)
    bad = InvalidArgument(
        f"{field} {quote(value)} is not host:port (an IP address or host name, port 1-65535)",
        field=field,
    )
    if len(value) > MAX_HOST_NAME + 8:
        raise bad
    host, _, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        if not _is_ip(host[1:-1], version=6):
            raise bad
    elif not (_is_ip(host, version=4) or (is_host_name(host) and not _numeric(host))):
        raise bad
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise bad
    return value


def _is_ip(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


def _numeric(host: str) -> bool:
    """Looks like an IPv4 address (all digits and dots) but is not one: 10.0.0.300."""
    return all(part.isdigit() for part in host.split("."))


def capacity(field: str, value: int) -> int:
    """At least 1 and at most :data:`MAX_CAPACITY` for the field."""
    limit = MAX_CAPACITY[field]
    if not 1 <= value <= limit:
        raise InvalidArgument(f"{field} {value} is not between 1 and {limit}", field=field)
    return value


def fact(field: str, value: str, required: bool = False) -> str:
    """A short printable fact (zone, hypervisor type or version, architecture)."""
    limit = MAX_ARCHITECTURE if field == "architecture" else MAX_FACT[field]
    if not value:
        if required:
            raise InvalidArgument(f"{field} is required", field=field)
        return value
    if len(value) > limit or _FACT.fullmatch(value) is None:
        raise InvalidArgument(
            f"{field} {quote(value)} is not printable text of at most {limit} characters",
            field=field,
        )
    return value


def checked_report(fields: dict) -> dict:
    """The fields of a ReportComputeNode request, each checked; INVALID_ARGUMENT names the first
    bad one."""
    checked = dict(fields)
    checked["host"] = host_name(fields["host"])
    checked["address"] = address(fields["address"])
    for name in MAX_CAPACITY:
        checked[name] = capacity(name, fields[name])
    for name in (*MAX_FACT, "architecture"):
        if name in fields:
            checked[name] = fact(name, fields[name])
    return checked
