"""The platform loop example (``examples/platform_loop``): its gateway and tool executor run
as their own processes against the test broker and registry, and HTTP calls to the
gateway come back with their ToolResult, time out, or end in the dead-letter topic."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka.admin import AdminClient

from somacontracts.kafka import dlq_name
from somacontracts.models import ToolInvocation, ToolResult
from somacontracts.serde.registered import registered
from somacontracts.serde.registry_client import connect
from somacontracts.tooling.dev.broker import free_port
from tests.kafka.conftest import create_topics
from tests.kafka.test_messaging import _read_raw

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "platform_loop"
GATEWAY_TIMEOUT = 20.0


def _start(script: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(EXAMPLE / script), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


@pytest.fixture
def loop_env(bootstrap: str, registry: str, admin: AdminClient) -> dict[str, str]:
    """The services' environment: the test cluster, topics of their own, their subjects
    registered."""
    suffix = uuid.uuid4().hex[:8]
    requests, results = f"tool.requests.{suffix}", f"tool.results.{suffix}"
    create_topics(admin, requests, results)
    with connect(url=registry) as client:
        for model, topic in ((ToolInvocation, requests), (ToolResult, results)):
            registered(client, model, f"{topic}-value", register=True)
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SCHEMA_REGISTRY_URL": registry,
        "TOOL_REQUESTS_TOPIC": requests,
        "TOOL_RESULTS_TOPIC": results,
        "TOOL_EXECUTOR_GROUP": f"tool-executor-{suffix}",
        "TOOL_EXECUTOR_ID": f"tool-executor-{suffix}",
    }


@pytest.fixture
def gateway(loop_env: dict[str, str]) -> Iterator[str]:
    """The URL of the gateway, with the tool executor running behind it."""
    port = free_port()
    executor = _start("executor.py", loop_env)
    served = _start("gateway.py", loop_env, "--port", str(port), "--timeout", str(GATEWAY_TIMEOUT))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert served.poll() is None, _stop(served)
            assert executor.poll() is None, _stop(executor)
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.1)
        yield url
    finally:
        for process in (served, executor):
            _stop(process)


async def _call(client: httpx.AsyncClient, tool: str, **body: Any) -> httpx.Response:
    return await client.post(f"/tools/{tool}", json={"tenant_id": "tenant-a", **body})


def test_the_gateway_answers_tool_calls_with_their_results_over_kafka(
    gateway: str, loop_env: dict[str, str], bootstrap: str
) -> None:
    async def main() -> str:
        async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
            # The first call also waits for the executor to join its group.
            first = await _call(client, "echo", payload={"n": -1}, correlation_id="c-first")
            assert first.status_code == 200, first.text
            assert first.json()["output"] == {"n": -1}
            answers = await asyncio.gather(
                *(
                    _call(client, "echo", payload={"n": n}, correlation_id=f"c-{n}")
                    for n in range(20)
                )
            )
            assert [a.status_code for a in answers] == [200] * 20
            bodies = [a.json() for a in answers]
            assert [b["output"] for b in bodies] == [{"n": n} for n in range(20)]
            assert [b["correlation_id"] for b in bodies] == [f"c-{n}" for n in range(20)]
            assert all(b["status"] == "success" for b in bodies)
            assert len({b["task_id"] for b in bodies}) == 20

            unknown = await _call(client, "teleport")
            assert unknown.status_code == 200
            assert unknown.json()["status"] == "error"

            bad = await client.post("/tools/echo", json={"payload": {}})
            assert bad.status_code == 422
            assert "tenant_id" in bad.json()["error"]

            poison = await _call(client, "fail", timeout=3)
            assert poison.status_code == 504
            assert "no reply" in poison.json()["error"]

            slow = await _call(client, "sleep", payload={"seconds": 3}, timeout=1)
            assert slow.status_code == 504
            assert slow.json()["task_id"] in slow.json()["error"]

            # After a timeout, the gateway goes on answering.
            after = await _call(client, "echo", payload={"after": True})
            assert after.status_code == 200
            assert after.json()["output"] == {"after": True}
            return str(poison.json()["task_id"])

    poison_task = asyncio.run(main())
    requests = loop_env["TOOL_REQUESTS_TOPIC"]
    copies = _read_raw(bootstrap, dlq_name(requests), 1, timeout=20)
    assert len(copies) == 1
    headers = dict(copies[0].headers() or [])
    assert headers["dlq.attempts"] == b"2"
    assert headers["dlq.topic"] == requests.encode()
    assert b"ToolFailedError" in headers["dlq.error"]
    assert poison_task.encode() in headers["dlq.error"]
