"""Who may see and who may change an image.

An image the caller cannot see is NOT_FOUND, never PERMISSION_DENIED, so its
existence does not leak; one the caller can see but not change (another
project's public image) is PERMISSION_DENIED.
"""

from __future__ import annotations

from components.framework import Caller, NotFound, PermissionDenied, validation
from components.image.models import Image

PRIVATE = "private"
PUBLIC = "public"
VISIBILITIES = (PRIVATE, PUBLIC)


def can_see(who: Caller, image: Image) -> bool:
    return image.visibility == PUBLIC or who.can_access(image.project_id)


def can_change(who: Caller, image: Image) -> bool:
    return who.is_admin or image.project_id == who.project_id


def visible_to(who: Caller, query):
    """``query`` narrowed to the images ``who`` can see."""
    if who.is_admin or who.is_service:
        return query
    return query.where((Image.project_id == who.project_id) | (Image.visibility == PUBLIC))


def find(who: Caller, image_id: str) -> Image:
    """The image, if it exists and ``who`` can see it; NOT_FOUND otherwise."""
    image_id = validation.uuid_str("image_id", image_id)
    image = Image.get_or_none(Image.id == image_id)
    if image is None or not can_see(who, image):
        raise NotFound(f"image {image_id} not found", reason="IMAGE_NOT_FOUND", image_id=image_id)
    return image


def find_changeable(who: Caller, image_id: str) -> Image:
    """The image, if ``who`` may change it (member of its project, or admin)."""
    image = find(who, image_id)
    if not can_change(who, image):
        raise PermissionDenied(
            f"image {image.id} belongs to another project; only its members may change it",
            reason="IMAGE_NOT_OWNED",
            image_id=image.id,
        )
    return image


def check_visibility(who: Caller, visibility: str) -> None:
    """Only admins may publish an image (Glance's publicize_image rule)."""
    if visibility == PUBLIC and not who.is_admin:
        raise PermissionDenied(
            "only admins may make an image public", reason="PUBLICIZE_IMAGE_DENIED"
        )
