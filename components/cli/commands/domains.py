"""``domain`` commands: the namespaces that hold users and projects (admin only)."""

from __future__ import annotations

import click
from google.protobuf import field_mask_pb2

from components.cli import batch, resolve
from components.cli.output import Listing, Record, formatted, when
from components.cli.session import Session, every
from stratus.identity.v1 import identity_service_pb2 as pb2
from stratus.identity.v1 import identity_service_pb2_grpc as pb2_grpc


def _stub(session: Session):
    return session.client("identity", pb2_grpc.DomainsStub)


@click.group()
def domain() -> None:
    """Domains: namespaces of users and projects; "default" always exists."""


def domain_record(d: pb2.Domain) -> Record:
    return Record(
        {
            "id": d.id,
            "name": d.name,
            "description": d.description,
            "enabled": d.enabled,
            "created": when(d.create_time),
            "updated": when(d.update_time),
        }
    )


@domain.command("create")
@click.argument("name")
@click.option("--description", default="", help="Free text, at most 255 characters.")
@click.option(
    "--enable/--disable", "enabled", default=None, help="Enable (default) or disable the domain."
)
@formatted
@click.pass_obj
def domain_create(session: Session, name, description, enabled) -> Record:
    """Create a domain called NAME (admin only; names are unique)."""
    request = pb2.CreateDomainRequest(name=name, description=description)
    if enabled is not None:
        request.enabled = enabled
    return domain_record(_stub(session).CreateDomain(request))


@domain.command("list")
@formatted
@click.pass_obj
def domain_list(session: Session) -> Listing:
    """List domains (admin only)."""
    rows = [
        [d.id, d.name, d.enabled, d.description]
        for d in every(_stub(session).ListDomains, pb2.ListDomainsRequest(), "domains")
    ]
    return Listing(["ID", "Name", "Enabled", "Description"], rows)


@domain.command("show")
@click.argument("domain_ref", metavar="DOMAIN")
@formatted
@click.pass_obj
def domain_show(session: Session, domain_ref) -> Record:
    """Show DOMAIN (name or id)."""
    return domain_record(resolve.domain(session, domain_ref))


@domain.command("set")
@click.argument("domain_ref", metavar="DOMAIN")
@click.option("--name", help="New name.")
@click.option("--description", help="New description.")
@click.option(
    "--enable/--disable",
    "enabled",
    default=None,
    help="Enable, or disable: its users cannot log in and its projects' tokens stop working.",
)
@click.pass_obj
def domain_set(session: Session, domain_ref, name, description, enabled) -> None:
    """Change DOMAIN (name or id; admin only). The default domain cannot be renamed or disabled."""
    changes = {
        field: value
        for field, value in (("name", name), ("description", description), ("enabled", enabled))
        if value is not None
    }
    if not changes:
        raise click.UsageError("Nothing to change: give at least one option (see --help)")
    found = resolve.domain(session, domain_ref)
    _stub(session).UpdateDomain(
        pb2.UpdateDomainRequest(
            domain=pb2.Domain(id=found.id, **changes),
            update_mask=field_mask_pb2.FieldMask(paths=list(changes)),
        )
    )


@domain.command("delete")
@click.argument("domains", nargs=-1, required=True, metavar="DOMAIN...")
@click.pass_obj
def domain_delete(session: Session, domains) -> None:
    """Delete domains (names or ids; admin only).

    A domain must be disabled first (domain set --disable) and hold no users or projects.
    """
    stub = _stub(session)

    def delete(ref: str) -> None:
        stub.DeleteDomain(pb2.DeleteDomainRequest(domain_id=resolve.domain(session, ref).id))

    batch.each("domain", domains, delete)


GROUPS = (domain,)
