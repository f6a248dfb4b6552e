"""The web pages: the public finder (/), the login page, the regulator dashboard, the
operator's workspace and the API documentation (/docs, Swagger UI). Pages are static HTML
and scripts that read the JSON API; the libraries they use (ECharts, Leaflet, Swagger UI)
are served from the package itself (static/vendor, filled by ./dev from npm): nothing
comes from a CDN, so every page works on a network without internet."""

from __future__ import annotations

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


# Scripts only from this origin, never inline (no <script> blocks, no onerror= attributes,
# no javascript: URLs): a hostile station name that slipped past escaping runs nothing.
# Styles may be inline (Leaflet and the pages set element styles); images may be data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response, pages and API alike."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((n, v) for n, v in SECURITY_HEADERS if n not in present),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def assets_present(names: tuple[str, ...] = VENDOR_FILES) -> bool:
    return all((STATIC / "vendor" / name).is_file() for name in names)


def mount_pages(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    router = APIRouter(include_in_schema=False)

    def page(name: str, needs: tuple[str, ...] = VENDOR_FILES) -> Response:
        if not assets_present(needs):
            return HTMLResponse(_MISSING, status_code=503)
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

    @router.get("/")
    async def finder() -> Response:
        return page("finder.html")

    @router.get("/login")
    async def login() -> Response:
        return page("login.html")

    @router.get("/dashboard")
    async def dashboard() -> Response:
        return page("dashboard.html")

    @router.get("/workspace")
    async def workspace() -> Response:
        """The operator's workspace (its stations, cases, scorecard, refused data)."""
        return page("workspace.html", ())

    @router.get("/docs")
    async def docs() -> Response:
        """Swagger UI (FastAPI's own /docs and /redoc load it from a CDN: turned off)."""
        return page("docs.html", DOCS_FILES)

    app.include_router(router)
