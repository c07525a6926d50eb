"""Descope cloud's edge, imitated in front of the real broker (the cloud cannot run here).

It forwards every call to the broker unchanged, except that, like the cloud, it knows no
``/v1/x/`` extension, nor the paths put in ``gateway.hidden`` (404 ``E011006``), and it answers 429 ``E130429`` with ``Retry-After`` to
the next ``n`` calls of a path when told to (``gateway.throttle(path, n, retry_after)``).
Every request it forwards is recorded (``gateway.recorded``): method, path, query, headers and
body, for contract tests that compare two clients' requests for the same operation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import LiveBroker, ThreadedServer


@dataclass(frozen=True)
class Recorded:
    """One request as it arrived at the gateway."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    body: bytes


@dataclass
class Gateway:
    """A running gateway; ``url`` is what the dashboard is pointed at."""

    url: str
    server: ThreadedServer
    client: httpx.Client
    throttled: dict[str, tuple[int, int]] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    recorded: list[Recorded] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def throttle(self, path: str, times: int, retry_after: int) -> None:
        """Answer 429 to the next ``times`` calls of ``path``."""
        with self.lock:
            self.throttled[path] = (times, retry_after)

    def stop(self) -> None:
        """Stop serving and close the upstream client."""
        self.server.stop()
        self.client.close()


def start_gateway(live: LiveBroker) -> Gateway:
    """Start a gateway in front of ``live`` on a free loopback port."""
    client = httpx.Client(base_url=live.url, timeout=10)
    gateway: Gateway

    async def forward(request: Request) -> Response:
        path = request.url.path
        with gateway.lock:
            gateway.seen[path] = gateway.seen.get(path, 0) + 1
            times, retry_after = gateway.throttled.get(path, (0, 0))
            if times:
                gateway.throttled[path] = (times - 1, retry_after)
        if path.startswith("/v1/x/") or path in gateway.hidden:
            return JSONResponse(
                {"errorCode": "E011006", "errorDescription": "Endpoint not found"}, 404
            )
        if times:
            return JSONResponse(
                {"errorCode": "E130429", "errorDescription": "API rate limit exceeded."},
                429,
                headers={"Retry-After": str(retry_after)},
            )
        body = await request.body()
        with gateway.lock:
            gateway.recorded.append(
                Recorded(
                    request.method,
                    path,
                    tuple(request.query_params.multi_items()),
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                )
            )
        upstream = await run_in_threadpool(
            client.request,
            request.method,
            path,
            params=request.query_params,
            content=body,
            headers={
                k: v
                for k, v in request.headers.items()
                if k.lower() not in {"host", "content-length"}
            },
        )
        return Response(
            upstream.content,
            upstream.status_code,
            media_type=upstream.headers.get("content-type"),
        )

    app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE"])])
    server = ThreadedServer(app).start()
    gateway = Gateway(url=server.url, server=server, client=client)
    return gateway
