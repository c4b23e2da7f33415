"""The asyncio clients against the synchronous ones, and the platform loop's round trip.

Throughput, in one run, on fresh topics each round (rounds alternate which side goes
first; medians):

- produce: ``AsyncContractProducer.queue()`` for every object then ``flush()`` (the fast
  path, no per-message future) against ``ContractProducer.produce()`` and ``flush()``;
  and ``AsyncContractProducer.send()`` for every object, then every future awaited,
  against ``ContractProducer.send()`` (a future a message on both sides);
- consume: ``AsyncContractConsumer.run()`` with an async handler against
  ``ContractConsumer.run()``, both under ``commit="batch"``, batches of 500.

Latency of the example (``examples/platform_loop``): HTTP request to the gateway ->
``tool.requests`` -> the tool executor (``ContractProcessor``, its own process) ->
``tool.results`` -> HTTP answer, at 1, 10 and 100 concurrent requests; p50 and p99. The
baseline is the same gateway written with the synchronous clients in threads
(``ContractProducer.send().result()`` in Starlette's thread pool, one thread reading the
replies with ``ContractConsumer.poll()``), served the same way. Starts a local registry
and a local Tansu broker.

    python tools/bench_async.py [--messages 20000] [--rounds 3] [--requests 300]
        [--skip-throughput] [--skip-latency]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.kafka import (
    AsyncContractConsumer,
    AsyncContractProducer,
    ContractConsumer,
    ContractProducer,
    Received,
    TopicSpec,
    apply_plans,
    dlq_name,
    open_admin,
    plan_topics,
)
from somacontracts.models import ToolInvocation, ToolResult
from somacontracts.tooling.cli import main as cli_main
from somacontracts.tooling.dev.broker import LocalBroker, free_port
from somacontracts.tooling.dev.samples import sample_invocation
from somacontracts.tooling.registry import LocalRegistry

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "platform_loop"
sys.path.insert(0, str(EXAMPLE))

from gateway import result_body, tool_call  # noqa: E402 - the example's own helpers

PARTITIONS = 3
CONCURRENCY = (1, 10, 100)
FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


def _topics(settings: Settings, *names: str) -> None:
    admin = open_admin(settings)
    specs = [TopicSpec(n, PARTITIONS) for name in names for n in (name, dlq_name(name))]
    apply_plans(admin, plan_topics(admin, specs))


def _consumer_options(settings: Settings, topic: str) -> dict[str, Any]:
    return {
        "settings": settings,
        "subject": ToolInvocation.SUBJECT,
        "topics": [topic],
        "partitions": [(topic, p) for p in range(PARTITIONS)],
        "group_id": f"bench-{uuid.uuid4().hex[:6]}",
        "commit": "batch",
        "config": FAST_GROUP,
    }


def _sync_round(
    settings: Settings, registry: str, topic: str, objects: Sequence[ToolInvocation], futures: bool
) -> tuple[float, float]:
    with ContractProducer(
        ToolInvocation, registry, settings=settings, topic=topic, subject=ToolInvocation.SUBJECT
    ) as out:
        out.send(objects[0]).result(30)  # the producer id and the schema id, not timed
        started = time.perf_counter()
        if futures:
            sent = [out.send(obj) for obj in objects[1:]]
            for future in sent:
                future.result(60)
        else:
            for obj in objects[1:]:
                out.produce(obj)
            out.flush(60)
        produced = time.perf_counter() - started
    with ContractConsumer(ToolInvocation, registry, **_consumer_options(settings, topic)) as source:
        source.run(lambda _r: None, max_messages=1, idle_timeout=30)
        started = time.perf_counter()
        source.run(lambda _r: None, max_messages=len(objects) - 1, idle_timeout=30)
        consumed = time.perf_counter() - started
    return produced, consumed


async def _async_round(
    settings: Settings, registry: str, topic: str, objects: Sequence[ToolInvocation], futures: bool
) -> tuple[float, float]:
    async with AsyncContractProducer(
        ToolInvocation, registry, settings=settings, topic=topic, subject=ToolInvocation.SUBJECT
    ) as out:
        await out.produce(objects[0])
        started = time.perf_counter()
        if futures:
            sent = [await out.send(obj) for obj in objects[1:]]
            await asyncio.gather(*sent)
        else:
            for obj in objects[1:]:
                await out.queue(obj)
            await out.flush(60)
        produced = time.perf_counter() - started

    async def nothing(_received: Received[ToolInvocation]) -> None:
        return None

    options = _consumer_options(settings, topic)
    async with AsyncContractConsumer(ToolInvocation, registry, **options) as source:
        await source.run(nothing, max_messages=1, idle_timeout=30)
        started = time.perf_counter()
        await source.run(nothing, max_messages=len(objects) - 1, idle_timeout=30)
        consumed = time.perf_counter() - started
    return produced, consumed


def throughput(settings: Settings, registry: str, count: int, rounds: int) -> None:
    """Messages per second of each side, and the asynchronous side's ratios."""
    objects = [sample_invocation(tenant_id=f"tenant-{i % 50}") for i in range(count + 1)]
    sides: dict[str, Callable[[str], tuple[float, float]]] = {
        "sync produce()": lambda t: _sync_round(settings, registry, t, objects, False),
        "sync send()": lambda t: _sync_round(settings, registry, t, objects, True),
        "async queue()": lambda t: asyncio.run(_async_round(settings, registry, t, objects, False)),
        "async send()": lambda t: asyncio.run(_async_round(settings, registry, t, objects, True)),
    }
    names = list(sides)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for number in range(rounds):
        topics = {name: f"bench.async.{uuid.uuid4().hex[:8]}" for name in names}
        _topics(settings, *topics.values())
        turn = number % len(names)
        for name in names[turn:] + names[:turn]:
            runs[name].append(sides[name](topics[name]))
    rates = {
        name: (
            count / statistics.median(r[0] for r in runs[name]),
            count / statistics.median(r[1] for r in runs[name]),
        )
        for name in names
    }
    print(f"throughput, {count} ToolInvocation messages, median of {rounds} rounds (msg/s):")
    for name in names:
        print(f"  {name:<15} produce {rates[name][0]:>9,.0f}  consume {rates[name][1]:>9,.0f}")
    # Both sides of each kind consume alike: all their rounds together, for a steadier figure.
    pooled = {
        side: count
        / statistics.median(r[1] for name in names if name.startswith(side) for r in runs[name])
        for side in ("sync", "async")
    }
    print(
        f"  consume, all {2 * rounds} rounds of each: async {pooled['async']:,.0f}"
        f" / sync {pooled['sync']:,.0f} = {pooled['async'] / pooled['sync']:.2f}x"
    )
    for mine, base in (("async queue()", "sync produce()"), ("async send()", "sync send()")):
        ours = rates[mine]
        print(
            f"  {mine} / {base:<15} produce {ours[0] / rates[base][0]:.2f}x"
            f"  consume {ours[1] / rates[base][1]:.2f}x"
        )


def threads_gateway(registry: str, timeout: float) -> Starlette:
    """The example's gateway written with the synchronous clients in threads."""
    settings = load_settings()
    waiting: dict[str, tuple[threading.Event, list[Received[ToolResult]]]] = {}
    stop = threading.Event()

    def read(replies: ContractConsumer[ToolResult]) -> None:
        while not stop.is_set():
            received = replies.poll(0.1)
            entry = None if received is None else waiting.get(str(received.value.task_id))
            if entry is not None and received is not None:
                entry[1].append(received)
                entry[0].set()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        producer = ContractProducer(ToolInvocation, registry, settings=settings)
        replies = ContractConsumer(ToolResult, registry, settings=settings, start="end")
        reader = threading.Thread(target=read, args=(replies,), daemon=True)
        reader.start()
        app.state.producer = producer
        try:
            yield
        finally:
            stop.set()
            reader.join()
            replies.close()
            producer.close()

    def blocking(producer: ContractProducer[ToolInvocation], call: ToolInvocation) -> Any:
        key = str(call.task_id)
        done, box = waiting[key] = (threading.Event(), [])
        try:
            producer.send(call).result(timeout)
            return box[0] if done.wait(timeout) else None
        finally:
            del waiting[key]

    async def call_tool(request: Request) -> JSONResponse:
        call, _asked = tool_call(request.path_params["tool_name"], await request.json())
        reply = await run_in_threadpool(blocking, request.app.state.producer, call)
        if reply is None:
            return JSONResponse({"error": "no reply"}, status_code=504)
        return JSONResponse(result_body(reply.value))

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [Route("/tools/{tool_name}", call_tool, methods=["POST"]), Route("/health", health)]
    return Starlette(routes=routes, lifespan=lifespan)


def _serve(script: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    served = subprocess.Popen([sys.executable, *script], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return served
        time.sleep(0.1)
    served.kill()
    raise SystemExit(f"the gateway on port {port} did not start")


async def _latencies(url: str, concurrency: int, total: int) -> list[float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        body = {"tenant_id": "tenant-a", "payload": {"n": 0}}
        for _ in range(5):  # warm: connections, the executor's group
            (await client.post("/tools/echo", json=body)).raise_for_status()
        seconds: list[float] = []

        async def one(n: int) -> None:
            started = time.perf_counter()
            answer = await client.post("/tools/echo", json={**body, "payload": {"n": n}})
            answer.raise_for_status()
            seconds.append(time.perf_counter() - started)

        pending = iter(range(total))

        async def worker() -> None:
            for n in pending:
                await one(n)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return seconds


def latency(env: dict[str, str], requests: int) -> None:
    """p50 and p99 of the example's round trip, async gateway against threads."""
    executor = subprocess.Popen([sys.executable, str(EXAMPLE / "executor.py")], env=env)
    try:
        print(f"round trip of the example, {requests} requests per level (ms):")
        for name, script in (
            ("async", [str(EXAMPLE / "gateway.py")]),
            ("threads", [__file__, "--serve-threads"]),
        ):
            port = free_port()
            served = _serve([*script, "--port", str(port)], env, port)
            try:
                for concurrency in CONCURRENCY:
                    seconds = asyncio.run(
                        _latencies(f"http://127.0.0.1:{port}", concurrency, requests)
                    )
                    cuts = statistics.quantiles(seconds, n=100)
                    print(
                        f"  {name:<8} {concurrency:>3} concurrent: p50 {cuts[49] * 1000:7.1f}"
                        f"  p99 {cuts[98] * 1000:7.1f}"
                    )
            finally:
                served.terminate()
                served.wait(30)
    finally:
        executor.terminate()
        executor.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--serve-threads", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_threads:
        app = threads_gateway(os.environ["SCHEMA_REGISTRY_URL"], 30.0)
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
        return
    with LocalBroker() as broker, LocalRegistry(host="127.0.0.1", port=0) as registry:
        with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(None):
            os.environ.setdefault("LOCAL_SECRET", "somacontracts-bench")  # a laptop's KMS
            register = ["register", "--registry", registry.url, "--lock", f"{scratch}/lock"]
            cli_main([*register, "--create-keks", "local-kms://somacontracts-bench"])
        settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers})
        _topics(settings, settings.topic_name("tool_requests"), settings.topic_name("tool_results"))
        if not args.skip_throughput:
            throughput(settings, registry.url, args.messages, args.rounds)
        if args.skip_latency:
            return
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "SCHEMA_REGISTRY_URL": registry.url,
            "TOOL_EXECUTOR_GROUP": f"bench-executor-{uuid.uuid4().hex[:6]}",
        }
        latency(env, args.requests)


if __name__ == "__main__":
    main()
