"""The ``wikirec serve`` web app (Starlette): the page, its files, the JSON API, the maps.

Every route is GET (HEAD too): nothing is ever written. Query parameters are checked
here, the answers come from :class:`~wikirec.serve.service.ModelService`. Errors are
JSON, ``{"error": "one line", ...}``: 400 for a missing or bad parameter, 404 for an
unknown title (with ``suggestions``) or address, 405 for another method; an
unexpected failure is a 500 with no detail (the traceback goes to the server's log,
never to the client).

The page and its files carry a Content-Security-Policy that allows only this
server's own scripts and styles, so even a title that slipped into the DOM as markup
could not run. The maps are ``wikirec plot``'s self-contained pages (inline plotly.js):
they are served sandboxed, in an origin of their own, with no network at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from wikirec.serve.service import MAX_WHY, ApiError, ModelService, quoted

log = logging.getLogger("wikirec.serve")

STATIC = Path(__file__).resolve().parent / "static"  # package data
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# plotly.js needs inline script, inline styles and eval (its WebGL shaders); the
# sandbox gives the page an opaque origin, so it cannot read this server's API.
MAP_POLICY = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; worker-src blob:; "
    "connect-src 'none'; base-uri 'none'; form-action 'none'"
)
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def create_app(service: ModelService, allowed_hosts: Iterable[str] | None = None) -> ASGIApp:
    """The ASGI app over ``service``.

    ``allowed_hosts``: the host names a request's ``Host`` header may carry (a page
    elsewhere that re-points its own name at 127.0.0.1, DNS rebinding, gets a 400);
    None accepts any (a server bound to all interfaces is reached by many names).
    """

    async def index(request: Request) -> Response:
        return _page(STATIC / "index.html", "text/html; charset=utf-8")

    def info(request: Request) -> JSONResponse:
        return _json(service.info())

    def search(request: Request) -> JSONResponse:
        q = request.query_params
        return _json(service.search(_text(q, "q"), q.get("kind", "any"),
                                    _int(q, "limit", 10)))  # fmt: skip

    def book(request: Request) -> JSONResponse:
        return _json(service.book(_text(request.query_params, "title")))

    def page(request: Request) -> JSONResponse:
        return _json(service.page(_text(request.query_params, "title")))

    def similar(request: Request) -> JSONResponse:
        q = request.query_params
        return _json(service.similar(_text(q, "title"), _int(q, "k", 10)))

    def least(request: Request) -> JSONResponse:
        q = request.query_params
        return _json(service.similar(_text(q, "title"), _int(q, "k", 10), least=True))

    def about(request: Request) -> JSONResponse:
        q = request.query_params
        return _json(service.about(_text(q, "page"), _int(q, "k", 10)))

    def links(request: Request) -> JSONResponse:
        q = request.query_params
        return _json(service.links(_text(q, "title"), _int(q, "k", 10)))

    def liked(request: Request) -> JSONResponse:
        q = request.query_params
        return _json(service.liked(q.getlist("liked"), q.getlist("minus"), _int(q, "k", 10)))

    def why(request: Request) -> JSONResponse:
        q = request.query_params
        k = _int(q, "k", min(5, MAX_WHY))
        return _json(service.why(q.getlist("query"), q.getlist("book"), k))

    def book_map(request: Request) -> JSONResponse:
        return _json(service.book_map(request.query_params.get("method")))

    def map_file(request: Request) -> Response:
        path = service.map_path(request.path_params["name"])
        headers = {**COMMON_HEADERS, "Content-Security-Policy": MAP_POLICY}
        return FileResponse(path, media_type="text/html; charset=utf-8", headers=headers)

    api = [("info", info), ("search", search), ("book", book), ("page", page),
           ("similar", similar), ("least", least), ("about", about), ("links", links),
           ("liked", liked), ("why", why), ("map", book_map)]  # fmt: skip
    routes = [
        Route("/", index, methods=["GET"]),
        *(Route(f"/api/{name}", endpoint, methods=["GET"]) for name, endpoint in api),
        Route("/maps/{name}", map_file, methods=["GET"]),
        Mount("/static", app=_Static(directory=str(STATIC)), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    if allowed_hosts is None:
        return app
    return HostCheck(app, allowed_hosts)


# --------------------------------------------------------------------------- parameters


def _text(params, name: str) -> str:
    value = params.get(name)
    if value is None:
        raise ApiError(400, f"missing parameter {name!r}")
    return value


def _int(params, name: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"{name!r} must be a whole number, not {quoted(value, 40)}") from None


# --------------------------------------------------------------------------- responses


def _json(answer: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(answer, status_code=status, headers=COMMON_HEADERS)


def _page(path: Path, media_type: str) -> Response:
    headers = {**COMMON_HEADERS, "Content-Security-Policy": PAGE_POLICY}
    return Response(path.read_bytes(), media_type=media_type, headers=headers)


class _Static(StaticFiles):
    """The page's files, with the same headers as the page."""

    def file_response(self, *args, **kwargs) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update({**COMMON_HEADERS, "Content-Security-Policy": PAGE_POLICY})
        return response


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _json(exc.as_json(), exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: f"no such address: {quoted(request.url.path, 200)}",
                405: f"{request.method} is not allowed: this server only reads (GET)"}  # fmt: skip
    message = messages.get(exc.status_code, str(exc.detail))
    return JSONResponse({"error": message}, status_code=exc.status_code,
                        headers={**COMMON_HEADERS, **(exc.headers or {})})  # fmt: skip


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal error (see the server's log)"}, status_code=500,
                        headers=COMMON_HEADERS)  # fmt: skip


# --------------------------------------------------------------------------- hosts


class HostCheck:
    """Answer 400 to a request whose ``Host`` names none of ``allowed`` (ports ignored)."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = {name.lower().strip("[]") for name in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if host_name(host) not in self.allowed:
                response = JSONResponse({"error": f"unexpected Host header {host[:100]!r}"},
                                        status_code=400, headers=COMMON_HEADERS)  # fmt: skip
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def host_name(host: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:8000`` -> ``::1``, ``a:80`` -> ``a``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
