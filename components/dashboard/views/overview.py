"""The overview panel (Horizon's project overview): the project's quotas as bars.

Each service answers for its own limits and usage: the api for instances, vCPUs
and RAM (GetQuota gives both limit and in_use), the volume service for volumes
and gigabytes. A service that fails shows its message in place of its bars; the
rest of the page still renders. (The network service keeps no quotas, and key
pairs are limited per user by a setting GetQuota does not report, so neither
has bars.)
"""

from __future__ import annotations

import asyncio
import dataclasses

from starlette.requests import Request
from starlette.responses import Response

from components.dashboard.cloud import Cloud, ServiceError
from components.dashboard.web import Pages, render
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.volume.v1 import volume_service_pb2 as volume_pb2

pages = Pages()
# A bar fuller than this is drawn as nearly exhausted (.meter.high).
HIGH_PERCENT = 90.0
UNLIMITED = -1


@dataclasses.dataclass
class Bar:
    """One limit and its usage, as the page shows it."""

    key: str
    label: str
    used: int
    limit: int
    unit: str = ""

    @property
    def unlimited(self) -> bool:
        return self.limit < 0

    @property
    def percent(self) -> float:
        if self.unlimited:
            return 0.0
        if self.limit == 0:
            return 100.0 if self.used > 0 else 0.0
        return min(100.0, 100.0 * self.used / self.limit)

    @property
    def high(self) -> bool:
        return not self.unlimited and self.percent > HIGH_PERCENT

    def amount(self, value: int) -> str:
        if self.unit == "MiB" and value >= 1024 and value % 1024 == 0:
            return f"{value // 1024} GiB"
        if self.unit == "MiB" and value >= 1024:
            return f"{value / 1024:.1f} GiB"
        return f"{value} {self.unit}".strip()

    @property
    def numbers(self) -> str:
        limit = "unlimited" if self.unlimited else self.amount(self.limit)
        return f"{self.amount(self.used)} of {limit}"


@dataclasses.dataclass
class Section:
    """One service's bars, or the message saying why it has none."""

    key: str
    title: str
    bars: list[Bar] = dataclasses.field(default_factory=list)
    error: str = ""


async def compute_section(cloud: Cloud) -> Section:
    section = Section("compute", "Compute")
    try:
        quota = await cloud.quotas.GetQuota(api_pb2.GetQuotaRequest())
    except ServiceError as error:
        section.error = str(error)
        return section
    section.bars = [
        Bar("instances", "Instances", quota.instances.in_use, quota.instances.limit),
        Bar("cores", "vCPUs", quota.cores.in_use, quota.cores.limit),
        Bar("ram", "RAM", quota.ram_mib.in_use, quota.ram_mib.limit, "MiB"),
    ]
    return section


async def volume_section(cloud: Cloud) -> Section:
    section = Section("volume", "Volumes")
    try:
        quota = await cloud.volumes.GetQuota(volume_pb2.GetQuotaRequest())
    except ServiceError as error:
        section.error = str(error)
        return section
    section.bars = [
        Bar("volumes", "Volumes", quota.volumes_used, quota.volumes_limit),
        Bar("gigabytes", "Volume storage", quota.size_gib_used, quota.size_gib_limit, "GiB"),
    ]
    return section


@pages.get("/project/")
async def overview(request: Request, cloud: Cloud) -> Response:
    sections = await asyncio.gather(compute_section(cloud), volume_section(cloud))
    return render(request, "overview.html", title="Overview", sections=sections)
