"""The service catalog: which component serves which type, at which address."""

from __future__ import annotations

import re

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


def check_address(address: str) -> str:
    match = _ADDRESS.match(address)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise InvalidArgument(f"address {address!r} is not host:port", field="address")
    return address


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


def create_endpoint(service_id: str, region: str, address: str) -> Endpoint:
    service = _service(service_id)
    region = validation.name("region", region or "RegionOne", 64)
    check_address(address)
    try:
        return transactions.run(
            lambda: Endpoint.create(service=service, region=region, address=address)
        )
    except peewee.IntegrityError:
        raise AlreadyExists(
            f"service {service.name!r} already has an endpoint in {region!r}", region=region
        ) from None


def list_endpoints(service_id: str, region: str, size: int, token: str):
    query = Endpoint.select()
    if service_id:
        query = query.where(Endpoint.service == validation.uuid_str("service_id", service_id))
    if region:
        query = query.where(Endpoint.region == region)
    return paging.paginate(query, Endpoint, size, token)


def delete_endpoint(endpoint_id: str) -> None:
    validation.uuid_str("endpoint_id", endpoint_id)
    deleted = Endpoint.delete().where(Endpoint.id == endpoint_id).execute()
    if not deleted:
        raise NotFound(f"no endpoint with id {endpoint_id!r}", endpoint_id=endpoint_id)


def entries() -> list[tuple[CatalogService, list[Endpoint]]]:
    """The whole catalog, each service with its endpoints."""
    services = list(CatalogService.select().order_by(CatalogService.type))
    by_service: dict[str, list[Endpoint]] = {s.id: [] for s in services}
    for endpoint in Endpoint.select().order_by(Endpoint.region):
        by_service.setdefault(endpoint.service_id, []).append(endpoint)
    return [(s, by_service[s.id]) for s in services]


def ensure(type_: str, name: str, region: str, address: str) -> None:
    """Idempotent: the service exists and its endpoint in ``region`` is ``address``."""
    service = CatalogService.get_or_none(CatalogService.name == name)
    if service is None:
        service = create_service(type_, name)
    endpoint = Endpoint.get_or_none((Endpoint.service == service) & (Endpoint.region == region))
    if endpoint is None:
        create_endpoint(service.id, region, address)
    elif endpoint.address != address:
        endpoint.address = check_address(address)
        endpoint.save()
