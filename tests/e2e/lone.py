"""One component as its own process beside a real identity, for e2e tests of a single
service (the network service's DHCP agent, the volume service's NBD exports)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on (\S+:\d+)")


@contextlib.contextmanager
def started(module: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """``python -m module --port 0`` until the block ends (SIGTERM, then SIGKILL);
    ``process.address`` is where it listens. ``log`` is appended to, so a restart can
    share it."""
    seen = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", "0"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not (found := LISTENING.search(since(log, seen))):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{module} did not start:\n{since(log, seen)[-3000:]}")
            time.sleep(0.1)
        process.address = found.group(1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def since(log: Path, offset: int) -> str:
    return log.read_bytes()[offset:].decode(errors="replace")


@contextlib.contextmanager
def identity(data: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A bootstrapped identity (with the demo user) in ``data``: the demo user's token and
    the environment another component needs to run beside it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATUS_")}
    env |= {"STRATUS_DATA_DIR": str(data), "STRATUS_IDENTITY_PASSWORD_HASH_ROUNDS": "4"}
    boot = subprocess.run(
        [sys.executable, "-m", "components.identity", "bootstrap", "--demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert boot.returncode == 0, boot.stdout + boot.stderr
    with started("components.identity", env, data / "identity.log") as process:
        password = (data / "secrets" / "demo.password").read_text().strip()
        with grpc.insecure_channel(process.address) as channel:
            request = identity_pb2.IssueTokenRequest(
                username="demo", password=password, project_name="demo"
            )
            token = identity_grpc.IdentityStub(channel).IssueToken(request).token
        yield token, env | {"STRATUS_IDENTITY_ADDRESS": process.address}
