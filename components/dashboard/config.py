"""The dashboard's settings, beyond those every component has."""

from __future__ import annotations

import dataclasses

from components.framework import Config

DEFAULT_PORT = 8080


@dataclasses.dataclass
class DashboardConfig(Config):
    # Where users sign in: identity's public address (empty: identity_address).
    identity_url: str = ""
    # A signed-in session ends when its token expires, or after this long unused.
    session_idle_seconds: float = 3600.0
    # At most this many sessions (signed in or not) are kept; the oldest unused go first.
    max_sessions: int = 10_000
    # A page's calls to the services each get this long (uploads: transfer_seconds).
    transfer_seconds: float = 3600.0

    @property
    def listen_port(self) -> int:
        return self.port or DEFAULT_PORT

    @property
    def sign_in_address(self) -> str:
        return self.identity_url or self.identity_address
