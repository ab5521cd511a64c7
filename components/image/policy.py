"""Who may call each image RPC (Glance's defaults in spirit)."""

from components.framework import Policy, admin_required, member, reader

POLICY = Policy.of(
    {
        "stratus.image.v1.Images": {
            "CreateImage": member,
            "GetImage": reader,
            "ListImages": reader,
            "UpdateImage": member,
            "DeleteImage": member,
            "UploadImage": member,
            "DownloadImage": reader,
            "DeactivateImage": admin_required,
            "ReactivateImage": admin_required,
        }
    }
)
