"""The volume service's settings beyond the common ones."""

from __future__ import annotations

import dataclasses

from components.framework import Config


@dataclasses.dataclass
class VolumeConfig(Config):
    # Limits of a project that has none of its own; -1 means unlimited.
    default_volumes_limit: int = 10
    default_size_gib_limit: int = 1000
    # Image copies run in the background, this many at a time.
    image_copy_workers: int = 4
    image_download_timeout_seconds: float = 3600.0
