"""The whole cloud as ``make run-all`` starts it, once per test session."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from components.framework.auth import TOKEN_HEADER
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from tests.e2e.dashboard_client import signed_in

PORT_OFFSET = int(os.environ.get("STRATUS_E2E_PORT_OFFSET", "20000"))
COMPUTE_HOSTS = 3


class Cloud:
    def __init__(self, info: dict, data_dir: Path) -> None:
        self.addresses: dict[str, str] = info["addresses"]
        self.ids: dict[str, str] = info["ids"]
        self.passwords: dict[str, str] = info["passwords"]
        self.clouds = info["clouds"]
        # The web dashboard's URL (http://127.0.0.1:PORT/; https with TLS).
        self.dashboard: str = info.get("dashboard", "")
        self.data_dir = data_dir
        self._channels: dict[str, grpc.Channel] = {}
        self._tokens: dict[str, identity_pb2.IssueTokenResponse] = {}

    def channel(self, name: str) -> grpc.Channel:
        if name not in self._channels:
            self._channels[name] = grpc.insecure_channel(self.addresses[name])
        return self._channels[name]

    def token_reply(self, user: str = "demo") -> identity_pb2.IssueTokenResponse:
        """One token per user for the whole session (tokens live an hour)."""
        if user not in self._tokens:
            stub = identity_grpc.IdentityStub(self.channel("identity"))
            self._tokens[user] = stub.IssueToken(
                identity_pb2.IssueTokenRequest(
                    username=user, password=self.passwords[user], project_name=user
                )
            )
        return self._tokens[user]

    def token(self, user: str = "demo") -> str:
        return self.token_reply(user).token

    def md(self, user: str = "demo"):
        return ((TOKEN_HEADER, self.token(user)),)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()


@pytest.fixture(scope="session")
def cloud(tmp_path_factory):
    with run_cloud(tmp_path_factory.mktemp("cloud"), PORT_OFFSET, COMPUTE_HOSTS) as result:
        yield result


@contextlib.contextmanager
def run_cloud(
    data_dir: Path, port_offset: int, compute_hosts: int, env: dict[str, str] | None = None
) -> Iterator[Cloud]:
    """A cloud as run-all starts it, with extra ``STRATUS_*`` settings (e.g. shorter
    stale-build bounds) for tests that break it; ``cloud.supervisor_pid`` is its run-all."""
    ready = data_dir / "ready.json"
    output = data_dir / "run-all.out"
    output.touch(mode=0o600)  # the data directory is its owner's alone
    with output.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "components.supervisor",
                "--data-dir",
                str(data_dir),
                "--port-offset",
                str(port_offset),
                "--compute-hosts",
                str(compute_hosts),
                "--ready-file",
                str(ready),
                "--quiet",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    try:
        deadline = time.monotonic() + 180
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"run-all did not come up:\n{_tails(output, data_dir / 'logs')}")
            time.sleep(0.2)
        result = Cloud(json.loads(ready.read_text()), data_dir)
        result.supervisor_pid = process.pid
        yield result
        result.close()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _tails(output: Path, log_dir: Path) -> str:
    """The end of run-all's output and of every component's log."""
    files = [output, *sorted(log_dir.glob("*.log"))] if log_dir.exists() else [output]
    return "".join(
        f"\n--- {f.name}\n{f.read_text(errors='replace')[-3000:]}" for f in files if f.exists()
    )


@pytest.fixture
def page(cloud):
    """An httpx client signed in to run-all's dashboard as demo (the dashboard panels' tests)."""
    assert cloud.dashboard, "run-all announced no dashboard URL"
    client = signed_in(cloud.dashboard, "demo", cloud.passwords["demo"])
    yield client
    client.close()
