"""API settings."""

from __future__ import annotations

import dataclasses

from components.framework import Config


@dataclasses.dataclass
class ApiConfig(Config):
    # Default per-project quota (nova's defaults); -1 is unlimited.
    quota_instances: int = 10
    quota_cores: int = 20
    quota_ram_mib: int = 51200
    # Key pairs each user may have (Nova's key_pairs quota, per user); -1 is unlimited.
    quota_key_pairs: int = 100
    # How often WatchServer looks for a change.
    watch_poll_seconds: float = 0.005
    # How long a recorded server waits for an unreachable scheduler (one
    # restarting, say) before it goes to ERROR; the sweep's limit is 60 s.
    scheduler_retry_seconds: float = 20.0
    # A recorded build is held by the api replica that took it for this long,
    # renewed while it waits; a build whose lease has lapsed (its replica
    # died) is taken by another replica and handed to the scheduler.
    build_request_lease_seconds: float = 10.0
    # How often each replica renews its leases and looks for lapsed ones.
    build_request_poll_seconds: float = 1.0
    # A build the scheduler placed is handed to it again if its host has not
    # taken it this long after (the cast may have been lost with a killed
    # scheduler), and so on until the host takes it or the conductor's sweep
    # fails it (build_start_timeout_seconds, 60 s). The user's token is kept
    # that long. 0: never (a lost cast ends in ERROR at the sweep).
    build_recast_seconds: float = 10.0
    # A host that has not reported for this long is down (as the scheduler's
    # setting): deleting a server on it releases its ports and volumes here
    # instead of waiting for the host (Nova's local delete).
    service_down_time_seconds: float = 60.0
