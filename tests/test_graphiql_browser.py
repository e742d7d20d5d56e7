"""GraphiQL in Debian's Chromium against a real hub on the sample data: it runs an example, offline."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from hub_graphql.graphiql import ASSETS, DEFAULT_WEB_MODULES_DIR, EXAMPLES_FILE
from tests.browser import Tab
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.browser

# The header the hub's pages are served under in production; set here too, so these tests hold
# whether or not the hub sends it: an inline script or eval() would be refused and show as an error.
CSP = "script-src 'self'"
RESULT_JS = "document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"


@pytest.fixture(autouse=True)
def graphiql_installed() -> None:
    if not all((DEFAULT_WEB_MODULES_DIR / a.path).is_file() for a in ASSETS.values() if a.installed):
        skip_or_fail("GraphiQL's npm packages are not installed: run ./scripts/setup.sh with Node.js 20+")


def serve_pages_under_csp(page: Page) -> None:
    def add_csp(route: Route) -> None:
        if route.request.resource_type != "document":
            route.fallback()
            return
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    page.route("**/*", add_csp)


def catalog_roots(base_url: str) -> dict[str, Any]:
    """What the hub answers the CatalogRoots example, asked directly."""
    examples = EXAMPLES_FILE.read_text(encoding="utf-8")
    response = httpx.post(
        f"{base_url}/graphql", json={"query": examples, "operationName": "CatalogRoots"}, timeout=10
    )
    return response.json()


def test_graphiql_runs_an_example_offline(sample_hub_url: str, tab: Tab) -> None:
    page = tab.page
    serve_pages_under_csp(page)

    # when: a person opens GraphiQL, puts the cursor in the CatalogRoots example and presses Ctrl+Enter
    page.goto(f"{sample_hub_url}/graphql")
    editor = page.locator(".graphiql-query-editor")
    expect(editor.locator(".CodeMirror-line").get_by_text("query CatalogRoots")).to_be_visible()
    editor.locator(".CodeMirror-line span", has_text="productGroups").first.click()
    page.keyboard.press("Control+Enter")

    # then: the result pane shows the hub's answer, every file came from the hub, nothing was refused
    expect(page.locator(".result-window")).to_contain_text('"data"')
    shown = json.loads(page.evaluate(RESULT_JS))
    expected = catalog_roots(sample_hub_url)
    assert "errors" not in expected
    assert expected["data"]["categories"], "the sample has categories"
    assert shown == expected
    assert tab.outside_requests == []
    assert tab.console_errors == []


def test_the_explorer_plugin_lists_the_schemas_root_fields(sample_hub_url: str, tab: Tab) -> None:
    page = tab.page
    serve_pages_under_csp(page)
    page.goto(f"{sample_hub_url}/graphql")

    page.get_by_role("button", name="Show GraphiQL Explorer").click()

    explorer = page.locator(".graphiql-explorer-root")
    expect(explorer).to_contain_text("categories")
    expect(explorer).to_contain_text("products")
    assert tab.outside_requests == []
    assert tab.console_errors == []
