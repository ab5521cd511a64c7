"""Starting and stopping the host's background work with the component."""

from __future__ import annotations

import functools
import logging

from components.compute import heartbeat, reconcile
from components.compute.host import Host
from components.framework import Periodic

log = logging.getLogger(__name__)


def start_background(runtime) -> None:
    """Report the node, reconcile and (nic_type "bridge") refresh the network segments
    now, then every interval (each on its own thread)."""
    host: Host = runtime.state["host"]
    host.port = runtime.port
    config = host.config
    first = [True]

    def reconcile_task() -> None:
        startup, first[0] = first[0], False
        reconcile.reconcile(host, startup=startup)

    runtime.state["periodic"] = tasks = [
        Periodic("compute-heartbeat", config.report_interval_seconds,
                 functools.partial(heartbeat.report, host)),
        Periodic("compute-reconcile", config.reconcile_interval_seconds, reconcile_task),
    ]  # fmt: skip
    refresh = getattr(host.networks, "refresh", None)
    if refresh is not None:
        # Registers the tunnel endpoint at start, then keeps every bridge's peers current.
        tasks.append(Periodic("compute-segments", config.segment_refresh_seconds, refresh))
    for task in tasks:
        task.start()
    log.info("compute host %s at %s (libvirt %s)", host.name, host.address, config.libvirt_uri)


def stop_background(runtime) -> None:
    for task in runtime.state.pop("periodic", []):
        task.stop()
    host: Host | None = runtime.state.get("host")
    if host is not None:
        host.close()
