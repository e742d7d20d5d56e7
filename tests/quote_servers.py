"""Fixtures for the quote tests: the faulty distributors in-process, the reference service as a real process."""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.distributors import FaultyDistributors, LoopbackServer
from tests.quote_data import price_list

ROOT = Path(__file__).resolve().parents[1]
PRODUCTS = 400


@dataclass
class Faulty:
    server: LoopbackServer
    distributors: FaultyDistributors

    def endpoint(self, behaviour: str, code: str, transport: str = "REST_JSON") -> str:
        return f"{self.server.url}/{behaviour}/{code}/{'quote' if transport == 'REST_JSON' else 'graphql'}"


@pytest.fixture(scope="session")
def faulty_server() -> Iterator[Faulty]:
    distributors = FaultyDistributors(price_list(PRODUCTS))
    server = LoopbackServer(distributors.app()).start()
    try:
        yield Faulty(server, distributors)
    finally:
        server.stop()


@pytest.fixture
def faulty(faulty_server: Faulty) -> Faulty:
    """The faulty distributors, with the calls of earlier tests forgotten."""
    with faulty_server.distributors.lock:
        faulty_server.distributors.calls.clear()
    return faulty_server


@dataclass
class Reference:
    url: str

    def stats(self) -> dict:
        return httpx.get(f"{self.url}/stats").json()


def write_price_list(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "currency", "unit_price", "stock", "lead_time_days", "breaks"])
        for row in price_list(count).rows.values():
            breaks = ";".join(f"{m}:{p}" for m, p in row.breaks)
            writer.writerow([row.sku, row.currency, row.unit_price, row.stock, row.lead_time_days, breaks])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """`hub sample-distributor` as a real process on a loopback port."""
    folder = tmp_path_factory.mktemp("reference")
    prices = folder / "prices.csv"
    write_price_list(prices, PRODUCTS)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub_graphql.cli",
            "sample-distributor",
            "--code",
            "REF",
            "--port",
            str(port),
            "--price-list",
            str(prices),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"sample-distributor did not start: {process.stderr.read() if process.stderr else ''}"
                )
            time.sleep(0.1)
        yield Reference(url)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
