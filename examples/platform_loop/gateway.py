"""The platform's gateway reduced to its loop: an HTTP tool call in, its ToolResult out.

``POST /tools/{tool_name}`` with ``{"tenant_id": ..., "payload": {...}}`` (optional
``persona``, ``correlation_id``, and ``timeout`` in seconds, at most the gateway's own)
produces a ToolInvocation to ``tool.requests`` and answers with the ToolResult the tool
executor writes to ``tool.results`` for its ``task_id``: 200 with the result, 504 when none
came in time, 422 for a body that is not a tool call. ``GET /health`` answers 200 once
the gateway reads replies.

Run it against a registry holding the contracts and a broker with the topics::

    SCHEMA_REGISTRY_URL=http://127.0.0.1:8081 KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 \\
        python gateway.py --port 8080
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from somacontracts import ToolInvocation, ToolInvocationMetadata, ToolResult, load_settings
from somacontracts.catalog.environment import Settings
from somacontracts.errors import SerializationError
from somacontracts.kafka import (
    AsyncContractConsumer,
    AsyncContractProducer,
    ReplyTimeoutError,
    RequestReply,
)

DEFAULT_TIMEOUT = 30.0
"""Seconds a tool call waits for its result unless the gateway is told otherwise."""


class BadCallError(ValueError):
    """A request body that is not a tool call."""


def tool_call(tool_name: str, body: Any) -> tuple[ToolInvocation, float | None]:
    """The invocation a request body asks for, and the timeout it asks for."""
    if not isinstance(body, dict):
        raise BadCallError("the body must be a JSON object")
    tenant = body.get("tenant_id")
    if not isinstance(tenant, str) or not tenant:
        raise BadCallError("tenant_id: a non-empty string is required")
    timeout = body.get("timeout")
    if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
        raise BadCallError("timeout: a positive number of seconds")
    call = ToolInvocation(
        task_id=uuid.uuid4(),
        tenant_id=tenant,
        persona=str(body.get("persona", "agent0")),
        tool_name=tool_name,
        payload=body.get("payload", {}),
        metadata=ToolInvocationMetadata(
            requested_by="gateway",
            timestamp=dt.datetime.now(dt.UTC),
            correlation_id=body.get("correlation_id"),
        ),
    )
    return call, timeout


def result_body(result: ToolResult) -> dict[str, Any]:
    """A ToolResult as the gateway's JSON answer."""
    return {
        "task_id": str(result.task_id),
        "status": result.status.value,
        "output": result.output,
        "duration_ms": result.metrics.duration_ms,
        "correlation_id": result.metadata.correlation_id,
    }


def create_app(
    registry_url: str | None = None,
    *,
    settings: Settings | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Starlette:
    """The gateway application; the registry URL defaults to ``SCHEMA_REGISTRY_URL``."""
    resolved = settings if settings is not None else load_settings()
    registry = registry_url or os.environ.get("SCHEMA_REGISTRY_URL", "http://localhost:8081")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        producer = AsyncContractProducer(ToolInvocation, registry, settings=resolved)
        # Replies from the end: earlier ones answered requests that died with the last run.
        replies = AsyncContractConsumer(ToolResult, registry, settings=resolved, start="end")
        async with RequestReply(producer, replies, timeout=timeout) as calls:
            app.state.calls = calls
            yield

    async def call_tool(request: Request) -> JSONResponse:
        try:
            call, asked = tool_call(request.path_params["tool_name"], await request.json())
        except (BadCallError, ValueError) as err:
            return JSONResponse({"error": str(err)}, status_code=422)
        calls: RequestReply[ToolInvocation, ToolResult] = request.app.state.calls
        try:
            reply = await calls.request(call, timeout=min(asked or timeout, timeout))
        except SerializationError as err:
            return JSONResponse({"error": str(err)}, status_code=422)
        except ReplyTimeoutError as err:
            body = {"error": str(err), "task_id": str(call.task_id)}
            return JSONResponse(body, status_code=504)
        return JSONResponse(result_body(reply.value))

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/tools/{tool_name}", call_tool, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    """Serve the gateway on ``--host``/``--port``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    args = parser.parse_args(argv)
    app = create_app(timeout=args.timeout)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
