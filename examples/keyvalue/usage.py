"""What ``make example`` prints once the store is serving: how to call it with grpcurl."""

from __future__ import annotations

from pathlib import Path

from components.framework import Runtime

PICK_TOKEN = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])'"


def text(identity: str, address: str, demo_password_file: Path) -> str:
    login = (
        '"{\\"username\\":\\"demo\\",\\"password\\":\\"$(cat '
        f'{demo_password_file})\\",\\"project_name\\":\\"demo\\"}}"'
    )
    auth = '-H "x-auth-token: $TOKEN"'
    service = "example.keyvalue.v1.KeyValue"
    return f"""
The example key-value store is serving on {address} (identity: {identity}).
Call it with grpcurl (paste line by line, from the repository root):

  export PATH=$PWD/.venv/bin:$PATH
  grpcurl -plaintext {address} list
  grpcurl -plaintext {address} grpc.health.v1.Health/Check
  export TOKEN=$(grpcurl -plaintext -d {login} {identity} stratus.identity.v1.Identity/IssueToken | {PICK_TOKEN})
  grpcurl -plaintext {auth} -d '{{"key":"colour","value":"blue","request_id":"r-1"}}' {address} {service}/PutKey
  grpcurl -plaintext {auth} -d '{{"key":"colour","value":"blue","request_id":"r-1"}}' {address} {service}/PutKey
  grpcurl -plaintext {auth} -d '{{"prefix":"col"}}' {address} {service}/ListKeys
  grpcurl -plaintext {auth} {address} {service}/GetStore

(The second PutKey is a retry: same request_id, same reply, still version 1.)
"""


def print_usage(runtime: Runtime) -> None:
    config = runtime.config
    password_file = Path(config.data_dir).resolve() / "secrets" / "demo.password"
    address = f"{config.host}:{runtime.port}"
    print(text(config.identity_address, address, password_file), flush=True)
