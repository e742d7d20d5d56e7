"""Request ids and the hub's log lines: JSON lines (or text) carrying the id of the request they belong to.

The id comes from the request's `X-Request-ID` when it is a usable one
(printable ASCII, at most 128 characters), else the hub makes one; it goes
back in the response's `X-Request-ID` and, through a context variable, into
every log line written while the request runs (its tasks inherit the
variable). One access line per request ("request", logger `hub.access`)
gives the method, path, status and duration.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_REQUEST_ID_LENGTH = 128

request_id_var: ContextVar[str | None] = ContextVar("hub_request_id", default=None)

access_log = logging.getLogger("hub.access")


def usable_request_id(value: str | None) -> str | None:
    """The client's id when it is 1 to 128 printable ASCII characters (no spaces, no control characters)."""
    if not value or len(value) > MAX_REQUEST_ID_LENGTH:
        return None
    if all(33 <= ord(c) <= 126 for c in value):
        return value
    return None


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


_RECORD_FIELDS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def log_handler(log_format: Literal["json", "text"], stream: Any = None) -> logging.Handler:
    """A handler writing `log_format` lines to `stream` (stderr), with the request id on each."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def logging_config(log_format: Literal["json", "text"], level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for `hub serve` (given to uvicorn, so each worker process applies it).

    Every logger (the hub's, uvicorn's, SQLAlchemy's) writes `log_format` lines to
    stderr with the request id. uvicorn's own access line is dropped: the hub writes
    one with the request id (`hub.access`).
    """
    formatter: dict[str, Any] = (
        {"()": "hub_graphql.request_log.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "hub_graphql.request_log.RequestIdFilter"}},
        "formatters": {"hub": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "hub",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }


class RequestIds:
    """ASGI middleware: the request id in a context variable, in the response header, and an access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = usable_request_id(value.decode("latin-1"))
                break
        request_id = given or new_request_id()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id_var.reset(token)
