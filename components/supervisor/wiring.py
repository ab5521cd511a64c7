"""How run-all wires real guests (``HYPERVISOR=qemu``): the one place naming the settings
it gives the network, compute and volume services for them, and the leftovers of theirs
it cleans after a run.

The design is devstack's, with one host or several:

* Guest networks are Linux bridges joined across hosts by VXLAN over the underlay
  (components/network/vxlan.py): each compute host plugs its guests' taps into
  them (``nic_type`` "bridge"), and the network service's DHCP agent serves each
  network from a dnsmasq in a namespace ``qdhcp-<network id>`` plugged into the
  bridge of its own host.
* One machine (``make run-all HYPERVISOR=qemu``): an all-in-one host. The bridges
  live in the guests' namespace (where libvirtd runs); the compute hosts and the
  DHCP agent (the network service runs in the root namespace) both use that
  namespace's bridges, VXLAN endpoints 127.0.0.1 on ``lo``. Volumes are files.
* Machines (``make run-all MACHINES=2 HYPERVISOR=qemu``): each compute machine
  runs its own libvirtd; the network service runs on machine ``network`` and
  its DHCP agent has the bridges in that machine's own namespace; every VXLAN
  endpoint is its machine's underlay address on ``eth0``. Volumes reach
  compute hosts over NBD with TLS from the controller's volume service.

The names of the settings are spelled here only.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

# --- The network service's DHCP agent (components/network/dhcp_agent.py).
NETWORK_DHCP_DRIVER = "STRATUS_NETWORK_DHCP_DRIVER"
NETWORK_DHCP_HOST = "STRATUS_NETWORK_DHCP_HOST"
NETWORK_DHCP_TUNNEL_IP = "STRATUS_NETWORK_DHCP_TUNNEL_IP"
NETWORK_DHCP_UNDERLAY_DEVICE = "STRATUS_NETWORK_DHCP_UNDERLAY_DEVICE"
NETWORK_DHCP_BRIDGE_NAMESPACE = "STRATUS_NETWORK_DHCP_BRIDGE_NAMESPACE"
DHCP_DRIVER = "dnsmasq"
# The host name the DHCP agent binds its ports to, and the rack machine it runs on.
DHCP_HOST = "network"
NETWORK_MACHINE = "network"
# The network machine's underlay address: host .5 of the rack's /24 (the operator is
# .1, the machines added in order .10, .20, ...).
NETWORK_MACHINE_HOST = 5

# --- Compute hosts (components/compute/config.py).
COMPUTE_LIBVIRT_URI = "STRATUS_COMPUTE_LIBVIRT_URI"
COMPUTE_DOMAIN_TYPE = "STRATUS_COMPUTE_DOMAIN_TYPE"
COMPUTE_NIC_TYPE = "STRATUS_COMPUTE_NIC_TYPE"
COMPUTE_TUNNEL_IP = "STRATUS_COMPUTE_TUNNEL_IP"
COMPUTE_UNDERLAY_DEVICE = "STRATUS_COMPUTE_UNDERLAY_DEVICE"
COMPUTE_NETWORK_NAMESPACE = "STRATUS_COMPUTE_NETWORK_NAMESPACE"
NIC_TYPE = "bridge"
# The domain type a start-up probe picks (KVM only if it runs stock guests).
DOMAIN_TYPE = "auto"

# --- The volume service (components/volume/config.py).
VOLUME_TRANSPORT = "STRATUS_VOLUME_VOLUME_TRANSPORT"
VOLUME_NBD_HOST = "STRATUS_VOLUME_NBD_HOST"
VOLUME_NBD_PORT_MIN = "STRATUS_VOLUME_NBD_PORT_MIN"
VOLUME_NBD_PORT_MAX = "STRATUS_VOLUME_NBD_PORT_MAX"
# NBD exports (one per attachment) take ports NBD_PORT_BASE + offset onwards: above
# every port of run-all's components (at most 10696 + offset, a TLS internal port),
# and, for offsets up to 21000, below Linux's ephemeral ports (32768).
NBD_PORT_BASE = 11000
NBD_PORTS = 200
EPHEMERAL_PORTS_START = 32768

# One machine's VXLAN endpoint.
LOOPBACK_TUNNEL_IP = "127.0.0.1"
LOOPBACK_DEVICE = "lo"


def network_env(tunnel_ip: str, underlay_device: str, bridge_namespace: str) -> dict[str, str]:
    """The network service's DHCP agent: dnsmasq per network, bridges in
    ``bridge_namespace`` ("": the service's own), VXLAN from ``tunnel_ip``."""
    return {
        NETWORK_DHCP_DRIVER: DHCP_DRIVER,
        NETWORK_DHCP_HOST: DHCP_HOST,
        NETWORK_DHCP_TUNNEL_IP: tunnel_ip,
        NETWORK_DHCP_UNDERLAY_DEVICE: underlay_device,
        NETWORK_DHCP_BRIDGE_NAMESPACE: bridge_namespace,
    }


def compute_env(
    libvirt_uri: str, tunnel_ip: str, underlay_device: str, network_namespace: str
) -> dict[str, str]:
    """A compute host of real guests: its libvirtd, guests' NICs on bridges in
    ``network_namespace`` ("": the host's own), VXLAN from ``tunnel_ip``."""
    return {
        COMPUTE_LIBVIRT_URI: libvirt_uri,
        COMPUTE_DOMAIN_TYPE: DOMAIN_TYPE,
        COMPUTE_NIC_TYPE: NIC_TYPE,
        COMPUTE_TUNNEL_IP: tunnel_ip,
        COMPUTE_UNDERLAY_DEVICE: underlay_device,
        COMPUTE_NETWORK_NAMESPACE: network_namespace,
    }


def nbd_ports(port_offset: int) -> tuple[int, int]:
    """The NBD export ports of a run at ``port_offset`` (both ends included)."""
    first = NBD_PORT_BASE + port_offset
    last = first + NBD_PORTS - 1
    if last >= EPHEMERAL_PORTS_START:
        raise ValueError(
            f"port offset {port_offset} puts NBD exports at {first}-{last}, into the "
            f"ephemeral ports (>= {EPHEMERAL_PORTS_START}): use an offset of at most "
            f"{EPHEMERAL_PORTS_START - NBD_PORT_BASE - NBD_PORTS}"
        )
    return first, last


def volume_env(nbd_host: str, port_offset: int) -> dict[str, str]:
    """The volume service exporting attached volumes over NBD with TLS (its own
    certificate) on ``nbd_host``."""
    first, last = nbd_ports(port_offset)
    return {
        VOLUME_TRANSPORT: "nbd",
        VOLUME_NBD_HOST: nbd_host,
        VOLUME_NBD_PORT_MIN: str(first),
        VOLUME_NBD_PORT_MAX: str(last),
    }


def clean_network_leftovers(data_dir: Path) -> None:
    """End the DHCP agent's dnsmasq and delete its ``qdhcp-*`` namespaces of the run
    whose network service had ``data_dir`` (STRATUS_DATA_DIR)."""
    from components.network import dhcp_agent

    try:
        dhcp_agent.clean_leftovers(Path(data_dir))
    except Exception as error:  # one cleanup failing must not keep the others
        log.error("cleaning the DHCP agent's leftovers failed: %s", error)


def stop_volume_exports(data_dir: Path) -> list[int]:
    """Stop the qemu-storage-daemon exports the volume service of ``data_dir`` left
    running (a crash of it, or of run-all); their pids."""
    from components.volume import exports, nbd

    try:
        return nbd.stop_stale(exports.run_dir_of(data_dir))
    except Exception as error:
        log.error("stopping the volume service's NBD exports failed: %s", error)
        return []


def clean_leftovers(data_dir: Path) -> None:
    """What the services of real guests leave outside the namespaces run-all deletes."""
    clean_network_leftovers(data_dir)
    stopped = stop_volume_exports(data_dir)
    if stopped:
        log.warning("stopped NBD exports left running: pids %s", stopped)
