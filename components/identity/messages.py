"""Identity rows as protobuf messages (passwords never leave)."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from components.framework import timestamp
from components.identity import catalog
from components.identity.models import (
    CatalogService,
    Domain,
    Endpoint,
    Project,
    Role,
    RoleAssignment,
    User,
)
from components.identity.revocation_feed import Batch, Revocation
from components.identity.tokens import TokenData
from stratus.identity.v1 import identity_service_pb2 as pb2


def domain(row: Domain) -> pb2.Domain:
    return pb2.Domain(
        id=row.id,
        name=row.name,
        description=row.description,
        enabled=row.enabled,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
    )


def project(row: Project) -> pb2.Project:
    return pb2.Project(
        id=row.id,
        name=row.name,
        domain_id=row.domain_id,
        description=row.description,
        enabled=row.enabled,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
    )


def user(row: User) -> pb2.User:
    return pb2.User(
        id=row.id,
        name=row.name,
        domain_id=row.domain_id,
        email=row.email,
        description=row.description,
        enabled=row.enabled,
        default_project_id=row.default_project_id,
        lockout_expire_time=timestamp(row.locked_until),
        options=pb2.UserOptions(
            ignore_lockout_failure_attempts=row.ignore_lockout_failure_attempts
        ),
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
    )


def role(row: Role) -> pb2.Role:
    return pb2.Role(
        id=row.id,
        name=row.name,
        description=row.description,
        built_in=row.built_in,
        create_time=timestamp(row.create_time),
    )


def assignment(row: RoleAssignment) -> pb2.RoleAssignment:
    return pb2.RoleAssignment(
        user_id=row.user_id,
        project_id=row.project_id,
        role_id=row.role_id,
        role_name=row.role.name,
        create_time=timestamp(row.create_time),
    )


def service(row: CatalogService) -> pb2.Service:
    return pb2.Service(
        id=row.id, type=row.type, name=row.name, create_time=timestamp(row.create_time)
    )


def endpoint(row: Endpoint) -> pb2.Endpoint:
    return pb2.Endpoint(
        id=row.id,
        service_id=row.service_id,
        region=row.region,
        address=row.address,
        create_time=timestamp(row.create_time),
        interface=row.interface,
    )


def catalog_entries() -> list[pb2.CatalogEntry]:
    return [
        pb2.CatalogEntry(
            service_id=svc.id,
            type=svc.type,
            name=svc.name,
            endpoints=[endpoint(e) for e in endpoints],
        )
        for svc, endpoints in catalog.entries()
    ]


def user_options(options: pb2.UserOptions) -> dict:
    """The User columns a UserOptions message sets."""
    return {"ignore_lockout_failure_attempts": options.ignore_lockout_failure_attempts}


def _revocation(event: Revocation) -> pb2.RevocationEvent:
    return pb2.RevocationEvent(
        audit_id=event.audit_id,
        user_id=event.user_id,
        project_id=event.project_id,
        domain_id=event.domain_id,
        issued_before=timestamp_ms(event.issued_before_ms) if event.issued_before_ms else None,
        revoke_time=timestamp_ms(event.revoke_ms),
    )


def revocations(batch: Batch) -> pb2.WatchRevocationsResponse:
    return pb2.WatchRevocationsResponse(
        reset=batch.reset,
        events=[_revocation(e) for e in batch.events],
        resume_token=batch.resume_token,
    )


def timestamp_ms(ms: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromMilliseconds(ms)
    return stamp


def token_fields(data: TokenData) -> dict:
    """The fields IssueTokenResponse and ValidateTokenResponse share."""
    return dict(
        expires_time=timestamp(data.expires_time),
        issued_time=timestamp(data.issued_time),
        user=pb2.UserSummary(id=data.user.id, name=data.user.name, domain_id=data.user.domain_id),
        project=pb2.ProjectSummary(
            id=data.project.id, name=data.project.name, domain_id=data.project.domain_id
        ),
        roles=[pb2.RoleSummary(id=r.id, name=r.name) for r in data.roles],
        catalog=catalog_entries(),
        audit_id=data.audit_id,
    )
