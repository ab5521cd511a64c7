"""``service`` and ``endpoint`` commands: the catalog identity hands out with every token.

Changing the catalog is admin only; listing it is open to anyone. A service is
known by its id, its type (unique) or its name.
"""

from __future__ import annotations

import click

from components.cli import batch
from components.cli.errors import CliError
from components.cli.output import Listing, Record, formatted, when
from components.cli.session import Session, every
from stratus.identity.v1 import identity_service_pb2 as pb2
from stratus.identity.v1 import identity_service_pb2_grpc as pb2_grpc


def _stub(session: Session):
    return session.client("identity", pb2_grpc.CatalogStub)


def services(session: Session) -> list[pb2.Service]:
    return list(every(_stub(session).ListServices, pb2.ListServicesRequest(), "services"))


def find_service(session: Session, ref: str) -> pb2.Service:
    """The service whose id, type or name is ``ref`` (in that order)."""
    known = services(session)
    for field in ("id", "type", "name"):
        matches = [s for s in known if getattr(s, field) == ref]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = ", ".join(s.id for s in matches)
            raise CliError(f"More than one service is named '{ref}' ({ids}); give its id or type")
    raise CliError(f"No service with id, type or name '{ref}'")


# ---------------------------------------------------------------- services


@click.group()
def service() -> None:
    """Services in the catalog: one per type (identity, compute, image, ...)."""


def service_record(s: pb2.Service) -> Record:
    return Record({"id": s.id, "name": s.name, "type": s.type, "created": when(s.create_time)})


@service.command("create")
@click.argument("service_type", metavar="TYPE")
@click.option("--name", required=True, help="Human name, e.g. stratus-api.")
@formatted
@click.pass_obj
def service_create(session: Session, service_type, name) -> Record:
    """Register a service of TYPE, e.g. compute (admin only; types are unique)."""
    created = _stub(session).CreateService(pb2.CreateServiceRequest(type=service_type, name=name))
    return service_record(created)


@service.command("list")
@formatted
@click.pass_obj
def service_list(session: Session) -> Listing:
    """List the services in the catalog."""
    return Listing(["ID", "Name", "Type"], [[s.id, s.name, s.type] for s in services(session)])


@service.command("show")
@click.argument("service_ref", metavar="SERVICE")
@formatted
@click.pass_obj
def service_show(session: Session, service_ref) -> Record:
    """Show SERVICE (id, type or name)."""
    return service_record(find_service(session, service_ref))


@service.command("delete")
@click.argument("service_refs", nargs=-1, required=True, metavar="SERVICE...")
@click.pass_obj
def service_delete(session: Session, service_refs) -> None:
    """Delete services (ids, types or names) with their endpoints (admin only)."""
    stub = _stub(session)

    def delete(ref: str) -> None:
        found = find_service(session, ref)
        stub.DeleteService(pb2.DeleteServiceRequest(service_id=found.id))

    batch.each("service", service_refs, delete)


# ---------------------------------------------------------------- endpoints


@click.group()
def endpoint() -> None:
    """Endpoints: where a service listens in a region."""


def endpoint_record(e: pb2.Endpoint, s: pb2.Service | None) -> Record:
    return Record(
        {
            "id": e.id,
            "region": e.region,
            "service_id": e.service_id,
            "service_name": s.name if s else "",
            "service_type": s.type if s else "",
            "address": e.address,
            "created": when(e.create_time),
        }
    )


@endpoint.command("create")
@click.argument("service_ref", metavar="SERVICE")
@click.argument("address", metavar="HOST:PORT")
@click.option("--region", default="", help="Region name (default: RegionOne).")
@formatted
@click.pass_obj
def endpoint_create(session: Session, service_ref, address, region) -> Record:
    """Publish that SERVICE (id, type or name) listens at HOST:PORT (admin only).

    A service has at most one endpoint per region.
    """
    found = find_service(session, service_ref)
    created = _stub(session).CreateEndpoint(
        pb2.CreateEndpointRequest(service_id=found.id, region=region, address=address)
    )
    return endpoint_record(created, found)


@endpoint.command("list")
@click.option("--service", "service_ref", metavar="SERVICE", help="Only this service's.")
@click.option("--region", default="", help="Only endpoints in this region.")
@formatted
@click.pass_obj
def endpoint_list(session: Session, service_ref, region) -> Listing:
    """List the endpoints of the catalog."""
    by_id = {s.id: s for s in services(session)}
    service_id = find_service(session, service_ref).id if service_ref else ""
    request = pb2.ListEndpointsRequest(service_id=service_id, region=region)
    rows = []
    for e in every(_stub(session).ListEndpoints, request, "endpoints"):
        s = by_id.get(e.service_id)
        rows.append([e.id, e.region, s.name if s else "", s.type if s else "", e.address])
    return Listing(["ID", "Region", "Service Name", "Service Type", "Address"], rows)


@endpoint.command("delete")
@click.argument("endpoint_ids", nargs=-1, required=True, metavar="ENDPOINT...")
@click.pass_obj
def endpoint_delete(session: Session, endpoint_ids) -> None:
    """Delete endpoints (ids, as endpoint list shows them; admin only)."""
    stub = _stub(session)

    def delete(endpoint_id: str) -> None:
        stub.DeleteEndpoint(pb2.DeleteEndpointRequest(endpoint_id=endpoint_id))

    batch.each("endpoint", endpoint_ids, delete)


GROUPS = (service, endpoint)
