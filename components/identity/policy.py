"""Who may call each identity RPC; ownership is checked in resources.py.

Admins everything; anyone with a token their own token, catalog, user, domain,
projects and assignments, and the roles; only admins list domains and users or
change anything.
"""

from components.framework import Policy, admin_required, authenticated, public, service_or_admin

POLICY = Policy.of(
    {
        "stratus.identity.v1.Identity": {
            "IssueToken": public,
            "ValidateToken": authenticated,
            "RevokeToken": authenticated,
            "RescopeToken": authenticated,
            "GetCatalog": authenticated,
            "WatchRevocations": service_or_admin,
        },
        "stratus.identity.v1.Domains": {
            "CreateDomain": admin_required,
            "GetDomain": authenticated,
            "ListDomains": admin_required,
            "UpdateDomain": admin_required,
            "DeleteDomain": admin_required,
        },
        "stratus.identity.v1.Projects": {
            "CreateProject": admin_required,
            "GetProject": authenticated,
            "ListProjects": authenticated,
            "UpdateProject": admin_required,
            "DeleteProject": admin_required,
        },
        "stratus.identity.v1.Users": {
            "CreateUser": admin_required,
            "GetUser": authenticated,
            "ListUsers": admin_required,
            "UpdateUser": admin_required,
            "DeleteUser": admin_required,
        },
        "stratus.identity.v1.Roles": {
            "CreateRole": admin_required,
            "GetRole": authenticated,
            "ListRoles": authenticated,
            "UpdateRole": admin_required,
            "DeleteRole": admin_required,
            "AssignRole": admin_required,
            "UnassignRole": admin_required,
            "ListRoleAssignments": authenticated,
        },
        "stratus.identity.v1.Catalog": {
            "CreateService": admin_required,
            "ListServices": authenticated,
            "DeleteService": admin_required,
            "CreateEndpoint": admin_required,
            "ListEndpoints": authenticated,
            "DeleteEndpoint": admin_required,
        },
    }
)
