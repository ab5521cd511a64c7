"""What is on this host, for operators: its status and its libvirt domains."""

from __future__ import annotations

import dataclasses
import time

from components.compute.host import Host
from components.compute.libvirt_driver import RUNNING, DomainInfo
from components.framework import InvalidArgument, paging

_TOKEN_KIND = "domain"


@dataclasses.dataclass(frozen=True)
class HostStatus:
    host: str
    hypervisor_type: str
    hypervisor_version: str
    libvirt_uri: str
    domain_count: int
    running_domain_count: int
    uptime_seconds: int


def host_status(host: Host) -> HostStatus:
    info = host.driver.host_info()
    domains = host.driver.list_domains()
    return HostStatus(
        host=host.name,
        hypervisor_type=info.hypervisor_type,
        hypervisor_version=info.hypervisor_version,
        libvirt_uri=info.uri,
        domain_count=len(domains),
        running_domain_count=sum(1 for d in domains if d.state == RUNNING),
        uptime_seconds=int(time.monotonic() - host.started),
    )


def domain_page(host: Host, size: int, token: str) -> tuple[list[DomainInfo], str]:
    """One page of the host's domains by name; the token is the last name served."""
    size = paging.page_size(size)
    after = _after(token)
    domains = [d for d in host.driver.list_domains() if d.name > after]
    if len(domains) <= size:
        return domains, ""
    page = domains[:size]
    return page, paging.encode_token([_TOKEN_KIND, page[-1].name])


def _after(token: str) -> str:
    if not token:
        return ""
    kind, name = paging.decode_token(token)
    if kind != _TOKEN_KIND or not isinstance(name, str):
        raise InvalidArgument("page_token is not valid", field="page_token")
    return name
