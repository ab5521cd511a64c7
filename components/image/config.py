"""The image service's settings, beyond those every component has."""

from __future__ import annotations

import dataclasses

from components.framework import Config


@dataclasses.dataclass
class ImageConfig(Config):
    # Glance's image_size_cap: an upload growing past this is RESOURCE_EXHAUSTED.
    max_image_bytes: int = 1024**4
    # Flush each finished upload to disk before it becomes ACTIVE (survives a power loss).
    fsync_uploads: bool = True
