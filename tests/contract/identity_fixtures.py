"""A bootstrapped identity service for tests, on each database backend."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import grpc
import pytest

from components.identity.__main__ import COMPONENT
from components.identity.bootstrap import bootstrap
from components.identity.config import IdentityConfig
from stratus.identity.v1 import identity_service_pb2 as pb2
from stratus.identity.v1 import identity_service_pb2_grpc as pb2_grpc
from tests.harness import serving_component

ADMIN_PASSWORD = "admin-secret-1"
DEMO_PASSWORD = "demo-secret-1"


@dataclasses.dataclass
class Identity:
    config: IdentityConfig
    runtime: object
    channel: grpc.Channel

    def stub(self, name: str):
        return getattr(pb2_grpc, f"{name}Stub")(self.channel)

    def issue(self, username: str, password: str, project: str) -> pb2.IssueTokenResponse:
        return self.stub("Identity").IssueToken(
            pb2.IssueTokenRequest(username=username, password=password, project_name=project)
        )

    def token(self, username: str, password: str, project: str) -> str:
        return self.issue(username, password, project).token

    def service_password(self, name: str) -> str:
        path = f"{self.config.data_dir}/secrets/{name}.password"
        with open(path) as fh:
            return fh.read().strip()


def md(token: str):
    return (("x-auth-token", token),)


@contextlib.contextmanager
def serving_identity(database_url, tmp_path, monkeypatch, **settings) -> Iterator[Identity]:
    """A bootstrapped identity (admin, demo, service users) with ``settings`` applied."""
    monkeypatch.setenv("STRATUS_ADMIN_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.setenv("STRATUS_DEMO_PASSWORD", DEMO_PASSWORD)
    config = IdentityConfig(
        data_dir=str(tmp_path),
        password_hash_rounds=4,
        lockout_failure_attempts=3,
        lockout_duration_seconds=2,
        **settings,
    )
    with serving_component(COMPONENT, None, database_url, config=config) as (runtime, channel):
        bootstrap(config, demo=True)
        yield Identity(config, runtime, channel)


@pytest.fixture
def identity(database_url, tmp_path, monkeypatch):
    # Login throttling off: these tests fail logins back to back on purpose;
    # tests/contract/test_login_throttle.py covers throttling.
    with serving_identity(
        database_url, tmp_path, monkeypatch, login_throttle_base_seconds=0.0
    ) as served:
        yield served
