"""The example component of docs/framework.md as `make example` runs it: its own process
beside a real identity, called with the real grpcurl binary (list, health, RPCs with a
token)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
GRPCURL = shutil.which("grpcurl") or str(Path(".venv/bin/grpcurl").resolve())
ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on (\S+:\d+)")


def grpcurl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [GRPCURL, "-plaintext", *args], capture_output=True, text=True, timeout=60
    )


def rpc(address: str, method: str, body: dict, token: str | None = None) -> dict:
    headers = ["-H", f"x-auth-token: {token}"] if token else []
    result = grpcurl(*headers, "-d", json.dumps(body), address, method)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "{}")


@contextlib.contextmanager
def started(module: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """``python -m module --port 0`` until the block ends; yields the address it listens on."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", "0"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not (found := LISTENING.search(log.read_text(errors="replace"))):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{module} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """(identity address, example address, demo password), as make run-all + make example."""
    data = tmp_path_factory.mktemp("keyvalue")
    env = {"STRATUS_DATA_DIR": str(data), "STRATUS_IDENTITY_PASSWORD_HASH_ROUNDS": "4"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATUS_")} | env
    boot = subprocess.run(
        [sys.executable, "-m", "components.identity", "bootstrap", "--demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert boot.returncode == 0, boot.stdout + boot.stderr
    with started("components.identity", env, data / "identity.log") as identity:
        store_env = env | {
            "STRATUS_IDENTITY_ADDRESS": identity,
            "STRATUS_KEYVALUE_SERVICE_USER": "network",  # as make example lends it
        }
        with started("examples.keyvalue", store_env, data / "keyvalue.log") as store:
            password = (data / "secrets" / "demo.password").read_text().strip()
            yield identity, store, password


def test_grpcurl_lists_the_example_and_health_says_serving(example):
    _, store, _ = example
    listed = grpcurl(store, "list")
    assert listed.returncode == 0, listed.stderr
    assert {"example.keyvalue.v1.KeyValue", "grpc.health.v1.Health"} <= set(listed.stdout.split())
    health = grpcurl(store, "grpc.health.v1.Health/Check")
    assert json.loads(health.stdout)["status"] == "SERVING"


def test_a_demo_token_puts_retries_and_reads_keys_through_grpcurl(example):
    identity, store, password = example
    login = {"username": "demo", "password": password, "project_name": "demo"}
    token = rpc(identity, "stratus.identity.v1.Identity/IssueToken", login)["token"]
    method = "example.keyvalue.v1.KeyValue/"
    body = {"key": "colour", "value": "blue", "request_id": "e2e-1"}
    first = rpc(store, method + "PutKey", body, token)["key"]
    retried = rpc(store, method + "PutKey", body, token)["key"]
    assert first["version"] == retried["version"] == "1" and first == retried
    listed = rpc(store, method + "ListKeys", {"prefix": "col"}, token)
    assert [k["key"] for k in listed["keys"]] == ["colour"]
    # GetStore asks the real identity for the project's name with the demo user's token.
    described = rpc(store, method + "GetStore", {}, token)
    assert described["project_name"] == "demo" and described["key_count"] == "1"
    refused = grpcurl("-d", json.dumps(body), store, method + "PutKey")
    assert refused.returncode != 0 and "Unauthenticated" in refused.stderr
