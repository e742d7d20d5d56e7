"""OpenTelemetry: spans reach an OTLP/HTTP receiver on loopback when OTEL_EXPORTER_OTLP_ENDPOINT is set; nothing loads otherwise."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from hub_graphql.settings import Settings
from tests.harness import open_hub
from tests.quote_data import make_catalog, make_distributor, make_reseller, set_policy, sku

if TYPE_CHECKING:
    from tests.quote_servers import Faulty

pytest_plugins = ["tests.quote_servers"]


class Receiver(BaseHTTPRequestHandler):
    """Records every POST (path, body) and answers 200, as an OTLP/HTTP collector does."""

    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.received.append((self.path, body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


LIVE_ONE = """
query LiveOne($sku: String!) {
  product(sku: $sku) { liveQuotes(quantity: 3) { distributor { code } unitPrice { amount } } }
}
"""


async def test_spans_of_requests_sql_and_distributor_calls_reach_the_collector(
    settings: Settings, otlp_receiver: ThreadingHTTPServer, faulty: Faulty, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, port = otlp_receiver.server_address[:2]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://{host}:{port}")
    async with open_hub(settings) as hub:
        await make_catalog(hub, 1)
        await set_policy(hub)
        reseller_id = await make_reseller(hub, "R1", "APPROVED")
        token = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
        await make_distributor(hub, "TRACED", faulty.endpoint("ok", "TRACED"), resellers=(reseller_id,))
        body = await hub.post(LIVE_ONE, {"sku": sku(0)}, token=token)
    # leaving the lifespan shut the provider down, which sent the batched spans

    assert "errors" not in body
    paths = {path for path, _ in otlp_receiver.received}  # type: ignore[attr-defined]
    assert paths == {"/v1/traces"}
    spans = []
    for _, raw in otlp_receiver.received:  # type: ignore[attr-defined]
        request = ExportTraceServiceRequest()
        request.ParseFromString(raw)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans.extend((scope_spans.scope.name, span.name, span.kind) for span in scope_spans.spans)
    scopes = {scope for scope, _, _ in spans}
    names = {name for _, name, _ in spans}
    assert "POST /graphql" in names  # the server span of the request
    assert "hub.sqlalchemy" in scopes  # its SQL statements
    assert any(name == "POST" and "httpx" in scope for scope, name, _ in spans), spans  # the quote call


def test_without_the_variable_opentelemetry_is_not_loaded(tmp_path: object) -> None:
    program = (
        "import os, sys\n"
        "os.environ.pop('OTEL_EXPORTER_OTLP_ENDPOINT', None)\n"
        "from hub_graphql.app import create_app\n"
        "from hub_graphql.settings import Settings\n"
        "create_app(Settings(_env_file=None, database_url='sqlite+aiosqlite:///:memory:'))\n"
        "loaded = [m for m in sys.modules if m.startswith(('opentelemetry.sdk.trace', 'opentelemetry.instrumentation',"
        " 'opentelemetry.exporter', 'hub_graphql.tracing'))]\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
