"""Who may call each api RPC; ownership is checked in servers.py (others' servers are NOT_FOUND).

Flavors are read by any authenticated caller, as in Nova: every user may see
the sizes it can boot (private flavors are hidden in flavors.py).
"""

from components.framework import Policy, admin_required, authenticated, member, reader

POLICY = Policy.of(
    {
        "stratus.api.v1.Servers": {
            "CreateServer": member,
            "GetServer": reader,
            "ListServers": reader,
            "DeleteServer": member,
            "StopServer": member,
            "StartServer": member,
            "RebootServer": member,
            "GetConsoleOutput": member,
            "WatchServer": reader,
            "WatchServers": reader,
        },
        "stratus.api.v1.Flavors": {
            "CreateFlavor": admin_required,
            "GetFlavor": authenticated,
            "ListFlavors": authenticated,
            "DeleteFlavor": admin_required,
        },
        "stratus.api.v1.Quotas": {
            "GetQuota": reader,
            "UpdateQuota": admin_required,
        },
        # A user's own key pairs; another user's are checked in keypairs.py.
        "stratus.api.v1.Keypairs": {
            "CreateKeypair": member,
            "ImportKeypair": member,
            "GetKeypair": reader,
            "ListKeypairs": reader,
            "DeleteKeypair": member,
        },
    }
)

# CreateServer naming a host in availability_zone ("ZONE:HOST"), checked in servers.py;
# Nova's os_compute_api:servers:create:forced_host, admin only by default.
FORCED_HOST_RULE = "create:forced_host"
forced_host = admin_required
