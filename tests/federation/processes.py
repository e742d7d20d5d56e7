"""Real processes on loopback for the federation and GraphQL-over-HTTP tests: started, awaited, always stopped."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import skip_or_fail

FEDERATION_DIR = Path(__file__).resolve().parent
ROOT = FEDERATION_DIR.parents[1]
NODE_BIN = FEDERATION_DIR / "node_modules" / ".bin"
START_TIMEOUT = 60.0


def node_or_skip() -> str:
    """The `node` executable, once the pinned npm packages are installed; else skip (fail in strict runs)."""
    node = shutil.which("node")
    if node is None:
        skip_or_fail("Node.js is not installed: the federation and GraphQL-over-HTTP audits run Node tools")
    if (
        not (NODE_BIN / "hive-gateway").exists()
        or not (FEDERATION_DIR / "node_modules" / "graphql-http").exists()
    ):
        skip_or_fail("the Node packages are not installed: run `npm ci` in tests/federation")
    return node  # type: ignore[return-value]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any HUB_ setting of the developer's, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(extra)
    return env


@contextmanager
def running(
    args: Sequence[str], *, ready_url: str, log: Path, cwd: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server, wait until `ready_url` answers below 500, and stop it (and its children) afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(args), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_until_ready(process, ready_url, log)
            yield process
        finally:
            _stop(process)


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args!r} exited with {process.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{process.args!r} did not answer {url} within {START_TIMEOUT}s:\n{_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # The process leads its own session (start_new_session), so its group holds only what it started.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # any child left behind
    except ProcessLookupError:
        pass


def _tail(log: Path, size: int = 4000) -> str:
    return log.read_bytes()[-size:].decode(errors="replace")


@contextmanager
def hub_server(database_url: str, secret_key: str, workdir: Path, **settings: str) -> Iterator[str]:
    """The hub under uvicorn on a free loopback port; yields its GraphQL URL. `settings`: more HUB_ variables."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "--factory", "hub_graphql.app:create_app"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    # Run from a scratch folder, so no developer's .env is read.
    env = clean_env(
        HUB_DATABASE_URL=database_url, HUB_SECRET_KEY=secret_key, HUB_ENV="development", **settings
    )
    with running(
        args,
        ready_url=f"http://127.0.0.1:{port}/health",
        log=workdir / f"hub-{port}.log",
        cwd=workdir,
        env=env,
    ):
        yield f"http://127.0.0.1:{port}/graphql"


@contextmanager
def inventory_server(workdir: Path) -> Iterator[str]:
    """The second subgraph (tests/federation/inventory_subgraph.py) under uvicorn; yields its GraphQL URL."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "tests.federation.inventory_subgraph:app"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    env = clean_env(PYTHONPATH=str(ROOT))
    with running(
        args,
        ready_url=f"http://127.0.0.1:{port}/graphql",
        log=workdir / "inventory.log",
        cwd=workdir,
        env=env,
    ):
        yield f"http://127.0.0.1:{port}/graphql"


@contextmanager
def gateway_server(supergraph: Path, workdir: Path) -> Iterator[str]:
    """Hive Gateway serving the supergraph on a free loopback port; yields its GraphQL URL.

    Started from tests/federation, so it reads gateway.config.mjs there (headers passed on to subgraphs).
    """
    port = free_port()
    args = [str(NODE_BIN / "hive-gateway"), "supergraph", str(supergraph)]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    env = clean_env(NODE_ENV="test")
    with running(
        args,
        ready_url=f"http://127.0.0.1:{port}/readiness",
        log=workdir / "gateway.log",
        cwd=FEDERATION_DIR,
        env=env,
    ):
        yield f"http://127.0.0.1:{port}/graphql"


def run_node(node: str, script: str, *args: str, timeout: float = 120.0) -> tuple[int, Any, str]:
    """Run one of the Node scripts here; answers (exit code, its JSON output, its stderr)."""
    result = subprocess.run(
        [node, str(FEDERATION_DIR / script), *args],
        cwd=FEDERATION_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(),
    )
    try:
        output = json.loads(result.stdout)
    except json.JSONDecodeError:
        output = result.stdout
    return result.returncode, output, result.stderr
