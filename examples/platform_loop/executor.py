"""The platform's tool executor reduced to its loop: tool.requests in, tool.results out,
exactly once (ContractProcessor).

Tools: ``echo`` answers its payload; ``sleep`` waits ``payload["seconds"]`` and says so;
``fail`` raises every time, so the call goes to ``tool.requests.dlq`` after its attempts
(a poison request); any other tool is answered with status ``error``.

Run it against a registry holding the contracts and a broker with the topics::

    SCHEMA_REGISTRY_URL=http://127.0.0.1:8081 KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 \\
        python executor.py
"""

from __future__ import annotations

import os
import signal
import time
from types import FrameType
from typing import Any

from somacontracts import (
    ToolInvocation,
    ToolResult,
    ToolResultMetadata,
    ToolResultMetrics,
    ToolResultStatus,
    load_settings,
)
from somacontracts.kafka import ContractProcessor, Received


class ToolFailedError(RuntimeError):
    """A tool that could not run."""


def run_tool(call: ToolInvocation) -> tuple[ToolResultStatus, Any]:
    """What the tool does, and how it ended."""
    payload = call.payload if isinstance(call.payload, dict) else {}
    if call.tool_name == "echo":
        return ToolResultStatus.success, call.payload
    if call.tool_name == "sleep":
        seconds = payload.get("seconds", 0)
        if not isinstance(seconds, int | float):
            return ToolResultStatus.error, {"error": "sleep: seconds must be a number"}
        time.sleep(seconds)
        return ToolResultStatus.success, {"slept": seconds}
    if call.tool_name == "fail":
        raise ToolFailedError(f"tool fail refused task {call.task_id}")
    return ToolResultStatus.error, {"error": f"unknown tool {call.tool_name}"}


def execute(request: Received[ToolInvocation]) -> ToolResult:
    """The result of one tool call."""
    call = request.value
    started = time.monotonic()
    status, output = run_tool(call)
    return ToolResult(
        task_id=call.task_id,
        status=status,
        output=output,
        metrics=ToolResultMetrics(duration_ms=round((time.monotonic() - started) * 1000)),
        metadata=ToolResultMetadata(
            tenant_id=call.tenant_id, correlation_id=call.metadata.correlation_id
        ),
    )


def _stop(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Process tool calls until SIGTERM or Ctrl-C."""
    signal.signal(signal.SIGTERM, _stop)
    registry = os.environ.get("SCHEMA_REGISTRY_URL", "http://localhost:8081")
    with ContractProcessor(
        ToolInvocation,
        ToolResult,
        registry,
        settings=load_settings(),
        transactional_id=os.environ.get("TOOL_EXECUTOR_ID", "tool-executor-example"),
        max_attempts=2,
    ) as executor:
        try:
            executor.run(execute)
        except KeyboardInterrupt:
            return


if __name__ == "__main__":
    main()
