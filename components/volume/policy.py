"""Who may call each volume RPC (Cinder's defaults in spirit), as the proto's comments say.

Delete, Reserve, Unreserve, Attach and Detach also admit the service role (the
proto lets Stratus components call them for the cloud); ListVolumes is open to
any authenticated caller, who sees only what it may.
"""

from components.framework import (
    Policy,
    admin_required,
    authenticated,
    member,
    member_or_service,
    reader,
)

POLICY = Policy.of(
    {
        "stratus.volume.v1.Volumes": {
            "CreateVolume": member,
            "GetVolume": reader,
            "ListVolumes": authenticated,
            "DeleteVolume": member_or_service,
            "ExtendVolume": member,
            "ReserveVolume": member_or_service,
            "UnreserveVolume": member_or_service,
            "AttachVolume": member_or_service,
            "DetachVolume": member_or_service,
            "GetQuota": reader,
            "UpdateQuota": admin_required,
        }
    }
)
