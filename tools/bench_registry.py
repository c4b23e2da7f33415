"""Benchmark of a schema registry through Confluent's client, next to the client's own ceiling.

Registers N distinct record schemas (one subject each), then times, from one client
in this process:

* ``get_schema`` by id over HTTP, the client's cache cleared before every call;
* ``get_version`` by subject and version 1 over HTTP, the cache cleared every call;
* ``GET /schemas/ids/{id}`` from the standard library's ``http.client`` on one
  kept-alive connection: what the server answers without the client's overhead;
* ``get_schema`` by id from the client's cache (no HTTP: what a serializer sees).

The three HTTP measurements are also run against a minimal responder started for the
run: a raw-socket loopback server answering every request with one fixed, valid
lookup body, doing next to no work. No registry can answer the client faster, so its
figures are the client's ceiling on this machine, and each registry figure is printed
with its ratio to that ceiling. The measurements are interleaved in rounds, so that
load from other processes falls on all of them alike; the load average is printed
before and after. As wall-clock rates on a busy machine mostly measure the load, the
CPU time per operation is printed too, of this process (the client) and, where it
runs as a child process on Linux, of the server. The target is at least 1,000 lookups
per second through ``SchemaRegistryClient``, configured as
:func:`somacontracts.serde.registry_client.connect` configures it.

    python tools/bench_registry.py [--url URL] [--schemas 1000] [--lookups 10000]
                                   [--rounds 5] [--in-process] [--configs]
                                   [--baseline-tree DIR]

Without ``--url`` it starts a local registry in memory: a child process running
``somacontracts registry serve`` (a registry is a server of its own in use), or with
``--in-process`` a :class:`~somacontracts.tooling.registry.LocalRegistry` in a thread of this
process, sharing its interpreter with the client. The responder runs the same way.
With ``--url`` it registers into that registry (subjects ``bench-<run>-<n>-value``);
credentials in the URL or ``SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO`` are used as the
library uses them. ``--configs`` also measures the client against the responder with
other client settings (no ``timeout``, no retries, ``localhost``), to show whether
configuration moves the ceiling. ``--baseline-tree DIR`` also starts the registry of
another checkout of this repository (``DIR``, for example a ``git worktree`` of an older
commit) as a child process, registers the same schemas into it and measures it in the
same interleaved rounds, printing each figure's ratio to that baseline.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from somacontracts.serde.registry_client import connect, registry_config
from somacontracts.tooling.registry import LocalRegistry

TARGET = 1000.0
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
CpuClock = Callable[[], float]


class Server(NamedTuple):
    """Where a server listens, and its process's CPU seconds if it is measurable apart."""

    url: str
    cpu: CpuClock | None = None


def process_cpu(pid: int) -> CpuClock | None:
    """CPU seconds (user and system) used so far by process ``pid``; Linux only."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    return read


def schema(number: int) -> Schema:
    """A distinct record schema for registration ``number``."""
    record = {
        "type": "record",
        "name": f"Bench{number}",
        "namespace": "bench",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "amount", "type": "long", "default": 0},
            {"name": "note", "type": ["null", "string"], "default": None},
        ],
    }
    return Schema(json.dumps(record, separators=(",", ":")), "AVRO")


# --- the minimal responder -----------------------------------------------------------


def responder_answer() -> bytes:
    """The one response of the responder: valid for ``get_schema`` and ``get_version``."""
    body = json.dumps(
        {"subject": "bench-0-value", "version": 1, "id": 1, "schema": schema(0).schema_str}
    ).encode()
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


def respond_forever(listener: socket.socket) -> None:
    """Accept connections; answer every request on each with :func:`responder_answer`."""
    answer = responder_answer()

    def serve(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        with conn, contextlib.suppress(OSError):
            while chunk := conn.recv(65536):
                pending += chunk
                while (end := pending.find(b"\r\n\r\n")) >= 0:
                    length = _LENGTH.search(pending, 0, end + 2)
                    size = end + 4 + (int(length[1]) if length else 0)
                    if len(pending) < size:
                        break
                    pending = pending[size:]
                    conn.sendall(answer)

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


@contextlib.contextmanager
def responder(in_process: bool) -> Iterator[Server]:
    """The responder, serving in a thread of this process or in a child process."""
    if in_process:
        listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=respond_forever, args=(listener,), daemon=True).start()
        with listener:
            yield Server(f"http://127.0.0.1:{listener.getsockname()[1]}")
        return
    with child([sys.executable, __file__, "--responder"]) as (first_line, cpu):
        yield Server(f"http://127.0.0.1:{int(first_line)}", cpu)


def run_responder() -> int:
    """The child process of the responder: print the port, then serve until killed."""
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    respond_forever(listener)
    return 0


# --- registries ----------------------------------------------------------------------


@contextlib.contextmanager
def child(
    command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[tuple[str, CpuClock | None]]:
    """Run ``command``; give its first line of output and CPU clock; terminate it at the end."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=cwd)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{command} ended before it was ready")
        yield line.strip(), process_cpu(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def local_registry(in_process: bool, tree: Path | None = None) -> Iterator[Server]:
    """A local registry in memory, in this process or in a child process (of the
    checkout ``tree`` if given)."""
    if in_process and tree is None:
        with LocalRegistry() as registry:
            yield Server(registry.url)
        return
    command = [sys.executable, "-m", "somacontracts", "registry", "serve", "--port", "0"]
    env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree.resolve())}
    with child(command, env, tree) as (ready, cpu):
        found = re.search(r"https?://\S+", ready)
        if found is None:
            raise RuntimeError(f"the registry did not say where it listens: {ready!r}")
        yield Server(found[0], cpu)


# --- measuring -----------------------------------------------------------------------


@dataclass
class Case:
    """One operation timed over rounds."""

    label: str
    operation: Callable[[int], object]
    server_cpu: CpuClock | None = None
    count: int = 0
    elapsed: float = 0.0
    cpu: float = 0.0
    served: float = 0.0
    rounds: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def cpu_per_op(self) -> str:
        """Microseconds of CPU per operation: this process, and the server's if known."""
        if not self.count:
            return ""
        client = f"{1e6 * self.cpu / self.count:7.0f}"
        server = f"{1e6 * self.served / self.count:7.0f}" if self.server_cpu else "      -"
        return f"{client} {server}"

    def spread(self) -> str:
        return f"{min(self.rounds):.0f}-{max(self.rounds):.0f}" if self.rounds else ""


def measure(cases: list[Case], total: int, rounds: int) -> None:
    """Run each case ``total`` times in all, in ``rounds`` interleaved rounds."""
    for case in cases:  # connect, and fail early rather than after minutes
        case.operation(0)
    done = 0
    for number in range(rounds):
        size = (total - done) // (rounds - number)
        for case in cases:
            served = case.server_cpu() if case.server_cpu else 0.0
            cpu = time.process_time()
            start = time.perf_counter()
            for n in range(done, done + size):
                case.operation(n)
            elapsed = time.perf_counter() - start
            case.cpu += time.process_time() - cpu
            case.served += (case.server_cpu() - served) if case.server_cpu else 0.0
            case.count += size
            case.elapsed += elapsed
            case.rounds.append(size / elapsed)
        done += size


def http_get(
    url: str, paths: Callable[[int], str]
) -> tuple[Callable[[int], object], http.client.HTTPConnection]:
    """``GET`` of ``paths(n)`` on one kept-alive ``http.client`` connection, and the connection.

    The first of several URLs is used, with the credentials and CA the library's client
    would use.
    """
    config = registry_config(url=url)
    parts = urlsplit(url.split(",")[0].strip())
    host = parts.hostname or "127.0.0.1"
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=config.get("ssl.ca.location"))
        conn = http.client.HTTPSConnection(host, parts.port or 443, timeout=10, context=context)
    else:
        conn = http.client.HTTPConnection(host, parts.port or 80, timeout=10)
    prefix = parts.path.rstrip("/")
    headers = auth_headers(config)

    def fetch(n: int) -> None:
        conn.request("GET", prefix + paths(n), headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {paths(n)} answered {response.status}")

    return fetch, conn


def auth_headers(config: dict[str, Any]) -> dict[str, str]:
    """The authentication headers the client sends with ``config``."""
    if "bearer.auth.token" in config:
        return {
            "Authorization": f"Bearer {config['bearer.auth.token']}",
            "target-sr-cluster": config.get("bearer.auth.logical.cluster", ""),
        }
    user_info = config.get("basic.auth.user.info")
    parts = urlsplit(str(config["url"]).split(",")[0].strip())
    if user_info is None and parts.username:
        user_info = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    if user_info is None:
        return {}
    return {"Authorization": f"Basic {base64.b64encode(user_info.encode()).decode()}"}


def uncached(
    client: SchemaRegistryClient, call: Callable[[int], object]
) -> Callable[[int], object]:
    def operation(n: int) -> object:
        client.clear_caches()  # type: ignore[no-untyped-call]
        return call(n)

    return operation


def by_id_one(client: SchemaRegistryClient) -> Callable[[int], object]:
    """``get_schema(1)``, whatever ``n``: the responder has one schema."""
    return lambda n: client.get_schema(1)


def shown(url: str) -> str:
    """``url`` without the password it may hold."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def print_rates(label: str, registry: Case, ceiling: Case | None) -> None:
    ours = f"{registry.rate:7.0f} ({registry.spread():>9})"
    best = f"{ceiling.rate:7.0f} ({ceiling.spread():>9})" if ceiling else ""
    ratio = f"{registry.rate / ceiling.rate:6.2f}" if ceiling else ""
    print(f"{label:<46} {ours}  {best:>19}  {ratio}")


def print_cpu(label: str, registry: Case, ceiling: Case | None) -> None:
    best = ceiling.cpu_per_op() if ceiling else ""
    print(f"{label:<46} {registry.cpu_per_op():>15}    {best:>15}")


def register(client: SchemaRegistryClient, subjects: list[str], label: str) -> list[int]:
    """Register one schema under each of ``subjects``; print the rate; return the ids."""
    start = time.perf_counter()
    ids = [client.register_schema(subject, schema(n)) for n, subject in enumerate(subjects)]
    elapsed = time.perf_counter() - start
    print(
        f"register {len(subjects)} distinct schemas ({label}): {elapsed:.2f} s, "
        f"{len(subjects) / elapsed:.0f}/s"
    )
    return ids


def lookup_cases(
    server: Server, client: SchemaRegistryClient, subjects: list[str], ids: list[int]
) -> tuple[list[Case], http.client.HTTPConnection]:
    """The three HTTP lookups of ``server``: by id, by version, raw GET by id."""
    count = len(ids)

    def get_version(n: int) -> object:
        return client.get_version(subjects[n % count], 1)

    raw, connection = http_get(server.url, lambda n: f"/schemas/ids/{ids[n % count]}")
    cases = [
        Case(
            "get_schema", uncached(client, lambda n: client.get_schema(ids[n % count])), server.cpu
        ),
        Case("get_version", uncached(client, get_version), server.cpu),
        Case("http.client", raw, server.cpu),
    ]
    return cases, connection


def run(
    registry: Server,
    ceiling: Server,
    schemas: int,
    lookups: int,
    rounds: int,
    baseline: Server | None = None,
) -> bool:
    """Register and look up against ``registry``; return whether the target was met."""
    run_id = uuid.uuid4().hex[:8]
    subjects = [f"bench-{run_id}-{n}-value" for n in range(schemas)]
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(contextlib.closing(connect(url=registry.url)))
        bare = stack.enter_context(contextlib.closing(connect(url=ceiling.url)))
        print(f"load average before: {load()}")
        ids = register(client, subjects, "registry")
        if baseline is not None:
            old = stack.enter_context(contextlib.closing(connect(url=baseline.url)))
            old_ids = register(old, subjects, "baseline")
        # connections opened after registering, so that none idles out before it is used
        (by_id, version, served), raw_conn = lookup_cases(registry, client, subjects, ids)
        stack.enter_context(contextlib.closing(raw_conn))
        by_id_ceiling = Case("get_schema", uncached(bare, by_id_one(bare)), ceiling.cpu)
        version_ceiling = Case(
            "get_version",
            uncached(bare, lambda n: bare.get_version("bench-0-value", 1)),
            ceiling.cpu,
        )
        raw_ceiling, ceiling_conn = http_get(ceiling.url, lambda n: "/schemas/ids/1")
        stack.enter_context(contextlib.closing(ceiling_conn))
        served_ceiling = Case("http.client", raw_ceiling, ceiling.cpu)
        cases = [by_id, by_id_ceiling, version, version_ceiling, served, served_ceiling]
        before: list[Case] = []
        if baseline is not None:
            before, old_conn = lookup_cases(baseline, old, subjects, old_ids)
            stack.enter_context(contextlib.closing(old_conn))
            cases += before
        measure(cases, lookups, rounds)
        for n in range(schemas):  # the uncached cases cleared the cache; fill it
            client.get_schema(ids[n])
        cached = Case("cached", lambda n: client.get_schema(ids[n % schemas]), registry.cpu)
        measure([cached], lookups, rounds)
        print(f"load average after:  {load()}")

    rows = [
        ("get_schema by id, uncached (client, HTTP)", by_id, by_id_ceiling),
        ("get_version subject/1, uncached (client, HTTP)", version, version_ceiling),
        ("GET /schemas/ids/{id} (http.client, HTTP)", served, served_ceiling),
        ("get_schema by id, client cache (no HTTP)", cached, None),
    ]
    print(f"\n{lookups} operations of each kind in {rounds} interleaved rounds")
    print(f"{'per second':<46} {'registry (rounds)':>19}  {'ceiling (rounds)':>19}  ratio")
    for row in rows:
        print_rates(*row)
    print(f"\n{'CPU microseconds per operation':<46} {'registry run':>15}    {'ceiling run':>15}")
    print(f"{'':<46} {'this   server':>15}    {'this   server':>15}")
    for row in rows:
        print_cpu(*row)

    if before:
        print(f"\n{'per second':<46} {'registry (rounds)':>19}  {'baseline (rounds)':>19}  ratio")
        for row, old_case in zip(rows, before, strict=False):
            print_rates(row[0], row[1], old_case)
        print(
            f"\n{'CPU microseconds per operation':<46} {'registry run':>15}    {'baseline run':>15}"
        )
        for row, old_case in zip(rows, before, strict=False):
            print_cpu(row[0], row[1], old_case)
        kept = min(by_id.rate / before[0].rate, version.rate / before[1].rate)
        print(
            f"\nlookups through SchemaRegistryClient: {kept:.2f}x the baseline's (the lower kind)"
        )

    slowest = min(by_id.rate, version.rate)
    best = min(by_id_ceiling.rate, version_ceiling.rate)
    client_cpu = max(by_id_ceiling.cpu, version_ceiling.cpu) / max(by_id_ceiling.count, 1)
    met = slowest >= TARGET
    print(
        f"\nthrough SchemaRegistryClient: {slowest:.0f} lookups/s (the slower kind), "
        f"target >= {TARGET:.0f}/s {'met' if met else 'NOT met'}"
    )
    print(
        f"client ceiling on this machine: {best:.0f} lookups/s against the minimal "
        f"responder; the registry reaches {slowest / best:.2f} of it"
    )
    print(
        f"the client's own CPU per uncached lookup: {1e6 * client_cpu:.0f} us, so on one "
        f"core it cannot exceed {1 / client_cpu:.0f} lookups/s whatever the server"
    )
    if best < TARGET:
        print(
            f"the client itself stays below {TARGET:.0f}/s here: no registry can meet the "
            "target through it on this machine at this load"
        )
    return met


def compare_configs(ceiling_url: str, lookups: int, rounds: int) -> None:
    """The client's ceiling under other settings than the library's."""
    library = registry_config(url=ceiling_url, environ={})
    port = urlsplit(ceiling_url).port
    settings = {
        "as the library configures it": library,
        "no timeout (client default)": {"url": ceiling_url},
        "no retries (max.retries 0)": {**library, "max.retries": 0},
        "localhost rather than 127.0.0.1": {**library, "url": f"http://localhost:{port}"},
    }
    clients = {label: SchemaRegistryClient(conf) for label, conf in settings.items()}
    cases = [
        Case(label, uncached(sr_client, by_id_one(sr_client)))
        for label, sr_client in clients.items()
    ]
    measure(cases, lookups, rounds)
    print("\nclient ceiling by client configuration (get_schema uncached):")
    print(f"  {'':<44} {'per second (rounds)':>19}  {'CPU us':>7}")
    for case in cases:
        cpu = 1e6 * case.cpu / case.count
        print(f"  {case.label:<44} {case.rate:7.0f} ({case.spread():>9})  {cpu:7.0f}")
    for sr_client in clients.values():
        sr_client.close()


def main() -> int:
    """Parse the options and run the benchmark; exit code 1 if the target was missed."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--url", help="registry to measure (default: start a local one)")
    parser.add_argument("--schemas", type=int, default=1000, help="schemas to register")
    parser.add_argument("--lookups", type=int, default=10000, help="lookups of each kind")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the local registry and the responder in threads of this process",
    )
    parser.add_argument("--configs", action="store_true", help="also compare client configurations")
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="also measure the registry of this checkout (a child process), same run",
    )
    parser.add_argument("--responder", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.responder:
        return run_responder()
    # SIGTERM ends the run as Ctrl-C does, through the cleanup that stops the children.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    rounds = max(1, min(args.rounds, args.lookups))
    with contextlib.ExitStack() as stack:
        ceiling = stack.enter_context(responder(args.in_process))
        if args.url:
            registry, where = Server(args.url), "given"
        else:
            registry = stack.enter_context(local_registry(args.in_process))
            where = "local, in this process" if args.in_process else "local, child process"
        mode = "threads of this process" if args.in_process else "a child process"
        print(f"registry: {shown(registry.url)} ({where})")
        print(f"minimal responder: {ceiling.url} (in {mode})")
        baseline = None
        if args.baseline_tree:
            baseline = stack.enter_context(local_registry(False, args.baseline_tree))
            print(f"baseline: {baseline.url} (local, child process of {args.baseline_tree})")
        met = run(registry, ceiling, args.schemas, args.lookups, rounds, baseline)
        if args.configs:
            compare_configs(ceiling.url, args.lookups, rounds)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
