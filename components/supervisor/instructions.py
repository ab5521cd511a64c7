"""What run-all prints when everything is up, and the credential files it writes.

With TLS (a CA given), clouds.yaml and openrc name the CA bundle (``cacert``,
``OS_CACERT``) so that the CLI verifies every service, and the banner's grpcurl
lines verify against it too instead of ``-plaintext``.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

PICK = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"{key}\"])'"


def write_credentials(
    data_dir: Path, identity: str, passwords: dict[str, str], cacert: Path | None = None
) -> Path:
    """clouds.yaml (clouds admin and demo) and openrc, mode 0600, in the data directory.

    ``cacert``: the CA bundle that signed the services' certificates (TLS), or None."""
    clouds = {
        "clouds": {user: _cloud(user, identity, passwords, cacert) for user in ("admin", "demo")}
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
            *((("OS_CACERT", str(cacert)),) if cacert is not None else ()),
        )
    )
    _private_write(data_dir / "openrc", openrc)
    return path


def _cloud(user: str, identity: str, passwords: dict[str, str], cacert: Path | None) -> dict:
    cloud = {
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
    if cacert is not None:
        cloud["cacert"] = str(cacert)
    return cloud


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
    cacert: Path | None = None,
    operator: tuple[Path, Path] | None = None,
    reach: str = "",
    machines: bool = False,
    dashboard: str = "",
) -> str:
    """The text run-all prints. ``cacert``: the run's CA (TLS; None: plaintext);
    ``operator``: a client certificate and key from it, for services' internal ports;
    ``reach``: how this shell reaches the machines (a rack), said first; ``machines``:
    the run is a rack (what real guests use there differs); ``dashboard``: the web
    dashboard's URL (said near the top, with how to sign in), or "" for none."""
    identity, api = addresses["identity"], addresses["api"]
    tls = "-plaintext" if cacert is None else f"-cacert {cacert}"
    body = (
        f'{{"name":"vm1","flavor_id":"{ids["flavor"]}","image_id":"{ids["image"]}",'
        f'"network_ids":["{ids["network"]}"]}}'
    )
    auth = '-H "x-auth-token: $TOKEN"'
    server = '"{\\"server_id\\":\\"$SERVER\\"}"'
    return f"""
Stratus is up. Every component is its own process; logs are in {clouds.parent}/logs/.
{reach}
  admin password: {passwords["admin"]}     demo password: {passwords["demo"]}
{_dashboard_note(dashboard, passwords, cacert)}
Try the boot flow with grpcurl (paste line by line, from the repository root):

  export PATH=$PWD/.venv/bin:$PATH
  export TOKEN=$(grpcurl {tls} -d '{{"username":"demo","password":"{passwords["demo"]}","project_name":"demo"}}' {identity} stratus.identity.v1.Identity/IssueToken | {PICK.format(key="token")})
  export SERVER=$(grpcurl {tls} {auth} -d '{body}' {api} stratus.api.v1.Servers/CreateServer | {PICK.format(key="id")})
  grpcurl {tls} {auth} -d {server} {api} stratus.api.v1.Servers/WatchServer
  grpcurl {tls} {auth} -d {server} {api} stratus.api.v1.Servers/GetConsoleOutput
  grpcurl {tls} {auth} -d {server} {api} stratus.api.v1.Servers/DeleteServer
  grpcurl {tls} {auth} -d {server} {api} stratus.api.v1.Servers/GetServer    # NOT_FOUND once the host has cleaned up

Or with the stratus CLI:

  export OS_CLIENT_CONFIG_FILE={clouds} OS_CLOUD=demo
  stratus server create --flavor m1.tiny --image {image_name} --network private --wait vm2
  stratus server list

{_real_guest_note(image_name, machines)}{_operator_note(addresses, passwords, tls, operator)}Every service answers `grpcurl {tls} ADDRESS list` (reflection) and grpc.health.v1.Health/Check.
Addresses: {", ".join(f"{k} {v}" for k, v in addresses.items())}
Ctrl-C stops everything.
"""


def _dashboard_note(url: str, passwords: dict[str, str], cacert: Path | None) -> str:
    """Where a browser opens the dashboard and how to sign in (with TLS: trust the CA)."""
    if not url:
        return ""
    trust = (
        f"  Your browser must trust {cacert} (the run's CA) to open it.\n"
        if cacert is not None
        else ""
    )
    return (
        f"\nDashboard: {url}\n"
        f"  sign in with domain default, user demo, password {passwords['demo']}, project demo\n"
        "  (admin: user admin, project admin)\n" + trust
    )


def _operator_note(
    addresses: dict[str, str],
    passwords: dict[str, str],
    tls: str,
    operator: tuple[Path, Path] | None,
) -> str:
    """With TLS: how an operator calls a port that asks for a client certificate."""
    compute = next((v for k, v in addresses.items() if k.startswith("compute")), None)
    if operator is None or compute is None:
        return ""
    cert, key = operator
    login = f'{{"username":"admin","password":"{passwords["admin"]}","project_name":"admin"}}'
    return (
        "Conductor and compute hosts, and every service's internal port, take only callers\n"
        "with a certificate from the cloud's CA (mutual TLS: add -cert and -key to grpcurl);\n"
        "as an operator, with an admin token:\n\n"
        f"  export ADMIN_TOKEN=$(grpcurl {tls} -d '{login}' {addresses['identity']} "
        f"stratus.identity.v1.Identity/IssueToken | {PICK.format(key='token')})\n"
        f'  grpcurl {tls} -cert {cert} -key {key} -H "x-auth-token: $ADMIN_TOKEN" {compute} '
        "stratus.compute.v1.Compute/GetHostStatus\n\n"
    )


def _real_guest_note(image_name: str, machines: bool = False) -> str:
    if image_name == "demo":
        return ""
    where = (
        "Each compute machine runs its own libvirtd; guest networks are bridges joined by\n"
        "VXLAN over the rack, served by dnsmasq in namespaces qdhcp-<network id> of machine\n"
        "network; volumes reach guests over NBD with TLS from the controller.\n\n"
        if machines
        else "Guest networks are bridges in the guests' namespace, served by dnsmasq in\n"
        "namespaces qdhcp-<network id>; volumes are files of this machine.\n\n"
    )
    return (
        f"Guests are real (QEMU): image {image_name!r} boots a kernel whose console (GetConsoleOutput)\n"
        "shows STRATUS-GUEST lines: its disks' first bytes and the address DHCP gave it (and\n"
        "which server did); an image's os_command_line may add stratus.ping=ADDR[,ADDR] and\n"
        "stratus.mark=DEV:TEXT (components/supervisor/guest_init.sh).\n" + where
    )
