"""The token cache: one sign-in per cloud and user, kept private, dropped when refused."""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import stat
from pathlib import Path

import pytest
from google.protobuf import timestamp_pb2

from components.cli import token_cache
from components.cli.cloud_config import Credentials
from components.cli.session import Session
from components.cli.token_cache import TokenCache
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from tests.unit.cli.fakes import PASSWORD, TOKEN

CREDS = Credentials(
    auth_url="127.0.0.1:5000", username="demo", password=PASSWORD, project_name="demo"
)


def login(token: str = "t-1", expires_in: float = 3600.0) -> identity_pb2.IssueTokenResponse:
    expires = timestamp_pb2.Timestamp()
    expires.FromDatetime(
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=expires_in)
    )
    return identity_pb2.IssueTokenResponse(
        token=token,
        expires_time=expires,
        catalog=[identity_pb2.CatalogEntry(type="api", name="api")],
    )


@pytest.fixture
def cache(tmp_path) -> TokenCache:
    return TokenCache(tmp_path / "cache" / "stratus" / "tokens")


def only_file(cache: TokenCache) -> Path:
    [path] = list(cache.root.iterdir())
    return path


def test_a_stored_login_is_loaded_back_with_its_catalog(cache):
    cache.store(CREDS, login("t-1"))
    loaded = cache.load(CREDS)
    assert loaded is not None and loaded.token == "t-1"
    assert [e.type for e in loaded.catalog] == ["api"]


def test_the_file_is_0600_in_a_0700_directory_and_holds_no_password(cache):
    cache.store(CREDS, login())
    path = only_file(cache)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache.root.parent.stat().st_mode) == 0o700
    assert PASSWORD not in path.read_text()
    assert json.loads(path.read_text())["key"]["username"] == "demo"


def test_a_token_close_to_its_expiry_is_not_used(cache):
    margin = token_cache.EXPIRY_MARGIN_SECONDS
    cache.store(CREDS, login("soon", expires_in=margin + 60))
    assert cache.load(CREDS).token == "soon"
    short = TokenCache(cache.root, margin_seconds=margin + 120)
    assert short.load(CREDS) is None
    cache.store(CREDS, login("expiring", expires_in=margin - 1))
    assert cache.load(CREDS).token == "soon"  # an almost expired token is not even stored


@pytest.mark.parametrize(
    "change",
    [
        {"auth_url": "127.0.0.1:6000"},
        {"username": "alice"},
        {"project_name": "other"},
        {"domain_name": "elsewhere"},
    ],
    ids=["other-cloud", "other-user", "other-project", "other-domain"],
)
def test_another_cloud_user_project_or_domain_never_gets_the_token(cache, change):
    cache.store(CREDS, login("demo-token"))
    assert cache.load(dataclasses.replace(CREDS, **change)) is None
    assert cache.load(dataclasses.replace(CREDS, password="something else")).token == "demo-token"


def test_a_file_others_can_read_is_ignored(cache):
    cache.store(CREDS, login())
    only_file(cache).chmod(0o644)
    assert cache.load(CREDS) is None


def test_remove_of_a_given_token_leaves_another_one(cache):
    cache.store(CREDS, login("t-1"))
    assert cache.remove(CREDS, "t-other") is False
    assert cache.remove(CREDS, "t-1") is True
    assert cache.load(CREDS) is None
    assert cache.remove(CREDS) is False


def test_session_forget_token_drops_the_cached_login(cache):
    cache.store(CREDS, login("t-1"))
    session = Session(lambda: CREDS, token_cache=cache)
    assert session.forget_token() is True
    assert list(cache.root.iterdir()) == []
    assert Session(lambda: CREDS).forget_token() is False  # no cache: nothing to do


def test_cache_directory_follows_xdg_cache_home_or_the_home_directory(monkeypatch, tmp_path):
    assert token_cache.directory({"XDG_CACHE_HOME": str(tmp_path)}) == (
        tmp_path / "stratus" / "tokens"
    )
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert token_cache.directory({}) == tmp_path / "h" / ".cache" / "stratus" / "tokens"
    assert token_cache.directory({"XDG_CACHE_HOME": "relative"}) == (
        tmp_path / "h" / ".cache" / "stratus" / "tokens"
    )


@pytest.mark.parametrize("value, on", [("0", False), ("off", False), ("1", True), ("", True)])
def test_os_token_cache_switches_the_cache(value, on):
    assert token_cache.enabled({"OS_TOKEN_CACHE": value} if value else {}) is on


# Through the CLI, against the fake cloud ------------------------------------------------


def test_a_second_command_uses_the_cached_token_without_signing_in(stratus, fake, tmp_path):
    assert stratus("server", "list").exit_code == 0
    assert stratus("server", "list").exit_code == 0
    assert fake.calls.count["IssueToken"] == 1
    assert fake.calls.count["ListServers"] == 2
    [path] = list((tmp_path / "cache" / "stratus" / "tokens").iterdir())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_cache_flag_and_os_token_cache_0_sign_in_every_time(stratus, fake, tmp_path):
    assert stratus("--no-cache", "server", "list").exit_code == 0
    assert stratus("server", "list", OS_TOKEN_CACHE="0").exit_code == 0
    assert fake.calls.count["IssueToken"] == 2
    assert not (tmp_path / "cache" / "stratus").exists()


def test_a_refused_cached_token_is_dropped_and_the_command_signs_in_once_more(
    stratus, fake, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG, logger="components.cli.session")
    cache = TokenCache(tmp_path / "cache" / "stratus" / "tokens")
    creds = dataclasses.replace(CREDS, auth_url=fake.address)
    endpoint = identity_pb2.Endpoint(region="RegionOne", address=fake.address)
    revoked = login("revoked-token")
    revoked.catalog[0].endpoints.append(endpoint)
    cache.store(creds, revoked)
    result = stratus("--debug", "server", "list")
    assert result.exit_code == 0, result.output
    assert "the cached token was refused" in caplog.text
    assert fake.calls.count["IssueToken"] == 1
    assert fake.calls.count["ListServers"] == 1  # the refused call never reached it
    assert cache.load(creds).token == TOKEN


def test_a_refused_cached_token_on_a_watch_is_replaced_before_the_first_event(
    stratus, fake, tmp_path
):
    server = fake.servers.add("vm1")
    cache = TokenCache(tmp_path / "cache" / "stratus" / "tokens")
    creds = dataclasses.replace(CREDS, auth_url=fake.address)
    revoked = login("revoked-token")
    revoked.catalog[0].endpoints.append(
        identity_pb2.Endpoint(region="RegionOne", address=fake.address)
    )
    cache.store(creds, revoked)
    result = stratus("server", "show", "--wait", server.id)
    assert result.exit_code == 0, result.output
    assert fake.calls.count["IssueToken"] == 1


def test_debug_shows_the_sign_in_call(stratus, fake, caplog):
    caplog.set_level(logging.DEBUG, logger="components.cli.session")
    assert stratus("--debug", "server", "list").exit_code == 0
    assert "identity IssueToken" in caplog.text
    caplog.clear()
    assert stratus("--debug", "server", "list").exit_code == 0
    assert "identity token from the cache" in caplog.text


def test_the_token_file_is_not_readable_by_others_even_with_a_loose_umask(stratus, tmp_path):
    previous = os.umask(0)
    try:
        assert stratus("server", "list").exit_code == 0
    finally:
        os.umask(previous)
    tokens = tmp_path / "cache" / "stratus" / "tokens"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o700
    [path] = list(tokens.iterdir())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
