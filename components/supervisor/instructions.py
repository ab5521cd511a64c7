"""What run-all prints when everything is up, and the credential files it writes."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

PICK = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"{key}\"])'"


def write_credentials(data_dir: Path, identity: str, passwords: dict[str, str]) -> Path:
    """clouds.yaml (clouds admin and demo) and openrc, mode 0600, in the data directory."""
    clouds = {
        "clouds": {
            user: {
                "auth": {
                    "auth_url": identity,
                    "username": user,
                    "password": passwords[user],
                    "project_name": user,
                    "user_domain_name": "default",
                    "project_domain_name": "default",
                },
                "region_name": "RegionOne",
            }
            for user in ("admin", "demo")
        }
    }
    path = data_dir / "clouds.yaml"
    _private_write(path, yaml.safe_dump(clouds, sort_keys=False))
    openrc = "".join(
        f"export {k}={v}\n"
        for k, v in (
            ("OS_AUTH_URL", identity),
            ("OS_USERNAME", "demo"),
            ("OS_PASSWORD", passwords["demo"]),
            ("OS_PROJECT_NAME", "demo"),
            ("OS_USER_DOMAIN_NAME", "default"),
            ("OS_PROJECT_DOMAIN_NAME", "default"),
        )
    )
    _private_write(data_dir / "openrc", openrc)
    return path


def _private_write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def banner(
    addresses: dict[str, str],
    ids: dict[str, str],
    passwords: dict[str, str],
    clouds: Path,
    image_name: str = "demo",
) -> str:
    identity, api = addresses["identity"], addresses["api"]
    body = (
        f'{{"name":"vm1","flavor_id":"{ids["flavor"]}","image_id":"{ids["image"]}",'
        f'"network_ids":["{ids["network"]}"]}}'
    )
    auth = '-H "x-auth-token: $TOKEN"'
    server = '"{\\"server_id\\":\\"$SERVER\\"}"'
    return f"""
Stratus is up. Every component is its own process; logs are in {clouds.parent}/logs/.

  admin password: {passwords["admin"]}     demo password: {passwords["demo"]}

Try the boot flow with grpcurl (paste line by line, from the repository root):

  export PATH=$PWD/.venv/bin:$PATH
  export TOKEN=$(grpcurl -plaintext -d '{{"username":"demo","password":"{passwords["demo"]}","project_name":"demo"}}' {identity} stratus.identity.v1.Identity/IssueToken | {PICK.format(key="token")})
  export SERVER=$(grpcurl -plaintext {auth} -d '{body}' {api} stratus.api.v1.Servers/CreateServer | {PICK.format(key="id")})
  grpcurl -plaintext {auth} -d {server} {api} stratus.api.v1.Servers/WatchServer
  grpcurl -plaintext {auth} -d {server} {api} stratus.api.v1.Servers/GetConsoleOutput
  grpcurl -plaintext {auth} -d {server} {api} stratus.api.v1.Servers/DeleteServer
  grpcurl -plaintext {auth} -d {server} {api} stratus.api.v1.Servers/GetServer    # NOT_FOUND once the host has cleaned up

Or with the stratus CLI:

  export OS_CLIENT_CONFIG_FILE={clouds} OS_CLOUD=demo
  stratus server create --flavor m1.tiny --image {image_name} --network private --wait vm2
  stratus server list

{_real_guest_note(image_name)}Every service answers `grpcurl -plaintext ADDRESS list` (reflection) and grpc.health.v1.Health/Check.
Addresses: {", ".join(f"{k} {v}" for k, v in addresses.items())}
Ctrl-C stops everything.
"""


def _real_guest_note(image_name: str) -> str:
    if image_name == "demo":
        return ""
    return (
        f"Guests are real (QEMU): image {image_name!r} boots a kernel whose console (GetConsoleOutput)\n"
        "shows STRATUS-GUEST lines: its disks' first bytes and the address DHCP gave it.\n\n"
    )
