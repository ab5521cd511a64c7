"""Signing in to the dashboard with httpx, as a browser would (cookies, CSRF tokens).

``signed_in(url, user, password)`` gives an ``httpx.Client`` holding the session
cookie; ``csrf(client, path)`` reads the CSRF token of the form on a page, and
``post_form`` posts a form with it. ``events`` reads a page's live stream and
``own_dashboard`` starts a dashboard process of a test's own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: httpx.Client, path: str = "/auth/login") -> str:
    page = client.get(path)
    match = CSRF.search(page.text)
    assert match, f"no CSRF token in the form of {path} ({page.status_code})"
    return match.group(1)


def sign_in(
    client: httpx.Client, user: str, password: str, project: str = "", domain: str = "default"
) -> httpx.Response:
    token = csrf(client)
    return client.post(
        "/auth/login",
        data={
            "csrf_token": token,
            "domain": domain,
            "username": user,
            "password": password,
            "project": project or user,
            "next": "/project/",
        },
    )


def signed_in(url: str, user: str, password: str, project: str = "") -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30.0, follow_redirects=False)
    reply = sign_in(client, user, password, project)
    assert reply.status_code == 303, f"sign-in as {user} failed: {reply.status_code} {reply.text}"
    return client


def post_form(client: httpx.Client, path: str, data: dict, page: str = "") -> httpx.Response:
    """POST ``data`` to ``path`` with the CSRF token of the session (read from ``page``)."""
    token = csrf(client, page or "/project/")
    return client.post(path, data={"csrf_token": token, **data})


def events(client: httpx.Client, url: str, timeout: float = 120.0) -> list[tuple[str, dict]]:
    """Every event of a page's live stream at ``url`` (name, data), until it says done."""
    seen: list[tuple[str, dict]] = []
    headers = {"Accept": "text/event-stream"}
    with client.stream("GET", url, headers=headers, timeout=timeout) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in reply.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                seen.append((name, json.loads(line.removeprefix("data: "))))
                if name == "done":
                    return seen
    raise AssertionError(f"the stream ended without done: {seen}")


@contextlib.contextmanager
def own_dashboard(identity: str, port: int, data_dir: Path) -> Iterator[subprocess.Popen]:
    """A dashboard process of the test's own on ``port`` (stderr in data_dir/dashboard.log),
    yielded once it answers /healthz and stopped afterwards."""
    log = data_dir / "dashboard.log"
    env = {
        **os.environ,
        "STRATUS_DATA_DIR": str(data_dir),
        "STRATUS_DASHBOARD_PORT": str(port),
        "STRATUS_DASHBOARD_IDENTITY_URL": identity,
    }
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "components.dashboard"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            assert process.poll() is None, f"the dashboard exited: {log.read_text()}"
            assert time.monotonic() < deadline, "the dashboard did not answer /healthz"
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)
