"""The key-value store's one setting, beyond those every component has."""

from __future__ import annotations

import dataclasses

from components.framework import Config


@dataclasses.dataclass
class KeyValueConfig(Config):
    # The largest value PutKey accepts, in bytes of UTF-8 ([keyvalue] max_value_bytes
    # in the TOML file, or STRATUS_KEYVALUE_MAX_VALUE_BYTES).
    max_value_bytes: int = 65536
