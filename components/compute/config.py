"""The compute host's settings beyond the common ones."""

from __future__ import annotations

import dataclasses
import socket

from components.framework import Config


@dataclasses.dataclass
class ComputeConfig(Config):
    # The name this host registers under and the scheduler places instances on
    # (nova's CONF.host). Not `host`: the framework's `host` is the address the
    # gRPC server binds to. Several hosts on one machine differ by this name,
    # their port and their data_dir.
    host_name: str = dataclasses.field(default_factory=socket.gethostname)
    # "host:port" other components reach this host at; empty means
    # "<bind host>:<port>" (127.0.0.1 when bound to every interface).
    advertised_address: str = ""
    # "qemu:///system" for real guests (run-all adds "?socket=..." for the
    # libvirtd it starts).
    libvirt_uri: str = "test:///default"
    # The <domain type=...> of the guests: "qemu" (TCG), "kvm", ... The libvirt
    # test driver accepts any of them. "auto": "kvm" if a start-up probe finds
    # that QEMU with KVM runs a stock guest, else "qemu" (accelerator.py).
    domain_type: str = "qemu"
    # How guest NICs are wired (<interface type=...>): "ethernet" gives each NIC
    # a tap device ("tap" + the port id) for a network agent to plug, as nova
    # does with neutron; "bridge" has libvirt put that tap on a Linux bridge the
    # host makes per Stratus network, joined to the network's VXLAN segment
    # (segments.py: neutron's Linux-bridge agent, for guests across machines;
    # the network service's DHCP agent hands each port its fixed IP); "user"
    # needs no privileges (user-mode networking). Any other value stops the
    # host at start.
    nic_type: str = "ethernet"
    # The network namespace the guests' bridges live in: where libvirtd runs, if
    # in one ("" = the namespace this process runs in). "bridge" NICs' bridges
    # and VXLAN interfaces are made there.
    network_namespace: str = ""
    # nic_type "bridge": this host's VXLAN tunnel endpoint, the IPv4 underlay
    # address its VXLAN interfaces send from (registered with the network
    # service), and the device in network_namespace that holds it ("lo" when
    # every host shares one machine, else the machine's underlay interface).
    tunnel_ip: str = ""
    underlay_device: str = ""
    # nic_type "bridge": how often the peers of every network this host has a
    # bridge for are read again (a host joining or leaving a network is reached
    # or dropped within this period).
    segment_refresh_seconds: float = 2.0
    availability_zone: str = "nova"
    report_interval_seconds: float = 10.0
    reconcile_interval_seconds: float = 60.0
    # Capacity offered to the scheduler; 0 means what libvirt reports (vcpus,
    # ram_mib) or the size of the file system holding data_dir (disk_gib).
    vcpus: int = 0
    ram_mib: int = 0
    disk_gib: int = 0
    # How long a guest gets to stop (or come back from a soft reboot) before it
    # is powered off (or hard-rebooted).
    shutdown_timeout_seconds: float = 60.0
    reboot_timeout_seconds: float = 60.0
    # An instance left SCHEDULING on this host for longer than this (the
    # build cast was lost) is failed by the reconciler.
    stale_task_seconds: float = 600.0
    # How long a call or cast to the conductor is retried while the conductor
    # cannot be reached (it restarts), with backoff, before the host gives up
    # on it (a build then fails; its failure report is retried by the reconciler).
    conductor_retry_seconds: float = 30.0
    # A build failure this host reported is reported again by the reconciler if
    # the instance is still building here this long after (the cast was lost).
    failure_resend_seconds: float = 20.0
    # Builds and other casts handled at the same time (different instances).
    cast_workers: int = 16
    # Give every guest built here a config drive, even one that did not ask for
    # it (nova's force_config_drive).
    force_config_drive: bool = False
