"""The volume service's settings beyond the common ones."""

from __future__ import annotations

import dataclasses

from components.framework import Config


@dataclasses.dataclass
class VolumeConfig(Config):
    # Limits of a project that has none of its own; -1 means unlimited.
    default_volumes_limit: int = 10
    default_size_gib_limit: int = 1000
    # Image copies run in the background, this many at a time.
    image_copy_workers: int = 4
    image_download_timeout_seconds: float = 3600.0
    # How attached volumes reach compute hosts: "file" (the host opens the volume's
    # file; one machine) or "nbd" (one qemu-storage-daemon NBD export per attachment,
    # bound to nbd_host, with TLS from tls_ca_file/tls_cert_file/tls_key_file).
    volume_transport: str = "file"
    # The address exports listen on and compute hosts connect to; empty: ``host``.
    nbd_host: str = ""
    # Each attachment's export takes one free port of this range (both ends
    # included); 10809 is NBD's registered port. 100 ports: 100 attached volumes.
    nbd_port_min: int = 10809
    nbd_port_max: int = 10908
