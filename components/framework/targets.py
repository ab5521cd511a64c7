"""gRPC targets: one address, or a service's replicas as one round-robin target."""

from __future__ import annotations

import ipaddress
import json

# gRPC's load balancing over every address a target lists: each call goes to the next
# replica, and one that stops answering is skipped until it is back.
LOAD_BALANCING = [{"round_robin": {}}]
ROUND_ROBIN = json.dumps({"loadBalancingConfig": LOAD_BALANCING})


def grpc_target(addresses: list[str]) -> str | None:
    """One gRPC target for ``addresses``: the address itself when alone, else
    "ipv4:a:p,b:p" or "ipv6:[a]:p,[b]:p"; None when they are not all IP addresses of
    one family (a host name, or both families), which no single target can list."""
    if len(addresses) == 1:
        return addresses[0]
    families = {_family(address) for address in addresses}
    if families == {4}:
        return "ipv4:" + ",".join(addresses)
    if families == {6}:
        return "ipv6:" + ",".join(addresses)
    return None


def _family(address: str) -> int | None:
    """4 for "a.b.c.d:port", 6 for "[v6]:port", None for anything else (a host name)."""
    host = address.rpartition(":")[0]
    bracketed = host.startswith("[") and host.endswith("]")
    try:
        ip = ipaddress.ip_address(host[1:-1] if bracketed else host)
    except ValueError:
        return None
    return ip.version if (ip.version == 6) == bracketed else None
