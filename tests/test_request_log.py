"""Request ids: taken from X-Request-ID when usable, else made; returned, and on every log line of the request."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

from hub_graphql.request_log import log_handler, usable_request_id
from tests.harness import Hub


async def test_the_request_id_round_trips_and_is_on_the_request_s_log_lines(hub: Hub) -> None:
    stream = io.StringIO()
    handler = log_handler("json", stream)
    access = logging.getLogger("hub.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        given = await hub.client.post(
            "/graphql", json={"query": "{ categories { code } }"}, headers={"X-Request-ID": "shop-7f3a.1"}
        )
        made = await hub.client.post("/graphql", json={"query": "{ categories { code } }"})
        too_long = await hub.client.get("/health", headers={"X-Request-ID": "x" * 129})
    finally:
        access.removeHandler(handler)
        access.setLevel(level)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert given.headers["x-request-id"] == "shop-7f3a.1"
    assert len(made.headers["x-request-id"]) == 32
    assert too_long.headers["x-request-id"] != "x" * 129
    ids = [line.get("request_id") for line in lines]
    assert ids == ["shop-7f3a.1", made.headers["x-request-id"], too_long.headers["x-request-id"]]
    assert lines[0]["logger"] == "hub.access" and lines[0]["path"] == "/graphql" and lines[0]["status"] == 200


def test_only_printable_ids_of_at_most_128_characters_are_taken() -> None:
    assert usable_request_id("a" * 128) == "a" * 128
    for bad in ("", "a" * 129, "has space", "tab\there", "new\nline", "é"):
        assert usable_request_id(bad) is None


def test_hub_serve_s_logging_config_writes_json_lines_or_text() -> None:
    program = (
        "import logging, logging.config\n"
        "from hub_graphql.request_log import logging_config, request_id_var\n"
        "logging.config.dictConfig(logging_config(sys.argv[1]))\n"
        "request_id_var.set('rid-1')\n"
        "logging.getLogger('hub.test').warning('hello %s', 'there')\n"
    )
    json_run = subprocess.run(
        [sys.executable, "-c", "import sys\n" + program, "json"], capture_output=True, text=True, check=True
    )
    text_run = subprocess.run(
        [sys.executable, "-c", "import sys\n" + program, "text"], capture_output=True, text=True, check=True
    )
    line = json.loads(json_run.stderr.strip())
    assert line["message"] == "hello there" and line["request_id"] == "rid-1" and line["level"] == "WARNING"
    assert "[rid-1] hello there" in text_run.stderr
