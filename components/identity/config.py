"""Identity's settings, beyond those every component has."""

from __future__ import annotations

import dataclasses

from components.framework import Config


@dataclasses.dataclass
class IdentityConfig(Config):
    token_lifetime_seconds: int = 3600
    # Keystone's lockout_failure_attempts / lockout_duration; 0 attempts disables lockout.
    lockout_failure_attempts: int = 5
    lockout_duration_seconds: int = 1800
    # Failed logins delay the next attempt from the same peer (throttle.py): the
    # delay doubles per failure from base to max; 0 base disables throttling.
    login_throttle_base_seconds: float = 0.5
    login_throttle_max_seconds: float = 30.0
    # Failures from one peer address (any users) before every login from it waits.
    login_throttle_peer_free_failures: int = 5
    # Failures for one user from one address (typos) before its next login waits.
    login_throttle_user_free_failures: int = 3
    # A user who logged in from an address is spared that address's throttle this long.
    login_throttle_trust_seconds: float = 86_400.0
    # At most this many WatchRevocations streams at once (each holds a worker).
    max_revocation_watchers: int = 32
    password_hash_rounds: int = 12
    # Staged + primary + secondaries kept; Keystone's max_active_keys.
    max_active_keys: int = 3
    # Empty: <data_dir>/fernet-keys.
    key_repository: str = ""
    # The host other components are reached at, written into the catalog by bootstrap.
    catalog_host: str = "127.0.0.1"
    # Public addresses (users; TLS) that differ from catalog_host:default-port, several
    # replicas of a type separated by "|" ("api=10.0.0.2:8774|10.0.0.3:8774,image=...").
    catalog_endpoints: dict[str, str] = dataclasses.field(default_factory=dict)
    # Internal addresses (components; mutual TLS), same form. A type not named here has
    # no internal endpoint: components reach it at its public ones.
    catalog_internal_endpoints: dict[str, str] = dataclasses.field(default_factory=dict)
