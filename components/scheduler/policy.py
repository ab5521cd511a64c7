"""Who may call each scheduler RPC: the API places servers, admins look after hosts."""

from components.framework import SERVICE, Caller, Policy, admin_required


def service_only(c: Caller) -> bool:
    """A Stratus component with its own token (the API); an admin is not one."""
    return SERVICE in c.roles


POLICY = Policy.of(
    {
        "stratus.scheduler.v1.Scheduler": {
            "SelectDestinations": service_only,
            "ListHosts": admin_required,
            "UpdateHost": admin_required,
            "DeleteHost": admin_required,
        }
    }
)
