"""The conductor serves compute hosts (the service role) and admins only."""

from components.framework import Policy, service_or_admin

POLICY = Policy.of(
    {
        "stratus.conductor.v1.Conductor": {
            name: service_or_admin
            for name in (
                "GetInstance",
                "UpdateInstance",
                "AddInstanceFault",
                "ReportComputeNode",
                "ListHostInstances",
                "Casts",
            )
        }
    }
)
