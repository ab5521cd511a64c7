"""Identity's servicers: translate requests, call the domain modules, translate back."""

from __future__ import annotations

from components.framework import (
    Caller,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    caller,
    validation,
)
from components.identity import catalog, login, messages, resources
from components.identity.config import IdentityConfig
from components.identity.throttle import LoginThrottle
from components.identity.tokens import Payload, TokenProvider
from stratus.identity.v1 import identity_service_pb2 as pb2
from stratus.identity.v1 import identity_service_pb2_grpc as pb2_grpc

# A WatchRevocations stream sends at least this often, so both ends notice a dead peer.
HEARTBEAT_SECONDS = 10.0


def _changes(resource, mask, allowed: set[str]) -> dict:
    return {path: getattr(resource, path) for path in validation.update_mask(mask.paths, allowed)}


def peer_address(peer: str) -> str:
    """The address of a gRPC peer without its port: "ipv4:10.0.0.5:4242" -> "10.0.0.5"."""
    kind, _, rest = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        return rest.rsplit(":", 1)[0]
    return peer


class LocalValidator:
    """Identity checks tokens itself, fresh every time (a revocation takes effect at once)."""

    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    def validate(self, token: str) -> Caller:
        data = self.provider.validate(token)
        return Caller(
            user_id=data.user.id,
            user_name=data.user.name,
            project_id=data.project.id,
            project_name=data.project.name,
            roles=frozenset(r.name for r in data.roles),
            token=token,
            expires_time=data.expires_time,
            domain_id=data.user.domain_id,
            audit_id=data.audit_id,
            project_domain_id=data.project.domain_id,
        )


class IdentityServicer(pb2_grpc.IdentityServicer):
    def __init__(self, config: IdentityConfig, provider: TokenProvider) -> None:
        self.config = config
        self.provider = provider
        self.throttle = LoginThrottle(
            base=config.login_throttle_base_seconds,
            maximum=config.login_throttle_max_seconds,
            peer_free_failures=config.login_throttle_peer_free_failures,
            user_free_failures=config.login_throttle_user_free_failures,
            trust_seconds=config.login_throttle_trust_seconds,
        )

    def IssueToken(self, request, context):
        attempt = login.Attempt(
            username=request.username,
            password=request.password,
            project_name=request.project_name,
            domain_name=request.domain_name,
            peer=peer_address(context.peer() or ""),
        )
        token, data = login.issue_token(self.config, self.provider, self.throttle, attempt)
        return pb2.IssueTokenResponse(token=token, **messages.token_fields(data))

    def RescopeToken(self, request, context):
        who = caller()
        token, data = login.rescope(
            self.provider, who.token, request.project_id, request.project_name
        )
        return pb2.IssueTokenResponse(token=token, **messages.token_fields(data))

    def _check_subject(self, who: Caller, subject: str, privileged: bool, action: str) -> None:
        """The subject token must be named; another user's token needs ``privileged``.

        A token of the caller's own user is its own (keystone's "token subject"
        rule): a user may validate or revoke any of its tokens, not only the one
        it calls with.
        """
        if not subject:
            raise InvalidArgument("subject_token is required", field="subject_token")
        if privileged or subject == who.token:
            return
        if self._decode(subject).user_id != who.user_id:
            raise PermissionDenied(
                f"only the token's user or {'a service' if action == 'validate' else 'an admin'} "
                f"may {action} it",
                reason="POLICY_DENIED",
            )

    def _decode(self, subject: str) -> Payload:
        try:
            return self.provider.decode(subject, allow_expired=True)
        except Unauthenticated as exc:
            raise NotFound(exc.message, reason="TOKEN_NOT_FOUND") from None

    def ValidateToken(self, request, context):
        who = caller()
        self._check_subject(who, request.subject_token, who.is_service, "validate")
        try:
            data = self.provider.validate(request.subject_token)
        except Unauthenticated as exc:
            raise NotFound(exc.message, reason="TOKEN_NOT_FOUND") from None
        return pb2.ValidateTokenResponse(**messages.token_fields(data))

    def RevokeToken(self, request, context):
        who = caller()
        self._check_subject(who, request.subject_token, who.is_admin, "revoke")
        payload = self._decode(request.subject_token)
        if not payload.expired:
            self.provider.revoke_token(payload)
        return pb2.RevokeTokenResponse()

    def GetCatalog(self, request, context):
        return pb2.GetCatalogResponse(catalog=messages.catalog_entries())

    def WatchRevocations(self, request, context):
        feed = self.provider.feed
        with feed.watching(self.config.max_revocation_watchers):
            context.add_callback(feed.wake)
            batch = feed.start(request.resume_token)
            yield messages.revocations(batch)
            while context.is_active() and not feed.closed:
                batch = feed.next(batch.resume_token, HEARTBEAT_SECONDS)
                if context.is_active():
                    yield messages.revocations(batch)


class DomainsServicer(pb2_grpc.DomainsServicer):
    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    def CreateDomain(self, request, context):
        enabled = request.enabled if request.HasField("enabled") else True
        return messages.domain(resources.create_domain(request.name, request.description, enabled))

    def GetDomain(self, request, context):
        return messages.domain(resources.get_domain(caller(), request.domain_id))

    def ListDomains(self, request, context):
        rows, token = resources.list_domains(request.name, request.page_size, request.page_token)
        return pb2.ListDomainsResponse(
            domains=[messages.domain(r) for r in rows], next_page_token=token
        )

    def UpdateDomain(self, request, context):
        changes = _changes(request.domain, request.update_mask, {"name", "description", "enabled"})
        return messages.domain(resources.update_domain(request.domain.id, changes, self.provider))

    def DeleteDomain(self, request, context):
        resources.delete_domain(request.domain_id, self.provider)
        return pb2.DeleteDomainResponse()


class ProjectsServicer(pb2_grpc.ProjectsServicer):
    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    def CreateProject(self, request, context):
        enabled = request.enabled if request.HasField("enabled") else True
        return messages.project(
            resources.create_project(request.name, request.domain_id, request.description, enabled)
        )

    def GetProject(self, request, context):
        return messages.project(resources.get_project(caller(), request.project_id))

    def ListProjects(self, request, context):
        rows, token = resources.list_projects(
            caller(), request.domain_id, request.name, request.page_size, request.page_token
        )
        return pb2.ListProjectsResponse(
            projects=[messages.project(r) for r in rows], next_page_token=token
        )

    def UpdateProject(self, request, context):
        changes = _changes(request.project, request.update_mask, {"name", "description", "enabled"})
        return messages.project(
            resources.update_project(request.project.id, changes, self.provider)
        )

    def DeleteProject(self, request, context):
        resources.delete_project(request.project_id, self.provider)
        return pb2.DeleteProjectResponse()


USER_FIELDS = {
    "name",
    "email",
    "description",
    "enabled",
    "password",
    "default_project_id",
    "options",
}


class UsersServicer(pb2_grpc.UsersServicer):
    def __init__(self, config: IdentityConfig, provider: TokenProvider) -> None:
        self.config = config
        self.provider = provider

    def CreateUser(self, request, context):
        fields = {
            "name": request.name,
            "domain_id": request.domain_id,
            "email": request.email,
            "description": request.description,
            "password": request.password,
            "default_project_id": request.default_project_id,
            "enabled": request.enabled if request.HasField("enabled") else True,
            **messages.user_options(request.options),
        }
        return messages.user(resources.create_user(fields, self.config.password_hash_rounds))

    def GetUser(self, request, context):
        return messages.user(resources.get_user(caller(), request.user_id))

    def ListUsers(self, request, context):
        rows, token = resources.list_users(
            request.domain_id, request.name, request.page_size, request.page_token
        )
        return pb2.ListUsersResponse(users=[messages.user(r) for r in rows], next_page_token=token)

    def UpdateUser(self, request, context):
        changes = _changes(request.user, request.update_mask, USER_FIELDS)
        if "options" in changes:
            changes.update(messages.user_options(changes.pop("options")))
        user = resources.update_user(
            request.user.id, changes, self.provider, self.config.password_hash_rounds
        )
        return messages.user(user)

    def DeleteUser(self, request, context):
        resources.delete_user(request.user_id, self.provider)
        return pb2.DeleteUserResponse()


class RolesServicer(pb2_grpc.RolesServicer):
    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    def CreateRole(self, request, context):
        return messages.role(resources.create_role(request.name, request.description))

    def GetRole(self, request, context):
        return messages.role(resources.get_role(request.role_id))

    def ListRoles(self, request, context):
        rows, token = resources.list_roles(request.name, request.page_size, request.page_token)
        return pb2.ListRolesResponse(roles=[messages.role(r) for r in rows], next_page_token=token)

    def UpdateRole(self, request, context):
        changes = _changes(request.role, request.update_mask, {"name", "description"})
        return messages.role(resources.update_role(request.role.id, changes))

    def DeleteRole(self, request, context):
        resources.delete_role(request.role_id, self.provider)
        return pb2.DeleteRoleResponse()

    def AssignRole(self, request, context):
        row = resources.assign_role(request.user_id, request.project_id, request.role_id)
        return pb2.AssignRoleResponse(assignment=messages.assignment(row))

    def UnassignRole(self, request, context):
        resources.unassign_role(request.user_id, request.project_id, request.role_id, self.provider)
        return pb2.UnassignRoleResponse()

    def ListRoleAssignments(self, request, context):
        rows, token = resources.list_assignments(
            caller(), request.user_id, request.project_id, request.page_size, request.page_token
        )
        return pb2.ListRoleAssignmentsResponse(
            assignments=[messages.assignment(r) for r in rows], next_page_token=token
        )


class CatalogServicer(pb2_grpc.CatalogServicer):
    def CreateService(self, request, context):
        return messages.service(catalog.create_service(request.type, request.name))

    def ListServices(self, request, context):
        rows, token = catalog.list_services(request.type, request.page_size, request.page_token)
        return pb2.ListServicesResponse(
            services=[messages.service(r) for r in rows], next_page_token=token
        )

    def DeleteService(self, request, context):
        catalog.delete_service(request.service_id)
        return pb2.DeleteServiceResponse()

    def CreateEndpoint(self, request, context):
        row = catalog.create_endpoint(
            request.service_id, request.region, request.address, request.interface
        )
        return messages.endpoint(row)

    def ListEndpoints(self, request, context):
        rows, token = catalog.list_endpoints(
            request.service_id,
            request.region,
            request.page_size,
            request.page_token,
            request.interface,
        )
        return pb2.ListEndpointsResponse(
            endpoints=[messages.endpoint(r) for r in rows], next_page_token=token
        )

    def DeleteEndpoint(self, request, context):
        catalog.delete_endpoint(request.endpoint_id)
        return pb2.DeleteEndpointResponse()
