"""OpenTelemetry traces, sent by OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT: imported only when it is set.

Each app gets a TracerProvider of its own (never the global one, so apps in one
process stay apart) with the standard OTEL_* variables (endpoint, headers,
service name). Spans: every HTTP request (the ASGI instrumentation, outermost),
every SQL statement of the app's engine (the SQLAlchemy instrumentation) and
every outbound call of the app's HTTP client, the distributors' quote calls
among them (the httpx instrumentation).
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from starlette.middleware import Middleware

from hub_graphql.resources import Resources

SERVICE_NAME = "demand-chain-hub"


def tracer_provider() -> TracerProvider:
    """A provider exporting in batches to the OTLP/HTTP endpoint of the environment (…/v1/traces)."""
    service = os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def tracing_middleware(provider: TracerProvider) -> Middleware:
    """The ASGI instrumentation: a server span per request, named by method and path."""
    return Middleware(OpenTelemetryMiddleware, tracer_provider=provider, exclude_spans=["receive", "send"])


def trace_resources(resources: Resources, provider: TracerProvider) -> None:
    """Spans for the app's SQL statements and outbound HTTP calls."""
    tracer = provider.get_tracer("hub.sqlalchemy")
    meter: Any = NoOpMeterProvider().get_meter("hub.sqlalchemy")
    EngineTracer(
        tracer, resources.engine.sync_engine, meter.create_up_down_counter("db.client.connections.usage")
    )
    HTTPXClientInstrumentor.instrument_client(resources.http, tracer_provider=provider)
