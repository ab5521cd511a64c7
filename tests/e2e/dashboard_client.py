"""Signing in to the dashboard with httpx, as a browser would (cookies, CSRF tokens).

``signed_in(url, user, password)`` gives an ``httpx.Client`` holding the session
cookie; ``csrf(client, path)`` reads the CSRF token of the form on a page, and
``post_form`` posts a form with it.
"""

from __future__ import annotations

import re

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
