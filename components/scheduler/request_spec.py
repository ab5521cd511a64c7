"""What a server needs from a host, as the filters and weighers read it."""

from __future__ import annotations

import dataclasses

from components.compute_db.claims import Resources


@dataclasses.dataclass(frozen=True)
class RequestSpec:
    project_id: str
    user_id: str
    vcpus: int
    ram_mib: int
    disk_gib: int
    availability_zone: str = ""
    image_properties: dict[str, str] = dataclasses.field(default_factory=dict)
    ignore_hosts: frozenset[str] = frozenset()
    # The only host to consider (an admin's "ZONE:HOST"); empty means any.
    requested_host: str = ""

    @property
    def resources(self) -> Resources:
        return Resources(vcpus=self.vcpus, ram_mib=self.ram_mib, disk_gib=self.disk_gib)
