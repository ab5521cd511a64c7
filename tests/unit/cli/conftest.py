"""The CLI run in-process by click's CliRunner, with no credentials from the machine."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from components.cli.__main__ import cli
from tests.unit.cli.fakes import PASSWORD, fake_cloud


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch, tmp_path):
    """No OS_* variable, clouds.yaml, home or cache directory of the machine leaks in."""
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake():
    with fake_cloud() as cloud:
        yield cloud


@pytest.fixture
def stratus(fake):
    """``stratus(*args, **env)``: run the CLI against the fake cloud as the demo user."""

    def run(*args: str, **env: str):
        environ = {
            "OS_AUTH_URL": fake.address,
            "OS_USERNAME": "demo",
            "OS_PASSWORD": PASSWORD,
            "OS_PROJECT_NAME": "demo",
            **env,
        }
        return CliRunner().invoke(cli, list(args), env=environ, prog_name="stratus")

    return run
