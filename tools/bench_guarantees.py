"""Processing guarantees: the crash trial, bigger, and the throughput of each commit
policy and of the processor against today's defaults, measured in one run.

Crash trial (``tests/kafka/crash_trial.py``): N ToolInvocation messages (1 in 49 poison)
on three partitions, a worker killed with SIGKILL K times and restarted: after a
handler's side effect (before its commit), at a commit (for the processor: between
produce and commit, its outputs on the broker), and at random points (the parent kills
when the ledger has grown by a random count). For the consumer under each policy and the
processor under each: messages lost, handled twice against the bound (per crash: 1 under
``message``, the batch under ``batch``), poison messages dead-lettered twice, results
missing and visible twice to a ``read_committed`` reader (read through the log's
transaction markers, and as librdkafka returns them: on the local broker that view also
shows aborted transactions, which the broker does not report).

Throughput: messages per second of the consume phase (from the first message handled to
the last, input produced beforehand), medians of interleaved rounds, fresh topics and
groups each round, three partitions read by manual assignment, for each handler:

- ``trivial``: counts; no implementation can commit each message without paying a
  commit round trip per message, so against this handler the per-message policy only
  shows that round trip;
- ``io-1ms`` / ``io-5ms`` / ``io-20ms``: waits 1, 5 or 20 ms on I/O (``time.sleep``, the
  GIL released), as a handler calling an API does;
- ``shell``: runs ``/bin/true`` in a subprocess, as the tool executor's shell tool does.

Workers: ``today`` (the consumer as it was: batches of 500, each partition's offset stored
once per batch and committed by librdkafka in the background every 5 s), ``batch`` and
``message`` (the policies), ``alo-produce`` (today's consumer whose handler also produces
a ToolResult with ``ContractProducer.produce``: at-least-once consume-and-produce, a crash
repeating a batch and seconds), ``alo-message`` (the same under the message policy, each
result acknowledged before its input's commit: at-least-once with the default's bound),
and ``processor`` / ``processor-batch`` (``ContractProcessor`` producing the same result,
one transaction per message or per batch of 500). Targets: ``message`` costs at most 10%
against ``today``; the processor at least 0.5x at-least-once consume-and-produce: shown
against ``alo-message`` for one transaction a message and ``alo-produce`` for one a batch,
the pairs that repeat alike after a crash.

    python tools/bench_guarantees.py [--messages 2000] [--kills 4] [--rounds 3]
        [--bootstrap HOST:PORT] [--skip-trial] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the trial's engine lives with the tests

from somacontracts.catalog.environment import Settings, load_settings  # noqa: E402
from somacontracts.kafka import (  # noqa: E402
    CommitPolicy,
    ContractConsumer,
    ContractProcessor,
    ContractProducer,
    Received,
    TopicSpec,
    apply_plans,
    open_admin,
    plan_topics,
)
from somacontracts.models import ToolInvocation, ToolResult  # noqa: E402
from somacontracts.tooling.cli import main as cli_main  # noqa: E402
from somacontracts.tooling.dev.broker import LocalBroker  # noqa: E402
from somacontracts.tooling.dev.samples import sample_invocation  # noqa: E402
from somacontracts.tooling.registry import LocalRegistry  # noqa: E402
from tests.kafka.crash_trial import (  # noqa: E402
    Kill,
    Outcome,
    Trial,
    Worker,
    _result_for,
    run_trial,
)

PARTITIONS = 3
WORKERS = (
    "today",
    "batch",
    "message",
    "alo-produce",
    "alo-message",
    "processor",
    "processor-batch",
)
HANDLERS: dict[str, tuple[Callable[[], None], int]] = {
    "trivial": (lambda: None, 4_000),
    "io-1ms": (lambda: time.sleep(0.001), 1_500),
    "io-5ms": (lambda: time.sleep(0.005), 400),
    "io-20ms": (lambda: time.sleep(0.02), 150),
    "shell": (lambda: _shell(), 600),
}
"""Each handler's work, and the messages a round takes through it (divided by --scale)."""


def _shell() -> None:
    subprocess.run(["/bin/true"], check=True)


def _trial_kills(count: int, messages: int, batch: bool, rng: random.Random) -> tuple[Kill, ...]:
    span = max(2, messages // (count + 2))
    kills = [Kill("handled", rng.randint(span // 2, span)), Kill("commit", 2 if batch else span)]
    kills += [Kill("random", rng.randint(span // 2, span)) for _ in range(count - 2)]
    return tuple(kills)


def crash_trials(
    bootstrap: str, registry: str, messages: int, kills: int, batch_size: int, seed: int
) -> list[tuple[Outcome, int]]:
    """The trial of each worker; each outcome with its bound of repeats per crash."""
    rng = random.Random(seed)
    found = []
    with tempfile.TemporaryDirectory() as scratch:
        workers: tuple[Worker, ...] = ("message", "batch", "processor", "processor-batch")
        for worker in workers:
            batched = worker.endswith("batch")
            trial = Trial(
                worker,
                messages,
                49,
                _trial_kills(kills, messages, batched, rng),
                batch_size=batch_size,
            )
            outcome = run_trial(bootstrap, registry, trial, Path(scratch))
            found.append((outcome, batch_size if batched else 1))
    return found


def _print_trials(results: list[tuple[Outcome, int]]) -> None:
    print(
        f"{'worker':16}{'sent':>6}{'poison':>7}{'kills':>6}{'lost':>6}{'twice':>7}{'bound':>7}"
        f"{'dlq 2x':>8}{'res miss':>9}{'res 2x':>8}{'2x rdkafka':>11}{'aborted':>8}{'s':>7}"
    )
    for outcome, per_crash in results:
        processor = outcome.worker.startswith("processor")
        print(
            f"{outcome.worker:16}{outcome.sent:>6}{outcome.poison:>7}{outcome.kills:>6}"
            f"{outcome.lost:>6}{outcome.handled_twice:>7}{per_crash * outcome.kills:>7}"
            f"{outcome.dead_lettered_twice:>8}"
            + (
                f"{outcome.results_missing:>9}{outcome.results_twice:>8}"
                f"{outcome.results_twice_librdkafka:>11}{outcome.aborted_results:>8}"
                if processor
                else f"{'-':>9}{'-':>8}{'-':>11}{'-':>8}"
            )
            + f"{outcome.seconds:>7.1f}"
        )
        print(f"{'':16}kill points: {'; '.join(outcome.kill_points)}")
    print(
        "twice: messages whose handler's side effect ran twice; bound: per crash 1 (message)"
        " or the batch; dlq 2x: poison copied twice; res 2x: results visible twice to "
        "read_committed (log markers); 2x rdkafka: as librdkafka's read_committed returns "
        "them on this broker; aborted: results of aborted transactions in the log"
    )


def _topic(settings: Settings, name: str) -> str:
    admin = open_admin(settings)
    apply_plans(admin, plan_topics(admin, [TopicSpec(name, PARTITIONS)]))
    return name


def _fill(settings: Settings, registry: str, topic: str, count: int) -> None:
    with ContractProducer(
        ToolInvocation, registry, settings=settings, topic=topic, subject=ToolInvocation.SUBJECT
    ) as producer:
        for index in range(count):
            producer.produce(sample_invocation(tenant_id=f"tenant-{index % 50}"))


def _time(
    settings: Settings, registry: str, worker: str, work: Callable[[], None], count: int
) -> float:
    """Seconds from the first message handled to the last, for ``worker``."""
    suffix = uuid.uuid4().hex[:8]
    requests = _topic(settings, f"bench.g.requests.{suffix}")
    results = _topic(settings, f"bench.g.results.{suffix}")
    _fill(settings, registry, requests, count)
    common: dict[str, Any] = {
        "settings": settings,
        "topics": [requests],
        "partitions": [(requests, p) for p in range(PARTITIONS)],
        "group_id": f"bench-{suffix}",
        "subject": ToolInvocation.SUBJECT,
        "metrics": False,
    }
    first = 0.0
    done = 0

    def started() -> None:
        nonlocal first, done
        if not done:
            first = time.perf_counter()
        done += 1

    if worker.startswith("processor"):
        commit: CommitPolicy = "batch" if worker.endswith("batch") else "message"
        with ContractProcessor(
            ToolInvocation,
            ToolResult,
            registry,
            output_topic=results,
            output_subject=ToolResult.SUBJECT,
            commit=commit,
            **common,
        ) as processor:

            def transform(received: Received[ToolInvocation]) -> ToolResult:
                started()
                work()
                return _result_for(received.value)

            processor.run(transform, max_messages=count, idle_timeout=10)
            ended = time.perf_counter()
    else:
        commit = "message" if worker in ("message", "alo-message") else "batch"
        out = None
        if worker.startswith("alo"):
            out = ContractProducer(
                ToolResult,
                registry,
                settings=settings,
                topic=results,
                subject=ToolResult.SUBJECT,
                metrics=False,
            )
        with ContractConsumer(ToolInvocation, registry, commit=commit, **common) as consumer:
            if worker in ("today", "alo-produce"):
                # The consumer as it was: offsets stored per batch, committed in the background.
                store_only = consumer._commit_offsets
                consumer._commit_offsets = lambda offsets: (  # type: ignore[method-assign]
                    True if offsets is None else store_only(offsets)
                )

            def handle(received: Received[ToolInvocation]) -> None:
                started()
                work()
                if out is not None and worker == "alo-message":
                    out.send(_result_for(received.value)).result(30)
                elif out is not None:
                    out.produce(_result_for(received.value))

            consumer.run(handle, max_messages=count, idle_timeout=10)
            if out is not None:
                out.close()
            ended = time.perf_counter()
    if done != count:
        raise SystemExit(f"{worker} handled {done} of {count} messages")
    return ended - first


def throughput(bootstrap: str, registry: str, rounds: int, scale: float) -> None:
    """Print messages per second of every worker with every handler."""
    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    print(
        f"\nthroughput, msg/s of the consume phase, median of {rounds} rounds "
        f"(workers interleaved), {PARTITIONS} partitions, broker {bootstrap}"
    )
    print(f"{'handler':10}{'msgs':>7}" + "".join(f"{w:>17}" for w in WORKERS))
    for name, (work, base) in HANDLERS.items():
        count = max(50, int(base / scale))
        runs: dict[str, list[float]] = {w: [] for w in WORKERS}
        for number in range(rounds):
            turn = number % len(WORKERS)
            for worker in WORKERS[turn:] + WORKERS[:turn]:
                runs[worker].append(_time(settings, registry, worker, work, count))
        rate = {w: count / statistics.median(runs[w]) for w in WORKERS}
        cells = [f"{rate[w]:>9,.0f}" for w in WORKERS]
        ratios = [
            "",
            f" {rate['batch'] / rate['today']:.2f}x",
            f" {rate['message'] / rate['today']:.2f}x",
            "",
            "",
            f" {rate['processor'] / rate['alo-message']:.2f}x",
            f" {rate['processor-batch'] / rate['alo-produce']:.2f}x",
        ]
        row = "".join(f"{cell}{ratio:>8}" for cell, ratio in zip(cells, ratios, strict=True))
        print(f"{name:10}{count:>7}{row}")
    print(
        "ratios: batch and message against today; processor against alo-message, "
        "processor-batch against alo-produce. Targets: message >= 0.90x today; "
        "processor >= 0.50x at-least-once consume-and-produce"
    )


def main() -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="per crash trial")
    parser.add_argument("--kills", type=int, default=4, help="per crash trial (at least 3)")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="divides the messages a round")
    parser.add_argument("--seed", type=int, default=33)
    parser.add_argument("--bootstrap", metavar="HOST:PORT")
    parser.add_argument("--skip-trial", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        bootstrap = args.bootstrap
        if bootstrap is None:
            bootstrap = stack.enter_context(LocalBroker()).bootstrap_servers
        registry = stack.enter_context(LocalRegistry(host="127.0.0.1", port=0)).url
        with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(None):
            cli_main(["register", "--registry", registry, "--lock", str(Path(scratch) / "l")])
        if not args.skip_trial:
            print(
                f"crash trial: {args.messages} messages, {max(3, args.kills)} SIGKILLs each, "
                f"batches of {args.batch_size}, broker {bootstrap}"
            )
            _print_trials(
                crash_trials(
                    bootstrap,
                    registry,
                    args.messages,
                    max(3, args.kills),
                    args.batch_size,
                    args.seed,
                )
            )
        if not args.skip_throughput:
            throughput(bootstrap, registry, max(1, args.rounds), args.scale)


if __name__ == "__main__":
    main()
