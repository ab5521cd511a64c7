"""ReportComputeNode: the host registers at start and reports every report interval.

Capacity is what libvirt reports for the machine (vCPUs, memory) and the size
of the file system holding the data directory (disk), unless configured.
"""

from __future__ import annotations

import logging
import shutil

from components.compute.disks import GIB
from components.compute.host import Host
from stratus.conductor.v1 import conductor_service_pb2 as cond_pb2

log = logging.getLogger(__name__)


def node_report(host: Host) -> cond_pb2.ReportComputeNodeRequest:
    info = host.driver.host_info()
    config = host.config
    return cond_pb2.ReportComputeNodeRequest(
        host=host.name,
        address=host.address,
        availability_zone=config.availability_zone,
        hypervisor_type=info.hypervisor_type,
        hypervisor_version=info.hypervisor_version,
        architecture=info.architecture,
        vcpus=config.vcpus or info.vcpus,
        ram_mib=config.ram_mib or info.memory_mib,
        disk_gib=config.disk_gib or _disk_gib(host),
    )


def _disk_gib(host: Host) -> int:
    host.root.mkdir(parents=True, exist_ok=True)
    return max(1, shutil.disk_usage(host.root).total // GIB)


def report(host: Host) -> float | None:
    """Report once; returns the interval the conductor asks for (None: keep ours)."""
    reply = host.conductor.report_node(node_report(host))
    log.debug("reported %s to the conductor (enabled=%s)", host.name, reply.enabled)
    return float(reply.report_interval_seconds) or None
