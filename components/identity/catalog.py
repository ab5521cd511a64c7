"""The service catalog: which component serves which type, at which addresses.

An endpoint has Keystone's interface: "public" for users, "internal" for the
components (mutual TLS), "admin". Several endpoints of one service, region and
interface are replicas of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import peewee

from components.framework import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    paging,
    transactions,
    validation,
)
from components.identity.models import CatalogService, Endpoint

_TYPE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")
PUBLIC = "public"
INTERFACES = (PUBLIC, "internal", "admin")


def check_address(address: str) -> str:
    match = _ADDRESS.match(address)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise InvalidArgument(f"address {address!r} is not host:port", field="address")
    return address


def check_interface(interface: str) -> str:
    """``interface``, empty meaning "public"; another value is InvalidArgument."""
    interface = interface or PUBLIC
    if interface not in INTERFACES:
        raise InvalidArgument(
            f"interface {interface!r} is not one of {', '.join(INTERFACES)}", field="interface"
        )
    return interface


def create_service(type_: str, name: str) -> CatalogService:
    if not _TYPE.match(type_):
        raise InvalidArgument(
            f"type {type_!r} must be lower-case letters, digits, '-'", field="type"
        )
    name = validation.name("name", name or type_, 64)
    try:
        return transactions.run(lambda: CatalogService.create(type=type_, name=name))
    except peewee.IntegrityError:
        raise AlreadyExists(f"a service named {name!r} already exists", name=name) from None


def list_services(type_: str, size: int, token: str):
    query = CatalogService.select()
    if type_:
        query = query.where(CatalogService.type == type_)
    return paging.paginate(query, CatalogService, size, token)


def _service(service_id: str) -> CatalogService:
    validation.uuid_str("service_id", service_id)
    service = CatalogService.get_or_none(CatalogService.id == service_id)
    if service is None:
        raise NotFound(f"no service with id {service_id!r}", service_id=service_id)
    return service


def delete_service(service_id: str) -> None:
    _service(service_id).delete_instance(recursive=True)


def create_endpoint(
    service_id: str, region: str, address: str, interface: str = PUBLIC
) -> Endpoint:
    service = _service(service_id)
    region = validation.name("region", region or "RegionOne", 64)
    check_address(address)
    interface = check_interface(interface)
    try:
        return transactions.run(
            lambda: Endpoint.create(
                service=service, region=region, address=address, interface=interface
            )
        )
    except peewee.IntegrityError:
        raise AlreadyExists(
            f"service {service.name!r} already has the {interface} endpoint {address!r}"
            f" in {region!r}",
            region=region,
        ) from None


def list_endpoints(service_id: str, region: str, size: int, token: str, interface: str = ""):
    query = Endpoint.select()
    if service_id:
        query = query.where(Endpoint.service == validation.uuid_str("service_id", service_id))
    if region:
        query = query.where(Endpoint.region == region)
    if interface:
        query = query.where(Endpoint.interface == check_interface(interface))
    return paging.paginate(query, Endpoint, size, token)


def delete_endpoint(endpoint_id: str) -> None:
    validation.uuid_str("endpoint_id", endpoint_id)
    deleted = Endpoint.delete().where(Endpoint.id == endpoint_id).execute()
    if not deleted:
        raise NotFound(f"no endpoint with id {endpoint_id!r}", endpoint_id=endpoint_id)


def _catalog_order(endpoint: Endpoint) -> tuple:
    # Public first in a region: a client that takes a region's first endpoint
    # (written before interfaces) still reaches the one meant for users.
    return endpoint.region, endpoint.interface != PUBLIC, endpoint.interface, endpoint.address


def entries() -> list[tuple[CatalogService, list[Endpoint]]]:
    """The whole catalog, each service with its endpoints (by region, public first)."""
    services = list(CatalogService.select().order_by(CatalogService.type))
    by_service: dict[str, list[Endpoint]] = {s.id: [] for s in services}
    for endpoint in sorted(Endpoint.select(), key=_catalog_order):
        by_service.setdefault(endpoint.service_id, []).append(endpoint)
    return [(s, by_service[s.id]) for s in services]


def ensure(
    type_: str, name: str, region: str, addresses: Sequence[str], interface: str = PUBLIC
) -> None:
    """Idempotent: the service exists, and its endpoints in ``region`` on ``interface``
    are exactly ``addresses`` (missing ones added, others removed; none for an empty list).
    """
    region = validation.name("region", region or "RegionOne", 64)
    interface = check_interface(interface)
    wanted = list(dict.fromkeys(check_address(a) for a in addresses))
    with transactions.atomic():
        service = CatalogService.get_or_none(CatalogService.name == name)
        if service is None:
            service = create_service(type_, name)
        mine = (
            (Endpoint.service == service)
            & (Endpoint.region == region)
            & (Endpoint.interface == interface)
        )
        stale = mine & Endpoint.address.not_in(wanted) if wanted else mine
        Endpoint.delete().where(stale).execute()
        have = {e.address for e in Endpoint.select(Endpoint.address).where(mine)}
        for address in wanted:
            if address not in have:
                Endpoint.create(
                    service=service, region=region, address=address, interface=interface
                )
