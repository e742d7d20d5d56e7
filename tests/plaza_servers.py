"""`hub sample-distributor` as real processes for the purchase-order tests: started, stopped and restarted on one port."""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.quote_data import price_list

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_prices(path: Path, count: int) -> Path:
    """The reference price list of tests/quote_data.py for SKUs Q-0000 to Q-<count-1>."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "currency", "unit_price", "stock", "lead_time_days", "breaks"])
        for row in price_list(count).rows.values():
            breaks = ";".join(f"{m}:{p}" for m, p in row.breaks)
            writer.writerow([row.sku, row.currency, row.unit_price, row.stock, row.lead_time_days, breaks])
    return path


class DistributorProcess:
    """One reference distributor process on a fixed loopback port; `stop()` plays an outage."""

    def __init__(self, folder: Path, code: str, *options: str, products: int = 10) -> None:
        self.code = code
        self.port = free_port()
        self.options = options
        self.prices = write_prices(folder / f"{code}.csv", products)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, transport: str) -> str:
        return f"{self.url}/graphql" if transport == "GRAPHQL_SUBGRAPH" else f"{self.url}/quote"

    def start(self) -> DistributorProcess:
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub_graphql.cli",
                "sample-distributor",
                "--code",
                self.code,
                "--port",
                str(self.port),
                "--price-list",
                str(self.prices),
                *self.options,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/health").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                error = self._process.stderr.read() if self._process.stderr else b""
                raise RuntimeError(f"sample-distributor did not start: {error.decode(errors='replace')}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            if self._process.stderr is not None:
                self._process.stderr.close()
            self._process = None

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/stats").json()

    def orders(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/orders").json()
