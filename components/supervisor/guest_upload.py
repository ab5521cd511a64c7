"""``make guest-image``: build the demo guest and upload it to a running cloud.

    python -m components.supervisor.guest_upload [--data-dir var] [--identity 127.0.0.1:5000]

Builds the guest into ``<data_dir>/guest/`` (guest_image.py) and uploads it as
the admin of the cloud whose data directory that is (the password bootstrap
wrote there), to the image service the identity catalog names. Idempotent: an
image already uploaded with the same bytes is kept. Prints the image ids.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import yaml

from components.framework import tls
from components.supervisor import guest_image, seed
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc


def parse(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m components.supervisor.guest_upload")
    parser.add_argument("--data-dir", default=os.environ.get("STRATUS_DATA_DIR", "./var"))
    parser.add_argument(
        "--identity", default=os.environ.get("STRATUS_IDENTITY_ADDRESS", "127.0.0.1:5000")
    )
    return parser.parse_args(argv)


def run_tls(data_dir: str) -> tls.Tls | None:
    """The CA of the running cloud, as its clouds.yaml names it (None: plaintext)."""
    try:
        clouds = yaml.safe_load((Path(data_dir) / "clouds.yaml").read_text()) or {}
    except FileNotFoundError:
        return None
    cacert = clouds.get("clouds", {}).get("admin", {}).get("cacert")
    return tls.Tls.from_files(cacert) if cacert else None


def image_address(
    identity: str, admin_password: str, security: tls.Tls | None = None
) -> tuple[str, str]:
    """An admin token and the image service's public address from the catalog."""
    with tls.channel(identity, security, server_name="identity") as channel:
        reply = identity_grpc.IdentityStub(channel).IssueToken(
            identity_pb2.IssueTokenRequest(
                username="admin", password=admin_password, project_name="admin"
            ),
            timeout=30,
        )
    for entry in reply.catalog:
        public = [e for e in entry.endpoints if e.interface in ("", "public")]
        if entry.type == "image" and public:
            return reply.token, public[0].address
    raise SystemExit(f"the catalog of {identity} has no image service")


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    options = parse(argv)
    guest = guest_image.build(options.data_dir)
    try:
        password = seed.password(options.data_dir, "admin")
    except FileNotFoundError:
        raise SystemExit(
            f"no admin password in {options.data_dir}/secrets: start the cloud first (make run-all)"
        ) from None
    security = run_tls(options.data_dir)
    token, address = image_address(options.identity, password, security)
    with tls.channel(address, security, server_name="image") as channel:
        ids = seed.guest_images(channel, token, guest)
    print(json.dumps(ids, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
