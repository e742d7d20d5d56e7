"""The fuzz run's parts: schemathesis over the hub's GraphQL schema, the hub's own checks, and a time budget.

    schema = load_schema(graphql_url)                          # introspection, once
    findings = fuzz_operations(schema, graphql_url, token, budget_seconds=12.0)

`fuzz_operations` sends, for every root field of the schema (each query and
mutation is one schemathesis operation), operations that schemathesis
generates from the schema (hypothesis-graphql: valid documents with odd
argument values and random selections), as one caller (a bearer token or
none), and answers the findings: each is an operation, the document sent and
what was wrong with the answer. Docs: docs/operations.md, "Fuzzing".
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.graphql import nodes

UNEXPECTED = "Unexpected error."
# Text that only an internal failure would put in an answer: a database driver's or a stack's.
LEAK_MARKERS = (
    "Traceback",
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "sqlite3.",
    "psycopg",
    "Background on this error",
    'File "',
)
# Answers that say the caller may not run the operation at all: after a few, the operation is
# left for the callers who may (the guard is one place, and tests/test_permissions.py covers it).
REFUSED_AT_THE_DOOR = {"FORBIDDEN", "UNAUTHENTICATED"}
DOOR_REFUSALS_BEFORE_MOVING_ON = 2
# Decimal accepts all of these; the hub must refuse the ones it cannot store, with a userError.
ODD_DECIMALS = (
    *("NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "1e999999", "-1e-999999", "0E-1000", "1e30"),
    *("12.345678901234567890", "-0", "0.005", "999999999999999999999999.99"),
)
MAX_EXAMPLES = 200
REQUEST_TIMEOUT_SECONDS = 30.0


def _register_scalars() -> None:
    """Strategies for the hub's custom scalars (schemathesis knows only the built-in ones)."""
    decimal_text = st.one_of(
        st.decimals(min_value=-(10**6), max_value=10**6, places=2).map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.sampled_from(ODD_DECIMALS),
    )
    schemathesis.graphql.scalar(
        "Decimal",
        st.one_of(
            decimal_text.map(nodes.String),
            st.integers().map(nodes.Int),
            st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        ),
    )
    schemathesis.graphql.scalar(
        "DateTime",
        st.one_of(
            st.datetimes().map(lambda moment: moment.isoformat()),
            st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
            st.sampled_from(["9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00", "2026-02-30", "now"]),
        ).map(nodes.String),
    )
    # Only `_entities` takes it, and schemathesis leaves `_entities` and `_service` out.
    schemathesis.graphql.scalar("_Any", st.just(nodes.Null))


_register_scalars()


def load_schema(graphql_url: str) -> Any:
    """The hub's schema, by introspection of the running hub."""
    return schemathesis.graphql.from_url(graphql_url, timeout=REQUEST_TIMEOUT_SECONDS)


@dataclass
class Finding:
    operation: str
    problem: str
    document: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.problem}\n{self.document}"


@dataclass
class Tally:
    """What one caller's run did, for the report and for the tests' own sanity checks."""

    requests: int = 0
    codes: dict[str, int] = field(default_factory=dict)
    operations_past_the_door: set[str] = field(default_factory=set)
    seconds: float = 0.0


class HubFinding(AssertionError):
    """An answer the hub must never give."""


def problems_in(status: int, text: str) -> list[str]:
    """What is wrong with one answer of the hub's GraphQL endpoint (an empty list: nothing)."""
    if status >= 500:
        return [f"HTTP {status}: {text[:500]}"]
    try:
        body = json.loads(text)
    except ValueError:
        return [f"HTTP {status}, not JSON: {text[:500]}"]
    if not isinstance(body, dict):
        return [f"HTTP {status}, not a JSON object: {text[:500]}"]
    found = []
    for error in body.get("errors") or []:
        message = str(error.get("message", ""))
        extensions = error.get("extensions") or {}
        if message == UNEXPECTED:
            found.append(f"{UNEXPECTED!r} at {error.get('path')}")
        elif any(marker in message for marker in LEAK_MARKERS):
            found.append(f"internal text in an error: {message[:500]}")
        elif "path" in error and "code" not in extensions and "non-nullable" not in message:
            # An error raised while resolving (it has a path) is the hub's own, with a stable code.
            found.append(f"an error without a code at {error['path']}: {message[:500]}")
    return found


def fuzz_operations(
    schema: Any,
    graphql_url: str,
    token: str | None,
    *,
    budget_seconds: float,
    max_examples: int = MAX_EXAMPLES,
) -> tuple[list[Finding], Tally]:
    """Fuzz every operation of `schema` as one caller within `budget_seconds`; the findings and a tally.

    Each operation is first probed with a few examples: one the caller is refused at the door
    (FORBIDDEN, UNAUTHENTICATED) is left there, its time going to the operations the caller may
    run (the guard is one place, tested on its own). The others get the time left divided by the
    operations left, in as many examples as the probe's pace says fit (at most `max_examples`).
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    session = requests.Session()
    operations = [result.ok() for result in schema.get_all_operations()]
    findings: list[Finding] = []
    tally = Tally()
    started = time.monotonic()
    deadline = started + budget_seconds
    for index, operation in enumerate(operations):
        fuzzer = _OperationFuzzer(operation, session, headers, tally)
        probe_started = time.monotonic()
        finding = fuzzer.run(DOOR_REFUSALS_BEFORE_MOVING_ON, deadline=float("inf"))
        if finding is None and fuzzer.past_the_door:
            pace = (time.monotonic() - probe_started) / DOOR_REFUSALS_BEFORE_MOVING_ON
            share = max(deadline - time.monotonic(), 0.0) / (len(operations) - index)
            examples = min(max_examples, int(share / pace))
            if examples > 0:
                finding = fuzzer.run(examples, deadline=time.monotonic() + share)
        if finding is not None:
            findings.append(finding)
    tally.seconds = time.monotonic() - started
    return findings, tally


class _OperationFuzzer:
    """Generated calls of one operation, as one caller; remembers whether any got past the guard."""

    def __init__(
        self, operation: Any, session: requests.Session, headers: dict[str, str], tally: Tally
    ) -> None:
        self.operation = operation
        self.session = session
        self.headers = headers
        self.tally = tally
        self.past_the_door = False
        self.strategy = operation.as_strategy(GenerationMode.POSITIVE)

    def run(self, examples: int, *, deadline: float) -> Finding | None:
        """Up to `examples` calls until `deadline`; the finding (shrunk by hypothesis), if any."""
        failing: list[tuple[Any, list[str]]] = []

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(case=self.strategy)
        def run(case: Any) -> None:
            # While a finding is being shrunk every replay runs, whatever the budget says.
            if not failing and time.monotonic() > deadline:
                return
            problems = self.call(case)
            if problems:
                failing.append((case, problems))
                raise HubFinding("; ".join(problems))

        try:
            run()
        except HubFinding:
            case, problems = failing[-1]  # the last failing example is the one hypothesis shrank to
            return Finding(self.operation.label, "; ".join(problems), _document(case))
        return None

    def call(self, case: Any) -> list[str]:
        """Send one generated operation; what is wrong with the answer."""
        response = case.call(session=self.session, headers=self.headers, timeout=REQUEST_TIMEOUT_SECONDS)
        self.tally.requests += 1
        codes = _codes(response.text)
        for code in codes:
            self.tally.codes[code] = self.tally.codes.get(code, 0) + 1
        if not codes or not set(codes) <= REFUSED_AT_THE_DOOR:
            self.past_the_door = True
            self.tally.operations_past_the_door.add(self.operation.label)
        problems = problems_in(response.status_code, response.text)
        if not problems:
            try:
                # schemathesis' response conformance check for GraphQL: a JSON object, and no null
                # where the schema promises a value.
                case.operation.validate_response(response, case=case)
            except AssertionError as failure:
                problems = [f"the answer breaks the schema: {failure}"]
        return problems


def _codes(text: str) -> list[str]:
    try:
        body = json.loads(text)
        return [str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []]
    except (ValueError, AttributeError):
        return []


def _document(case: Any) -> str:
    body = case.body if isinstance(case.body, dict) else {"query": str(case.body)}
    return str(body.get("query", "")) + (
        f"\nvariables: {json.dumps(body['variables'])}" if body.get("variables") else ""
    )
