"""Real distributor quote services on loopback for the quote tests: the reference service and misbehaving ones.

`LoopbackServer` runs any ASGI app under uvicorn on 127.0.0.1 (a free port) in
a thread of its own, so the hub reaches it over real TCP through its shared
httpx client. `FaultyDistributors` is one app whose path picks a behaviour:
`/{behaviour}/{code}/quote` (REST_JSON) and `/{behaviour}/{code}/graphql`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hub_graphql.sample_distributor import PriceList, quote_result

BEHAVIOURS = ("ok", "late", "error", "malformed", "huge", "shape", "missing", "unasked", "currency", "auth")
LATE_SECONDS = 2.0
CREDENTIAL = ("X-Distributor-Key", "s3cret-distributor-key")


class LoopbackServer:
    def __init__(self, app: Any) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the loopback server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()


@dataclass
class Call:
    behaviour: str
    code: str
    transport: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FaultyDistributors:
    """Answers as the reference service would, except where the behaviour says otherwise."""

    price_list: PriceList
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls_to(self, code: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.code == code]

    def app(self) -> Starlette:
        async def rest(request: Request) -> Response:
            return await self._answer(request, "rest")

        async def graphql(request: Request) -> Response:
            return await self._answer(request, "graphql")

        return Starlette(
            routes=[
                Route("/{behaviour}/{code}/quote", rest, methods=["POST"]),
                Route("/{behaviour}/{code}/graphql", graphql, methods=["POST"]),
            ]
        )

    async def _answer(self, request: Request, transport: str) -> Response:
        behaviour, code = request.path_params["behaviour"], request.path_params["code"]
        raw = json.loads(await request.body())
        quote_input = raw["variables"]["request"] if transport == "graphql" else raw
        with self.lock:
            self.calls.append(Call(behaviour, code, transport, quote_input, dict(request.headers)))
        if behaviour == "late":
            await asyncio.sleep(LATE_SECONDS)
        if behaviour == "error":
            return PlainTextResponse("upstream exploded", status_code=503)
        if behaviour == "malformed":
            return Response('{"requestId": "x", "lines": [', media_type="application/json")
        if behaviour == "huge":
            return Response(b'{"padding": "' + b"x" * 6_000_000 + b'"}', media_type="application/json")
        if behaviour == "auth" and request.headers.get(CREDENTIAL[0]) != CREDENTIAL[1]:
            return PlainTextResponse("no key", status_code=401)
        result = quote_result(self.price_list, quote_input)
        if behaviour == "shape":
            result = {"offers": result["lines"]}
        elif behaviour == "missing":
            result["lines"] = result["lines"][1:]
        elif behaviour == "unasked":
            result["lines"].append({**result["lines"][0], "sku": "NOT-ASKED"})
        elif behaviour == "currency":
            result["currency"] = "GBP"
        return JSONResponse({"data": {"quote": result}} if transport == "graphql" else result)
