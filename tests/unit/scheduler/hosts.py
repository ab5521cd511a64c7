"""Host states and specs for the scheduler's unit tests."""

from __future__ import annotations

from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec


def host(name: str = "node-1", **overrides) -> HostState:
    values = {
        "id": f"id-{name}",
        "host": name,
        "address": f"{name}:8782",
        "availability_zone": "nova",
        "hypervisor_type": "QEMU",
        "architecture": "x86_64",
        "enabled": True,
        "is_up": True,
        "free_vcpus": 64.0,
        "free_ram_mib": 16384.0,
        "free_disk_gib": 100.0,
    }
    values.update(overrides)
    return HostState(**values)


def spec(**overrides) -> RequestSpec:
    values = {
        "project_id": "project-1",
        "user_id": "user-1",
        "vcpus": 2,
        "ram_mib": 2048,
        "disk_gib": 20,
    }
    values.update(overrides)
    return RequestSpec(**values)
