"""Who may call each compute-host RPC: other Stratus components, and admins."""

from components.framework import Policy, service_or_admin

POLICY = Policy.of(
    {
        "stratus.compute.v1.Compute": {
            "Casts": service_or_admin,
            "GetConsoleOutput": service_or_admin,
            # The proto: "Who may call: admin or service".
            "GetHostStatus": service_or_admin,
            "ListDomains": service_or_admin,
        }
    }
)
