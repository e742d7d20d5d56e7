"""GraphiQL's page and files as the hub serves them: no CDN, no inline script, a plain notice without Node."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub_graphql.graphiql import ASSETS, DEFAULT_WEB_MODULES_DIR, EXAMPLES_FILE
from hub_graphql.settings import Settings
from tests.conftest import skip_or_fail
from tests.harness import Hub, open_hub

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
NOT_INSTALLED = (
    "GraphiQL's files are not installed: install Node.js 20+ and run <code>./scripts/setup.sh</code>"
)


def fake_web_modules(folder: Path) -> Path:
    """A web modules folder holding every file the page loads, each with a marker of its name."""
    for name, asset in ASSETS.items():
        if asset.installed:
            path = folder / asset.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"/* {name} */", encoding="utf-8")
    return folder


def hub_settings(sqlite_template: Path, tmp_path: Path, web_modules_dir: Path) -> Settings:
    # One backend: GraphiQL's files are no table's business.
    shutil.copyfile(sqlite_template, tmp_path / "hub.db")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    return Settings(_env_file=None, database_url=database_url, web_modules_dir=web_modules_dir)


@pytest.fixture
async def installed_hub(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Hub]:
    modules = fake_web_modules(tmp_path / "node_modules")
    async with open_hub(hub_settings(sqlite_template, tmp_path, modules)) as running:
        yield running


@pytest.fixture
async def bare_hub(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Hub]:
    """A hub whose web modules folder is empty: Node was never there to install GraphiQL."""
    empty = tmp_path / "empty"
    empty.mkdir()
    async with open_hub(hub_settings(sqlite_template, tmp_path, empty)) as running:
        yield running


async def test_the_page_loads_only_the_hubs_own_files_and_has_no_inline_script(installed_hub: Hub) -> None:
    response = await installed_hub.client.get("/graphql", headers=BROWSER)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    # A Content-Security-Policy of script-src 'self' refuses inline scripts: every script is a file.
    assert [re.findall(r'src="([^"]+)"', attributes) for attributes, _ in scripts] == [
        ["graphiql/react.js"],
        ["graphiql/react-dom.js"],
        ["graphiql/graphiql.js"],
        ["graphiql/explorer.js"],
        ["graphiql/start.js"],
    ]
    assert all(body.strip() == "" for _, body in scripts)
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', html))  # no other host, no scheme
    assert "unpkg" not in html and "cdn" not in html.lower()


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("react.js", "text/javascript; charset=utf-8"),
        ("react-dom.js", "text/javascript; charset=utf-8"),
        ("graphiql.js", "text/javascript; charset=utf-8"),
        ("graphiql.css", "text/css; charset=utf-8"),
        ("explorer.js", "text/javascript; charset=utf-8"),
        ("explorer.css", "text/css; charset=utf-8"),
        ("start.js", "text/javascript; charset=utf-8"),
        ("hub.css", "text/css; charset=utf-8"),
        ("examples.graphql", "text/plain; charset=utf-8"),
    ],
)
async def test_each_file_is_served_with_its_content_type(
    installed_hub: Hub, name: str, media_type: str
) -> None:
    response = await installed_hub.client.get(f"/graphiql/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    if ASSETS[name].installed:
        assert response.text == f"/* {name} */"


async def test_the_examples_are_served_as_they_are_in_the_file(installed_hub: Hub) -> None:
    response = await installed_hub.client.get("/graphiql/examples.graphql")

    assert response.text == EXAMPLES_FILE.read_text(encoding="utf-8")
    assert "query CatalogRoots" in response.text


async def test_an_unchanged_file_answers_304_to_its_etag(installed_hub: Hub) -> None:
    first = await installed_hub.client.get("/graphiql/graphiql.js")
    again = await installed_hub.client.get(
        "/graphiql/graphiql.js", headers={"if-none-match": first.headers["etag"]}
    )

    assert first.headers["cache-control"] == "no-cache"
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "name",
    [
        "react/umd/react.production.min.js",
        "../settings.py",
        "%2e%2e/app.py",
        "graphiql/package.json",
        "nothing.js",
    ],
)
async def test_only_the_named_files_are_served(installed_hub: Hub, name: str) -> None:
    response = await installed_hub.client.get(f"/graphiql/{name}")

    assert response.status_code == 404


async def test_without_node_the_page_says_what_to_install(bare_hub: Hub) -> None:
    response = await bare_hub.client.get("/graphql", headers=BROWSER)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert NOT_INSTALLED in response.text
    assert "<script" not in response.text
    assert "http" not in response.text  # links to nothing outside
    assert (await bare_hub.client.get("/graphiql/graphiql.js")).status_code == 404
    assert (await bare_hub.client.get("/graphiql/hub.css")).status_code == 200  # the notice's own style


async def test_without_node_the_endpoint_still_answers_operations(bare_hub: Hub) -> None:
    assert await bare_hub.query("{ __typename }") == {"__typename": "Query"}


def test_the_installed_packages_hold_every_file_the_page_loads() -> None:
    # The paths in ASSETS are those of the versions in web/package-lock.json.
    if not (DEFAULT_WEB_MODULES_DIR / ".hub-installed").is_file():
        skip_or_fail("GraphiQL's npm packages are not installed: run ./scripts/setup.sh with Node.js 20+")
    missing = [
        a.path for a in ASSETS.values() if a.installed and not (DEFAULT_WEB_MODULES_DIR / a.path).is_file()
    ]

    assert missing == []
