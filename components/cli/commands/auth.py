"""``token issue``, ``token revoke`` and ``catalog list``: logging in and out."""

from __future__ import annotations

import click

from components.cli.output import Listing, Record, formatted, when
from components.cli.session import Session
from stratus.identity.v1 import identity_service_pb2 as pb2
from stratus.identity.v1 import identity_service_pb2_grpc as pb2_grpc


@click.group()
def token() -> None:
    """Tokens."""


@token.command("issue")
@formatted
@click.pass_obj
def token_issue(session: Session) -> Record:
    """Issue a token and show it.

    Use it with grpcurl as -H "x-auth-token: TOKEN".
    """
    login = session.login
    return Record(
        {
            "expires": when(login.expires_time),
            "id": login.token,
            "project_id": login.project.id,
            "user_id": login.user.id,
            "roles": [role.name for role in login.roles],
        }
    )


@token.command("revoke")
@click.argument("token_id", metavar="TOKEN")
@click.pass_obj
def token_revoke(session: Session, token_id) -> None:
    """Revoke TOKEN at once (log out): every service refuses it from then on.

    Your own tokens, or anyone's as admin. Revoking a token again is fine.
    """
    identity = session.client("identity", pb2_grpc.IdentityStub)
    identity.RevokeToken(pb2.RevokeTokenRequest(subject_token=token_id))
    # The token cache must not offer the revoked token to the next command.
    session.forget_token(token_id)


@click.group()
def catalog() -> None:
    """The service catalog: which service listens where."""


@catalog.command("list")
@formatted
@click.pass_obj
def catalog_list(session: Session) -> Listing:
    """List the services and where they listen.

    The catalog is the one the token was issued with.
    """
    rows = [
        [
            entry.name,
            entry.type,
            [
                f"{endpoint.region} {endpoint.interface or 'public'}: {endpoint.address}"
                for endpoint in entry.endpoints
            ],
        ]
        for entry in session.login.catalog
    ]
    return Listing(["Name", "Type", "Endpoints"], rows)


GROUPS = (token, catalog)
