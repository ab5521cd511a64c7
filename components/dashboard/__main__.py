"""``python -m components.dashboard``: serve the dashboard (uvicorn, one process).

HTTP on ``host:port`` (8080 by default), HTTPS when the component has a TLS
certificate (``tls_cert_file``/``tls_key_file``; ``tls_ca_file`` also verifies
the services it calls). SIGINT or SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from components.dashboard.app import build
from components.dashboard.config import DashboardConfig
from components.framework import PRIVATE_UMASK, configure_logging, lifeline, load_config


def main(argv=None) -> int:
    lifeline.die_with_supervisor()  # started by run-all: never outlive it
    parser = argparse.ArgumentParser(prog="python -m components.dashboard")
    parser.add_argument("--config", help="TOML configuration file (or STRATUS_CONFIG)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")
    options = parser.parse_args(argv)
    os.umask(PRIVATE_UMASK)
    config = load_config(DashboardConfig, "dashboard", options.config, port=options.port)
    configure_logging("dashboard", config.log_level)
    scheme = "https" if config.tls_cert_file else "http"
    print(
        f"dashboard listening on {scheme}://{config.host}:{config.listen_port}/",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        build(config),
        host=config.host,
        port=config.listen_port,
        ssl_certfile=config.tls_cert_file or None,
        ssl_keyfile=config.tls_key_file or None,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(config.grace_seconds),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
