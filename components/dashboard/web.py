"""What every page shares: routes that need a sign-in (or admin), CSRF on every form,
templates with the session's context, flash messages, errors shown as messages.

A view module makes ``pages = Pages()`` and decorates its handlers::

    @pages.get("/project/images")
    async def images(request, cloud): ...

    @pages.post("/project/images/{id}/delete")
    async def delete_image(request, cloud): ...

The handler gets the signed-in user's :class:`Cloud`. A POST (or PUT, DELETE) is
refused with 403 unless it carries the session's CSRF token, as the form field
``csrf_token`` or the header ``X-CSRF-Token``. A :class:`ServiceError` a handler
lets through becomes a message: on a page, the page says it (with the HTTP status
matching the gRPC one); after a form, the message is flashed and the browser sent
back where the form came from. A token the services no longer accept ends the
session and leads to the sign-in page.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import grpc
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from components.dashboard.cloud import Cloud, ServiceError
from components.dashboard.sessions import Session

log = logging.getLogger(__name__)

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# The HTTP status of a page whose call failed with this gRPC status.
HTTP_STATUS = {
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}

Handler = Callable[[Request, Cloud], Awaitable[Response]]


def session_of(request: Request) -> Session | None:
    return getattr(request.state, "session", None)


def cloud_of(request: Request, session: Session | None = None) -> Cloud:
    """The services as this request's user reaches them."""
    return request.app.state.dashboard.cloud(session or session_of(request))


def flash(request: Request, kind: str, text: str) -> None:
    session = session_of(request)
    if session is not None:
        session.flash(kind, text)


def redirect(url: str) -> RedirectResponse:
    """After a form: see the other page (303, so the browser GETs it)."""
    return RedirectResponse(url, status_code=303)


def local_path(target: str, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``: never another site's
    address, not even one written ``//host/...`` (which browsers follow to that host)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def back(request: Request, default: str) -> str:
    """Where the form came from (a path of this site only), else ``default``."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc not in ("", request.url.netloc):
        return default
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return local_path(path, default)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``template`` with the session's user, project, role, CSRF token and messages."""
    session = session_of(request)
    login = session.login if session is not None and session.signed_in else None
    base = {
        "request": request,
        "session": session,
        "login": login,
        "is_admin": bool(session and session.is_admin),
        "csrf_token": session.csrf_token if session else "",
        "flashes": session.take_flashes() if session else [],
        "path": request.url.path,
    }
    return TEMPLATES.TemplateResponse(request, template, {**base, **context}, status_code)


def error_page(request: Request, message: str, status_code: int) -> HTMLResponse:
    return render(request, "error.html", status_code, title="Error", message=message)


class Pages:
    """The routes of one view module."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def get(self, path: str, *, admin: bool = False) -> Callable[[Handler], Handler]:
        return self._route(path, ("GET",), admin)

    def post(self, path: str, *, admin: bool = False) -> Callable[[Handler], Handler]:
        return self._route(path, ("POST",), admin)

    def put(self, path: str, *, admin: bool = False) -> Callable[[Handler], Handler]:
        return self._route(path, ("PUT",), admin)

    def _route(self, path: str, methods: tuple[str, ...], admin: bool):
        def decorate(handler: Handler) -> Handler:
            @functools.wraps(handler)
            async def endpoint(request: Request) -> Response:
                return await guarded(request, handler, admin)

            self.routes.append(Route(path, endpoint, methods=list(methods)))
            return handler

        return decorate


async def csrf_refusal(request: Request, session: Session | None) -> Response | None:
    """403 unless an unsafe request carries the session's CSRF token (else None)."""
    if request.method not in UNSAFE:
        return None
    given = request.headers.get(CSRF_HEADER, "")
    content_type = request.headers.get("content-type", "")
    if not given and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = str((await request.form()).get(CSRF_FIELD, ""))
    if session is not None and session.csrf_ok(given):
        return None
    log.info("refused %s %s: missing or wrong CSRF token", request.method, request.url.path)
    return error_page(
        request,
        "The form's security token (CSRF) is missing or out of date: reload the page and "
        "submit it again.",
        403,
    )


def to_sign_in(request: Request, message: str = "") -> Response:
    if message:
        flash(request, "error", message)
    if _wants_data(request):
        return Response(message or "sign in first", status_code=401)
    target = request.url.path if request.method == "GET" else back(request, "/")
    return redirect(f"/auth/login?next={quote(target)}")


def _wants_data(request: Request) -> bool:
    """A script's request (live updates, uploads): answer with a status, not a page."""
    accept = request.headers.get("accept", "")
    return "text/event-stream" in accept or request.headers.get("x-requested-with") == "fetch"


async def guarded(request: Request, handler: Handler, admin: bool) -> Response:
    session = session_of(request)
    refusal = await csrf_refusal(request, session)
    if refusal is not None:
        return refusal
    if session is None or not session.signed_in:
        return to_sign_in(request)
    if admin and not session.is_admin:
        return error_page(request, "Only administrators may open this page.", 403)
    try:
        return await handler(request, cloud_of(request, session))
    except ServiceError as error:
        return service_failure(request, session, error)


def service_failure(request: Request, session: Session, error: ServiceError) -> Response:
    """A failed call as the user sees it (see the module's docstring)."""
    if error.signed_out:
        request.app.state.dashboard.sessions.drop(session.id)
        return to_sign_in(request, f"Your sign-in has ended: {error}. Sign in again.")
    if _wants_data(request):
        return Response(str(error), status_code=HTTP_STATUS.get(error.code, 502))
    if request.method in UNSAFE:
        session.flash("error", str(error))
        return redirect(back(request, "/"))
    return error_page(request, str(error), HTTP_STATUS.get(error.code, 502))
