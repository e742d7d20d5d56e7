"""The in-process fan-out answered from a full offer cache: this tree against a git revision, interleaved.

Usage: .venv/bin/python scripts/bench_offer_cache.py [--base b1fec75] [--runs 600]

Five distributors x 100 SKUs, every offer cached in the process (no call, no
Redis): the part of `liveQuotes` on 100 products that the quote state costs.
The revision's `datasources/quotes/state.py` and `fanout.py` are read with
`git show` and loaded beside this tree's; the two run alternately in one
process. Prints JSON: CPU microseconds per fan-out (median), each side.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasources.quotes import fanout as this_fanout  # noqa: E402
from datasources.quotes import state as this_state  # noqa: E402
from datasources.quotes.clients import Endpoint  # noqa: E402
from datasources.quotes.contract import OfferedLine  # noqa: E402


def load_revision(revision: str, folder: Path) -> tuple[ModuleType, ModuleType]:
    """The revision's state and fanout modules, the fan-out importing the revision's state."""
    modules = []
    for name in ("state", "fanout"):
        text = subprocess.run(
            ["git", "show", f"{revision}:datasources/quotes/{name}.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        text = text.replace("from datasources.quotes.state import", "from base_state import")
        path = folder / f"base_{name}.py"
        path.write_text(text)
        spec = importlib.util.spec_from_file_location(f"base_{name}", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[f"base_{name}"] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        modules.append(module)
    return modules[0], modules[1]


def full_cache(fanout: Any, state_module: Any) -> tuple[Any, list, dict, Any]:
    state = state_module.QuoteState()
    keys = [fanout.OfferKey(d, f"BQ-{n:04d}", 5, "USD", "bench") for d in range(1, 6) for n in range(100)]
    valid_until = datetime.now(UTC) + timedelta(hours=1)
    for key in keys:
        cache_key = state_module.CacheKey(key.distributor_id, key.sku, 5, "USD", "bench")
        line = OfferedLine(key.sku, 5, 12345, True, 100, 3)
        state.cache.put(cache_key, state_module.CachedOffer(line, valid_until, time.monotonic() + 600))
    endpoints = {d: Endpoint(d, f"d{d}", "REST_JSON", "http://127.0.0.1:9/quote") for d in range(1, 6)}
    return state, keys, endpoints, fanout.FanOutSettings(deadline_s=1.5, cache_seconds=600)


async def measure(sides: dict[str, tuple[Any, Any]], runs: int) -> dict[str, float]:
    prepared = {name: (fanout, full_cache(fanout, state)) for name, (fanout, state) in sides.items()}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, (fanout, (state, keys, endpoints, settings)) in prepared.items():
            started = time.process_time()
            outcomes = await fanout.fan_out(keys, endpoints, http=None, state=state, settings=settings)
            times[name].append((time.process_time() - started) * 1e6)
            assert all(outcome.line is not None for outcome in outcomes)
    return {name: round(statistics.median(values), 1) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="b1fec75")
    parser.add_argument("--runs", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base_state, base_fanout = load_revision(args.base, Path(folder))
        sides = {args.base: (base_fanout, base_state), "this tree": (this_fanout, this_state)}
        result = asyncio.run(measure(sides, args.runs))
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps({"cpu_us_per_fan_out_of_500_cached_offers": result, "runs": args.runs, "loadavg": load}))


if __name__ == "__main__":
    main()
