"""The storefront's and the dashboard's files as the hub serves them: one page for every path, a strict CSP, no inline code."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hub_graphql.settings import Settings
from hub_graphql.web_pages import WEB_DIR
from tests.harness import Hub, open_hub

PAGES = [WEB_DIR / "shop" / "index.html", WEB_DIR / "admin" / "index.html"]
SCRIPTS = sorted(WEB_DIR.rglob("*.js"))


@pytest.fixture
async def web_hub(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Hub]:
    # One backend: serving files is no table's business.
    shutil.copyfile(sqlite_template, tmp_path / "hub.db")
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    async with open_hub(settings) as running:
        yield running


@pytest.mark.parametrize(
    "path",
    [
        "/shop/oakhouse-store/",
        "/shop/oakhouse-store/product/PT-0001",
        "/shop/any/search?q=drill",
        "/shop/x/cart",
    ],
)
async def test_every_path_under_a_store_answers_the_storefronts_page(web_hub: Hub, path: str) -> None:
    response = await web_hub.client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == (WEB_DIR / "shop" / "index.html").read_text(encoding="utf-8")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/admin/", "/admin/orders/ORD-1"])
async def test_every_path_under_admin_answers_the_dashboards_page(web_hub: Hub, path: str) -> None:
    response = await web_hub.client.get(path)

    assert response.status_code == 200
    assert response.text == (WEB_DIR / "admin" / "index.html").read_text(encoding="utf-8")
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("path", "target"), [("/shop/oakhouse-store", "/shop/oakhouse-store/"), ("/admin", "/admin/")]
)
async def test_a_path_without_its_slash_is_sent_to_it(web_hub: Hub, path: str, target: str) -> None:
    response = await web_hub.client.get(path)

    assert response.status_code == 308
    assert response.headers["location"] == target


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("shop/app.js", "text/javascript; charset=utf-8"),
        ("shop/operations.js", "text/javascript; charset=utf-8"),
        ("common/graphql.js", "text/javascript; charset=utf-8"),
        ("shop/shop.css", "text/css; charset=utf-8"),
        ("admin/app.js", "text/javascript; charset=utf-8"),
        ("admin/admin.css", "text/css; charset=utf-8"),
    ],
)
async def test_each_file_is_served_with_its_media_type(web_hub: Hub, name: str, media_type: str) -> None:
    response = await web_hub.client.get(f"/web/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == (WEB_DIR / name).read_bytes()
    again = await web_hub.client.get(f"/web/{name}", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "name", ["../web_pages.py", "%2e%2e/%2e%2e/settings.py", "shop/nothing.js", "shop", "../examples.graphql"]
)
async def test_nothing_outside_the_pages_files_is_served(web_hub: Hub, name: str) -> None:
    response = await web_hub.client.get(f"/web/{name}")

    assert response.status_code == 404


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.parent.name)
def test_the_pages_load_only_the_hubs_own_scripts_and_have_no_inline_code(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)

    assert scripts and all(body.strip() == "" for _, body in scripts)
    assert all(re.search(r'src="/web/[a-z]+/app\.js"', attributes) for attributes, _ in scripts)
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"
    assert "style=" not in html  # the CSP allows no inline style either
    for address in re.findall(r'(?:src|href)="([^"]+)"', html):
        parts = urlsplit(address)
        assert parts.netloc == "" and parts.scheme in {"", "data"}, f"{address} leaves the hub"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(WEB_DIR)))
def test_no_script_turns_data_into_html_or_code(script: Path) -> None:
    # Every text from the hub goes in as text (dom.js's h and textContent); nothing is parsed as HTML or run.
    source = script.read_text(encoding="utf-8")

    for dangerous in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setAttribute("on',
    ):
        assert dangerous not in source, f"{script.name} uses {dangerous}"
