"""Whether a TCP port can be bound: the supervisor checks its ports before it starts
the cloud, and the volume service picks a free one for each NBD export."""

from __future__ import annotations

import socket


def bindable(host: str, port: int) -> bool:
    """Whether nothing on this machine listens on ``host:port`` (an IPv4 or IPv6
    address). TIME_WAIT is no obstacle: the probe binds with SO_REUSEADDR, as the
    servers it stands in for do."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
