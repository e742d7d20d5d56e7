"""GraphiQL's page and files, served by the hub itself from the npm packages setup installed (never a CDN).

`scripts/setup.sh` runs `npm ci` in `web/` (when Node.js 20+ is here), which
installs GraphiQL, its explorer plugin and React into `web/node_modules`; the
hub serves their prebuilt UMD bundles from there under `/graphiql/`, beside
its own start-up script and the example operations. The page has no inline
script, so it runs under a Content-Security-Policy of `script-src 'self'`.
Without the installed files the page says what to install instead of hanging.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

STATIC_DIR = Path(__file__).parent / "static"
EXAMPLES_FILE = STATIC_DIR / "examples.graphql"
DEFAULT_WEB_MODULES_DIR = Path(__file__).resolve().parents[1] / "web" / "node_modules"
"""Where `npm ci` in the clone's `web/` puts the packages (HUB_WEB_MODULES_DIR changes it)."""

JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"


@dataclass(frozen=True)
class Asset:
    path: str
    """Under the web modules folder (a package's file) or, for the hub's own, under hub_graphql/static."""
    media_type: str
    installed: bool = True
    """True for a file `npm ci` installs, False for one that ships with the hub."""


# The URL names of the files the page loads, in web/package-lock.json's versions. React 18 is the
# last with UMD builds, and GraphiQL 4 the last that ships one (5 needs a bundler for Monaco).
ASSETS: dict[str, Asset] = {
    "react.js": Asset("react/umd/react.production.min.js", JAVASCRIPT),
    "react-dom.js": Asset("react-dom/umd/react-dom.production.min.js", JAVASCRIPT),
    "graphiql.js": Asset("graphiql/dist/index.umd.js", JAVASCRIPT),
    "graphiql.css": Asset("graphiql/dist/style.css", CSS),
    "explorer.js": Asset("@graphiql/plugin-explorer/dist/index.umd.js", JAVASCRIPT),
    "explorer.css": Asset("@graphiql/plugin-explorer/dist/style.css", CSS),
    "start.js": Asset("graphiql/start.js", JAVASCRIPT, installed=False),
    "hub.css": Asset("graphiql/hub.css", CSS, installed=False),
    "examples.graphql": Asset("examples.graphql", "text/plain; charset=utf-8", installed=False),
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demand chain hub · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="graphiql/graphiql.css">
<link rel="stylesheet" href="graphiql/explorer.css">
<link rel="stylesheet" href="graphiql/hub.css">
<script src="graphiql/react.js" defer></script>
<script src="graphiql/react-dom.js" defer></script>
<script src="graphiql/graphiql.js" defer></script>
<script src="graphiql/explorer.js" defer></script>
<script src="graphiql/start.js" defer></script>
</head>
<body>
<div id="graphiql" data-endpoint="graphql" data-examples="graphiql/examples.graphql">Loading GraphiQL…</div>
<noscript><p class="hub-notice">GraphiQL needs JavaScript.</p></noscript>
</body>
</html>
"""

NOT_INSTALLED_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demand chain hub · GraphiQL is not installed</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="graphiql/hub.css">
</head>
<body>
<main class="hub-notice">
<h1>GraphiQL is not installed</h1>
<p>GraphiQL's files are not installed: install Node.js 20+ and run <code>./scripts/setup.sh</code>.</p>
<p>The setup step installs them from the npm registry into <code>web/node_modules</code>
(or the folder <code>HUB_WEB_MODULES_DIR</code> names); the hub serves them itself.
The GraphQL endpoint works without them: POST operations to this URL.</p>
</main>
</body>
</html>
"""


class GraphiQLFiles:
    """The page and the files it loads, from one web modules folder."""

    def __init__(self, web_modules_dir: Path | None = None) -> None:
        self.web_modules_dir = web_modules_dir or DEFAULT_WEB_MODULES_DIR

    def file_of(self, asset: Asset) -> Path:
        return (self.web_modules_dir if asset.installed else STATIC_DIR) / asset.path

    @property
    def installed(self) -> bool:
        """Whether every file `npm ci` installs is there (checked per page, so a setup run shows at once)."""
        return all(self.file_of(a).is_file() for a in ASSETS.values() if a.installed)

    def page(self) -> HTMLResponse:
        # Both answer 200: the endpoint itself works, only the in-browser tool is missing.
        html = PAGE if self.installed else NOT_INSTALLED_PAGE
        return HTMLResponse(html, headers={"cache-control": "no-cache"})

    async def asset(self, request: Request) -> Response:
        asset = ASSETS.get(request.path_params["name"])
        path = self.file_of(asset) if asset else None
        if asset is None or path is None or not path.is_file():
            return PlainTextResponse("Not found", status_code=404)
        stat = path.stat()
        # Revalidated on every load (no-cache), so a new `npm ci` is seen at once; unchanged files answer 304.
        version = f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode()
        etag = f'"{hashlib.sha1(version, usedforsecurity=False).hexdigest()}"'
        headers = {"cache-control": "no-cache", "etag": etag, "x-content-type-options": "nosniff"}
        if etag in (tag.strip() for tag in request.headers.get("if-none-match", "").split(",")):
            return Response(status_code=304, headers=headers)
        return FileResponse(path, media_type=asset.media_type, headers=headers, stat_result=stat)

    def routes(self) -> list[Route]:
        return [Route("/graphiql/{name:path}", self.asset, methods=["GET", "HEAD"])]
