"""Benchmark of the local schema registry through Confluent's client.

Registers N distinct record schemas (one subject each), then times, from one client:

* ``baseline``: ``GET /`` round trips, the cost of HTTP alone on this machine;
* ``get_schema`` by id over HTTP, the client's cache cleared before every call;
* ``get_schema`` by id from the client's cache (no HTTP: what a serializer sees);
* ``get_version`` by subject and version over HTTP, the cache cleared every call;
* ``GET /schemas/ids/{id}`` from the standard library's ``http.client`` on one
  kept-alive connection: the registry's own capacity, without the client's overhead.

Prints operations per second and each figure as a ratio of the baseline. The target
is at least 1,000 lookups per second over HTTP.

    python tools/bench_registry.py [--url URL] [--schemas 1000] [--lookups 10000]

Without ``--url`` it starts a :class:`~somacontracts.registry.LocalRegistry` in memory.
With one, it registers into that registry (subjects ``bench-<run>-<n>-value``).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from somacontracts.registry import LocalRegistry

TARGET = 1000.0


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
    return Schema(json.dumps(record), "AVRO")


def rate(label: str, count: int, operation: Callable[[int], object], baseline: float) -> float:
    """Run ``operation`` ``count`` times; print and return operations per second."""
    start = time.perf_counter()
    for n in range(count):
        operation(n)
    elapsed = time.perf_counter() - start
    per_second = count / elapsed
    ratio = f"{per_second / baseline:5.2f}x baseline" if baseline else "baseline"
    print(f"{label:<44} {count:>6} ops {elapsed:7.2f} s {per_second:9.0f} ops/s  {ratio}")
    return per_second


def rate_raw(url: str, ids: list[int], count: int, baseline: float) -> float:
    """``GET /schemas/ids/{id}`` on one kept-alive ``http.client`` connection."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
    headers = {"Authorization": client_auth(url)} if parts.username else {}

    def fetch(n: int) -> None:
        conn.request("GET", f"/schemas/ids/{ids[n % len(ids)]}", headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET /schemas/ids answered {response.status}")

    try:
        return rate("GET /schemas/ids/{id}, http.client (HTTP)", count, fetch, baseline)
    finally:
        conn.close()


def client_auth(url: str) -> str:
    """The basic auth header for credentials given in ``url``."""
    parts = urlsplit(url)
    token = base64.b64encode(f"{parts.username}:{parts.password or ''}".encode()).decode()
    return f"Basic {token}"


def run(url: str, schemas: int, lookups: int) -> bool:
    """Register and look up against ``url``; return whether the target was met."""
    run_id = uuid.uuid4().hex[:8]
    with SchemaRegistryClient({"url": url}) as client:
        subjects = [f"bench-{run_id}-{n}-value" for n in range(schemas)]
        ids: list[int] = []

        def register(n: int) -> None:
            ids.append(client.register_schema(subjects[n], schema(n)))

        def http_root(n: int) -> None:
            client._rest_client.get("")  # the client has no call for GET /

        def uncached_schema(n: int) -> None:
            client.clear_caches()
            client.get_schema(ids[n % schemas])

        def cached_schema(n: int) -> None:
            client.get_schema(ids[n % schemas])

        def uncached_version(n: int) -> None:
            client.clear_caches()
            client.get_version(subjects[n % schemas], 1)

        print(f"registry: {url}")
        rate(f"register {schemas} distinct schemas", schemas, register, 0.0)
        baseline = rate("baseline: GET / (HTTP round trip only)", lookups, http_root, 0.0)
        results = [
            rate("get_schema by id, uncached (HTTP)", lookups, uncached_schema, baseline),
            rate("get_version subject/1, uncached (HTTP)", lookups, uncached_version, baseline),
        ]
        rate("get_schema by id, client cache (no HTTP)", lookups, cached_schema, baseline)
        served = rate_raw(url, ids, lookups, baseline)
    met = served >= TARGET
    print(f"target >= {TARGET:.0f} lookups/s served (http.client): {'met' if met else 'NOT met'}")
    print(
        f"through SchemaRegistryClient: {min(results):.0f} lookups/s, "
        f"{min(results) / baseline:.2f}x its own GET / round trip"
    )
    return met


def main() -> int:
    """Parse the options and run the benchmark; exit code 1 if the target was missed."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--url", help="registry to measure (default: start a local one)")
    parser.add_argument("--schemas", type=int, default=1000, help="schemas to register")
    parser.add_argument("--lookups", type=int, default=10000, help="lookups of each kind")
    args = parser.parse_args()
    if args.url:
        return 0 if run(args.url, args.schemas, args.lookups) else 1
    with LocalRegistry() as registry:
        return 0 if run(registry.url, args.schemas, args.lookups) else 1


if __name__ == "__main__":
    raise SystemExit(main())
