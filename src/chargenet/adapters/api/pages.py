"""The web pages: the public finder (/), the login page, the regulator dashboard, the
operator's workspace and the API documentation (/docs, Swagger UI). Pages are static HTML
and scripts that read the JSON API; the libraries they use (ECharts, Leaflet, Swagger UI)
are served from the package itself (static/vendor, filled by ./dev from npm): nothing
comes from a CDN, so every page works on a network without internet."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
VENDOR_FILES = ("echarts.min.js", "leaflet.js", "leaflet.css")
DOCS_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")

_MISSING = """<!doctype html><meta charset="utf-8"><title>chargenet</title>
<p>The dashboard's libraries are not installed in this package (static/vendor).
Run <code>./dev setup</code> (it fetches them from npm) and restart.</p>"""


_TILE_URL = re.compile(r"(https?)://((?:\{s\}\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)/\S*")


def tile_source(tile_url: str) -> str:
    """The one source a configured map tile URL adds to the pages' `img-src`: its scheme
    and host (a `{s}` subdomain as the wildcard `*.`, CSP Level 3 §2.3.1 host-source).
    Refuses what is not an http(s) tile template naming {z}, {x} and {y}."""
    found = _TILE_URL.fullmatch(tile_url)
    if found is None or not all(p in tile_url for p in ("{z}", "{x}", "{y}")):
        raise ValueError(f"map tile URL {tile_url!r}: expected http(s)://host/…{{z}}…{{x}}…{{y}}…")
    scheme, host = found.groups()
    return f"{scheme}://{host.replace('{s}.', '*.')}"


def content_security_policy(tile_url: str | None = None) -> str:
    """Scripts only from this origin, never inline (no <script> blocks, no onerror=
    attributes, no javascript: URLs): a hostile station name that slipped past escaping
    runs nothing. Styles may be inline (Leaflet and the pages set element styles); images
    may be data: URLs, and map tiles come from the configured tile host only."""
    images = "'self' data: blob:" + (f" {tile_source(tile_url)}" if tile_url else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {images}; connect-src 'self'; font-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response, pages and API alike."""

    def __init__(self, app: ASGIApp, tile_url: str | None = None) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy(tile_url).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((n, v) for n, v in self.headers if n not in present),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def assets_present(names: tuple[str, ...] = VENDOR_FILES) -> bool:
    return all((STATIC / "vendor" / name).is_file() for name in names)


router = APIRouter(include_in_schema=False)
"""The pages: nothing of the app's in them (they call the API), hence no binding."""


def mount_pages(app: FastAPI, tile_url: str | None = None) -> None:
    """The pages, their static files and the security headers (`tile_url`: the configured
    base map, whose host the Content-Security-Policy admits)."""
    content_security_policy(tile_url)  # a malformed tile URL stops the start, said why
    app.add_middleware(SecurityHeaders, tile_url=tile_url)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)


def _page(name: str, needs: tuple[str, ...] = VENDOR_FILES) -> Response:
    if not assets_present(needs):
        return HTMLResponse(_MISSING, status_code=503)
    return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})


@router.get("/")
async def finder() -> Response:
    return _page("finder.html")


@router.get("/login")
async def login() -> Response:
    return _page("login.html")


@router.get("/dashboard")
async def dashboard() -> Response:
    return _page("dashboard.html")


@router.get("/workspace")
async def workspace() -> Response:
    """The operator's workspace (its stations, cases, scorecard, refused data)."""
    return _page("workspace.html", ())


@router.get("/docs")
async def docs() -> Response:
    """Swagger UI (FastAPI's own /docs and /redoc load it from a CDN: turned off)."""
    return _page("docs.html", DOCS_FILES)
