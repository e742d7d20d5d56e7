"""The hub's Prometheus metrics: one registry per app, what requests and calls record, what a scrape reads.

Counters and histograms move on the hot path (one `labels().inc()` or
`observe()` each, about a microsecond); the gauges (database pool, circuit
breakers, outbox) are read when `/metrics` is scraped, the outbox with one
query. Each app has a registry of its own (never prometheus_client's global
one), so several apps in one process (the tests) never meet. Every metric and
its labels is listed in docs/operations.md ("Metrics and logs").
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from datasources.outbox.models import OutboxMessage
from datasources.quotes.state import SHARED_KEY as QUOTES_KEY
from datasources.quotes.state import QuoteState
from hub_graphql.resources import Resources

log = logging.getLogger("hub.metrics")

SHARED_KEY = "metrics"
"""Where the app's HubMetrics sits in Resources.shared, for the parts that count (rate limits)."""

MAX_OPERATION_NAMES = 200
"""Distinct operation names labelled per process; later new names count as `other` (clients choose names)."""
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DISTRIBUTOR_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HubMetrics:
    """The metrics of one app, on a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "hub_graphql_requests",
            "GraphQL requests answered, by operation name and outcome (ok, an error code, unexpected).",
            ["operation", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "hub_graphql_request_duration_seconds",
            "Time from a GraphQL request's arrival to its answer, by operation name.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rate_limited = Counter(
            "hub_rate_limit_refusals",
            "Calls refused by a rate limit (RATE_LIMITED), by operation (Type.field).",
            ["operation"],
            registry=r,
        )
        self.distributor_calls = Counter(
            "hub_distributor_calls",
            "Quote calls to distributors, by distributor code and outcome (ok, failed, circuit_open).",
            ["distributor", "outcome"],
            registry=r,
        )
        self.distributor_latency = Histogram(
            "hub_distributor_call_duration_seconds",
            "Time of a quote call to a distributor (calls made, not circuit_open refusals).",
            ["distributor"],
            buckets=DISTRIBUTOR_BUCKETS,
            registry=r,
        )
        self.pool_checked_out = Gauge(
            "hub_db_pool_checked_out", "Database connections in use (checked out of the pool).", registry=r
        )
        self.pool_size = Gauge(
            "hub_db_pool_size",
            "Connections the pool keeps (HUB_DB_POOL_SIZE); it may open HUB_DB_MAX_OVERFLOW more.",
            registry=r,
        )
        self.pool_overflow = Gauge(
            "hub_db_pool_overflow",
            "Connections open beyond the pool's size (negative: not yet opened).",
            registry=r,
        )
        self.breaker_open = Gauge(
            "hub_distributor_circuit_open",
            "1 while a distributor's circuit breaker is open (the hub is not calling it), else 0.",
            ["distributor"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "hub_outbox_pending_messages", "Outbox messages waiting to be sent (status PENDING).", registry=r
        )
        self.outbox_oldest_age = Gauge(
            "hub_outbox_oldest_pending_age_seconds",
            "Age of the oldest PENDING outbox message (0 when none).",
            registry=r,
        )
        self.scrape_errors = Counter(
            "hub_metrics_scrape_errors",
            "Scrape-time readings that failed (the database for the outbox), by source.",
            ["source"],
            registry=r,
        )
        self._names: set[str] = set()
        self._distributor_codes: dict[int, str] = {}

    # On the hot path.

    def operation_label(self, name: object) -> str:
        """A bounded label for a client-chosen operation name: `anonymous`, the name, or `other`."""
        if not isinstance(name, str) or not name:
            return "anonymous"
        if name in self._names:
            return name
        if len(self._names) >= MAX_OPERATION_NAMES or not _OPERATION_NAME.fullmatch(name):
            return "other"
        self._names.add(name)
        return name

    def request_answered(self, operation: str, outcome: str, seconds: float) -> None:
        self.requests.labels(operation, outcome).inc()
        self.latency.labels(operation).observe(seconds)

    def rate_limit_refused(self, operation: str) -> None:
        self.rate_limited.labels(operation).inc()

    def distributor_called(
        self, distributor_id: int, code: str, elapsed_ms: float | None, outcome: str
    ) -> None:
        self._distributor_codes[distributor_id] = code
        self.distributor_calls.labels(code, outcome).inc()
        if elapsed_ms is not None:
            self.distributor_latency.labels(code).observe(elapsed_ms / 1000)

    # At scrape time.

    async def read_gauges(self, resources: Resources, quotes: QuoteState | None) -> None:
        """Set the gauges from the pool, the circuit breakers and the outbox (one query)."""
        pool = resources.engine.pool
        # QueuePool (PostgreSQL, a SQLite file) knows its size and overflow; SQLite's in-memory
        # StaticPool holds one connection and knows neither, so only what it has is shown.
        checked_out = getattr(pool, "checkedout", None)
        if checked_out is not None:
            self.pool_checked_out.set(checked_out())
        size = getattr(pool, "size", None)
        if callable(size):
            self.pool_size.set(size())
        overflow = getattr(pool, "overflow", None)
        if callable(overflow):
            self.pool_overflow.set(overflow())
        if quotes is not None:
            await self._read_breakers(quotes)
        try:
            async with resources.session_factory() as session:
                count, oldest = (
                    await session.execute(
                        select(func.count(), func.min(OutboxMessage.created_at)).where(
                            OutboxMessage.status == "PENDING"
                        )
                    )
                ).one()
        except Exception as error:  # a scrape must answer even when the database does not
            self.scrape_errors.labels("outbox").inc()
            log.warning("outbox depth unreadable: %s", type(error).__name__)
            return
        self.outbox_pending.set(count)
        if oldest is None:
            self.outbox_oldest_age.set(0)
        else:
            if oldest.tzinfo is None:  # SQLite hands back naive UTC
                oldest = oldest.replace(tzinfo=UTC)
            self.outbox_oldest_age.set(max(0.0, (datetime.now(UTC) - oldest).total_seconds()))

    async def _read_breakers(self, quotes: QuoteState) -> None:
        """The breakers' state, from the process or from Redis (where another process may have opened one)."""
        try:
            readings = await quotes.breakers.readings()
        except Exception as error:  # a scrape must answer even when Redis does not
            self.scrape_errors.labels("breakers").inc()
            log.warning("circuit breakers unreadable: %s", type(error).__name__)
            return
        for reading in readings:
            known = self._distributor_codes.get(reading.distributor_id)
            code = known or reading.code or str(reading.distributor_id)
            self.breaker_open.labels(code).set(1 if reading.is_open else 0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def may_read_metrics(request: Request, token: str | None) -> bool:
    """With HUB_METRICS_TOKEN: the bearer token, from anywhere. Without: loopback peers only."""
    if token:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def metrics_response(
    request: Request, metrics: HubMetrics, resources: Resources | None, token: str | None
) -> Response:
    """The `/metrics` answer: the exposition, or 403/401 for a caller who may not read it."""
    if not may_read_metrics(request, token):
        if token:
            return PlainTextResponse(
                "A bearer token is needed.", status_code=401, headers={"www-authenticate": "Bearer"}
            )
        return PlainTextResponse("Metrics are served to loopback only.", status_code=403)
    if resources is not None:
        quotes: Any = resources.shared.get(QUOTES_KEY)
        await metrics.read_gauges(resources, quotes)
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
