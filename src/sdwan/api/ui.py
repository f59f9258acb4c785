"""The web dashboard at /ui/: the files `scripts/setup` builds from ui/ (Vite) into
``src/sdwan/ui_dist/``, served from the API's own origin with a strict Content
Security Policy. The files hold no data: everything the page shows comes from /v1/...
with the user's token, so they are served without one (the login page must load)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

DIST = Path(__file__).resolve().parent.parent / "ui_dist"
PREFIX = "/ui"

# No inline script or style, nothing from another origin, no framing, no plugins.
# 'self' for connect-src covers the REST API and the event stream (same origin).
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


class _Secured:
    """Adds the security headers, and the caching policy: Vite's hashed asset names
    never change content (cached for a year); index.html is revalidated every time."""

    def __init__(self, app: StaticFiles) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").removeprefix(scope.get("root_path", ""))
        immutable = path.startswith("/assets/")

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                extra = {
                    **HEADERS,
                    "Cache-Control": "public, max-age=31536000, immutable"
                    if immutable
                    else "no-cache",
                }
                headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, send_secured)


def install(app: FastAPI, dist: Path = DIST) -> None:
    """Serve the dashboard at /ui/ (or say how to build it when it is missing)."""

    @app.get("/", include_in_schema=False)
    def site_root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    @app.get(PREFIX, include_in_schema=False)
    def ui_root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    if not (dist / "index.html").is_file():

        @app.get(PREFIX + "/{path:path}", include_in_schema=False)
        def ui_missing(path: str) -> Response:
            return JSONResponse(
                {
                    "error": {
                        "status": 503,
                        "code": "dashboard_not_built",
                        "message": f"the dashboard is not built ({dist} has no index.html): "
                        "run scripts/setup",
                    }
                },
                status_code=503,
                headers=HEADERS,
            )

        return
    app.mount(PREFIX, _Secured(StaticFiles(directory=dist, html=True)), name="ui")
