"""The hub's own browser pages: the sample storefront at /shop/<slug>/ and the dashboard at /admin/, static files only.

Both are plain ES modules in `hub_graphql/static/web/` that talk to `/graphql`
from the browser, as a reseller's own front end would; nothing here reads the
database. Every path under `/shop/<slug>/` answers the storefront's index.html
(the app routes on the client and reads the slug from the URL), every path
under `/admin/` the dashboard's. The pages are served under a
Content-Security-Policy that refuses inline scripts and any script, style or
connection to another origin; the files under `/web/` carry their media type
and `nosniff`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

WEB_DIR = Path(__file__).parent / "static" / "web"

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
"""What `/web/` serves, by file extension; any other file there is a 404."""

# Images may come from the creatives' own hosts (https); scripts, styles and GraphQL only from the hub.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob: https:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _web_file(relative: str) -> Path | None:
    """The file under WEB_DIR that a URL path names, or None (outside the folder, missing, or not servable)."""
    root = WEB_DIR.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.suffix not in MEDIA_TYPES:
        return None
    return path


def _file_response(request: Request, path: Path, headers: dict[str, str]) -> Response:
    stat = path.stat()
    # Revalidated on every load, so a changed file is seen at once; an unchanged one answers 304.
    version = f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode()
    etag = f'"{hashlib.sha1(version, usedforsecurity=False).hexdigest()}"'
    headers = {"cache-control": "no-cache", "x-content-type-options": "nosniff", **headers, "etag": etag}
    if etag in (tag.strip() for tag in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=headers, stat_result=stat)


async def web_file(request: Request) -> Response:
    """`/web/<path>`: a file of the pages (a module, a style sheet, an image)."""
    path = _web_file(request.path_params["path"])
    if path is None:
        return PlainTextResponse("Not found", status_code=404)
    return _file_response(request, path, {})


async def storefront(request: Request) -> Response:
    """Any path under `/shop/<slug>/`: the storefront's page (the app finds the store, or says it is not open)."""
    return _file_response(request, WEB_DIR / "shop" / "index.html", PAGE_HEADERS)


async def dashboard(request: Request) -> Response:
    """Any path under `/admin/`: the administrator's dashboard."""
    return _file_response(request, WEB_DIR / "admin" / "index.html", PAGE_HEADERS)


async def to_trailing_slash(request: Request) -> Response:
    return RedirectResponse(f"{request.url.path}/", status_code=308)


def web_routes() -> list[Route]:
    """The routes of the storefront, the dashboard and their files."""
    return [
        Route("/web/{path:path}", web_file, methods=["GET", "HEAD"]),
        Route("/shop/{slug}", to_trailing_slash, methods=["GET", "HEAD"]),
        Route("/shop/{slug}/{rest:path}", storefront, methods=["GET", "HEAD"]),
        Route("/admin", to_trailing_slash, methods=["GET", "HEAD"]),
        Route("/admin/{rest:path}", dashboard, methods=["GET", "HEAD"]),
    ]
