"""scripts/bench_peer.py's parts that do not depend on the machine's speed: reading wrk's output, and the
hub's side of its pages on the sample hub (PostGraphile needs the npm registry and Node 22: not in CI)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_peer", ROOT / "scripts" / "bench_peer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_peer"] = module
    spec.loader.exec_module(module)
    return module


bench = load_bench()

# Recorded on this kind of machine (2 cores, load average 16): the hub's store page, then PostGraphile's
# single product with three requests past wrk's default 2 s timeout. WRK_FAST is one edited by hand to
# hold a figure in microseconds and non-2xx answers.
WRK_HUB = """\
Running 5s test @ http://127.0.0.1:58613/graphql
  2 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.25s   623.34ms   3.87s    81.82%
    Req/Sec     2.75      3.96     9.00     75.00%
  Latency Distribution
     50%    3.24s 
     75%    3.73s 
     90%    3.85s 
     99%    3.87s 
  11 requests in 5.10s, 154.19KB read
Requests/sec:      2.16
Transfer/sec:     30.26KB
"""
WRK_PEER = """\
Running 5s test @ http://127.0.0.1:5691/graphql
  2 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   494.80ms  355.36ms   1.81s    86.27%
    Req/Sec    13.25      7.58    30.00     78.33%
  Latency Distribution
     50%  373.03ms
     75%  501.33ms
     90%  900.94ms
     99%    1.78s 
  96 requests in 5.10s, 105.28KB read
  Socket errors: connect 0, read 0, write 0, timeout 3
Requests/sec:     18.83
Transfer/sec:     20.65KB
"""
WRK_FAST = """\
Running 10s test @ http://127.0.0.1:5678/graphql
  2 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.31ms    2.02ms  41.12ms   91.10%
    Req/Sec   683.50     61.70   808.00     72.00%
  Latency Distribution
     50%  850.00us
     75%    7.41ms
     90%    8.62ms
     99%   15.07ms
  13672 requests in 10.01s, 98.11MB read
  Non-2xx or 3xx responses: 4
Requests/sec:   1365.85
Transfer/sec:      9.80MB
"""


def test_wrk_output_gives_requests_per_second_percentiles_in_ms_and_failures() -> None:
    assert bench.parse_wrk(WRK_HUB) == {
        "requests_per_s": 2.16,
        "p50_ms": 3240.0,
        "p99_ms": 3870.0,
        "requests": 11,
        "failed": 0,
    }
    assert bench.parse_wrk(WRK_PEER) == {
        "requests_per_s": 18.83,
        "p50_ms": 373.03,
        "p99_ms": 1780.0,
        "requests": 96,
        "failed": 3,
    }
    assert bench.parse_wrk(WRK_FAST) == {
        "requests_per_s": 1365.85,
        "p50_ms": 0.85,
        "p99_ms": 15.07,
        "requests": 13672,
        "failed": 4,
    }


def test_output_without_latency_distribution_is_refused() -> None:
    without = "\n".join(line for line in WRK_FAST.splitlines() if "%" not in line or "Req/Sec" in line)
    with pytest.raises(ValueError, match="wrk --latency"):
        bench.parse_wrk(without)


def test_the_wrk_script_posts_the_body_unchanged() -> None:
    hub_body, _ = bench.bodies(bench.PAGES["store_page_50"], {"slug": "s", "currency": "USD", "sku": "X"})
    script = bench.lua_script(hub_body)
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["content-type"] = "application/json"' in script
    (embedded,) = re.findall(r"wrk\.body = \[(=*)\[(.*)\]\1\]", script, flags=re.S)
    assert json.loads(embedded[1]) == {
        "query": bench.HUB_STORE_PAGE,
        "variables": {"first": 50, "slug": "s"},
    }


def test_postgraphile_answers_count_only_products_with_a_price() -> None:
    def node(prices: list[dict[str, str]]) -> dict[str, object]:
        return {"node": {"sku": "A", "productPricesByProductId": {"nodes": prices}}}

    priced = [{"currency": "USD", "amountMinor": "100"}]
    assert bench.peer_products({"allProducts": {"edges": [node(priced), node([]), node(priced)]}}) == 2
    assert bench.peer_products({"productBySku": {"productPricesByProductId": {"nodes": priced}}}) == 1
    assert bench.peer_products({"productBySku": None}) == 0


@pytest.mark.slow
async def test_the_hub_answers_each_page_of_the_bench_on_the_sample_hub(sample_hub_url: str) -> None:
    # given the sample hub (the data the bench loads, here on SQLite) served by a real hub process
    graphql = f"{sample_hub_url}/graphql"
    facts = {"slug": bench.STORE, "currency": "USD", "sku": await bench.first_sku(graphql, bench.STORE)}
    for page in bench.PAGES.values():
        hub_body, _peer_body = bench.bodies(page, facts)
        # when the bench checks the page, then it holds as many products as the bench expects
        await bench.check_answer(graphql, hub_body, bench.hub_products, page.products)
        # and a page the hub cannot fill is refused, not measured
        with pytest.raises(RuntimeError, match="unexpected answer"):
            await bench.check_answer(graphql, hub_body, bench.hub_products, page.products + 1)
