"""The dashboard's web application: sessions, routes, static files, health.

``build(config)`` returns the Starlette application uvicorn serves. Every
request is given its session (``request.state.session``) from the cookie; a
response to a request that made a new session sets the cookie. Any error a view
did not handle is a page saying so, never a stack trace.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from components.dashboard import views
from components.dashboard.cloud import Channels, Cloud
from components.dashboard.config import DashboardConfig
from components.dashboard.sessions import COOKIE, Session, SessionStore
from components.dashboard.web import error_page, redirect

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"


class Dashboard:
    """What the application keeps: its settings, the channels, the sessions."""

    def __init__(self, config: DashboardConfig) -> None:
        self.config = config
        self.channels = Channels(config.tls_ca_file)
        self.sessions = SessionStore(config.session_idle_seconds, config.max_sessions)
        # Served over TLS: the session cookie is then Secure.
        self.secure = bool(config.tls_cert_file)

    def cloud(self, session: Session | None) -> Cloud:
        login = session.login if session is not None else None
        return Cloud(
            self.channels,
            self.config.sign_in_address,
            login,
            self.config.region,
            self.config.call_timeout_seconds,
        )


class SessionMiddleware(BaseHTTPMiddleware):
    """The request's session from the cookie; the cookie set when the session changed."""

    async def dispatch(self, request: Request, call_next) -> Response:
        dashboard: Dashboard = request.app.state.dashboard
        session = dashboard.sessions.get(request.cookies.get(COOKIE, ""))
        given = session.id if session is not None else ""
        request.state.session = session
        response = await call_next(request)
        current = request.state.session
        if current is not None and current.id != given:
            response.set_cookie(
                COOKIE,
                current.id,
                httponly=True,
                samesite="strict",
                secure=dashboard.secure,
                path="/",
            )
        elif current is None and given:
            response.delete_cookie(COOKIE, path="/")
        response.headers.setdefault("x-frame-options", "DENY")
        response.headers.setdefault("x-content-type-options", "nosniff")
        response.headers.setdefault("referrer-policy", "same-origin")
        response.headers.setdefault("cache-control", "no-store")
        return response


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def home(request: Request) -> Response:
    return redirect("/project/")


async def not_found(request: Request, exc) -> Response:
    return error_page(request, f"There is no page at {request.url.path}.", 404)


async def failure(request: Request, exc: Exception) -> Response:
    log.exception("%s %s failed", request.method, request.url.path)
    return error_page(
        request, "Something went wrong in the dashboard; its log has the details.", 500
    )


@contextlib.asynccontextmanager
async def lifespan(dashboard: Dashboard, app: Starlette):
    yield
    await dashboard.channels.close()


def build(config: DashboardConfig) -> Starlette:
    dashboard = Dashboard(config)
    routes = [
        Route("/healthz", healthz),
        Route("/", home),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
        *views.routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SessionMiddleware)],
        exception_handlers={404: not_found, 500: failure, Exception: failure},
        lifespan=functools.partial(lifespan, dashboard),
    )
    app.state.dashboard = dashboard
    return app
