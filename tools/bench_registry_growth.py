"""Registration cost as subjects grow: registrations per second per block of schemas.

Starts the local registry as a child process on a SQLite file (``registry serve --db``)
and registers, over one kept-alive HTTP connection (``http.client``, no client library
in the way), a growing workload: every subject's next version adds an optional field
to its previous one, subjects taken in turn.

* Non-transitive, constant size: ``--schemas`` schemas (default 10,000) over
  ``--subjects`` subjects (default 20) at BACKWARD, FORWARD, FULL and NONE in turn;
  each version drops its oldest optional field and adds a new one, so every version is
  new but all are of one size (20 optional fields). The cost of one registration
  should not grow with the subject's history: the last block's rate is compared with
  the first's (target: at least 0.8x).
* Non-transitive, growing: the same, but each version keeps every field and adds one,
  so the schemas grow with the history (the 500th version of a subject has 500
  fields). Parsing, normalizing and checking a schema cost time in proportion to its
  size, which no registry can avoid; each block therefore also registers a few of its
  schemas into fresh subjects that hold only the version before (same size and level,
  one compatibility check, no history) and prints that rate beside: the share of a
  registration's cost that history adds is the gap between the two.
* Transitive run: ``--transitive`` schemas (default 1,000) over 4 subjects at
  BACKWARD_TRANSITIVE and FULL_TRANSITIVE. A registration must check the new schema
  against every earlier version, so its cost grows with the history as the check does;
  each block also times that check alone (the engine in this process, on the same
  schemas, parsed once), and the ratio of registration time to check time should stay
  flat.

With ``--baseline-tree DIR`` (a checkout of another commit, for example a ``git
worktree``), the same workloads run against that checkout's registry too, and the
figures are printed side by side.

    python tools/bench_registry_growth.py [--schemas 10000] [--subjects 20] [--block 1000]
        [--transitive 1000] [--baseline-tree DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from somacontracts.compat import check_level
from somacontracts.schema import parse

NON_TRANSITIVE = ("BACKWARD", "FORWARD", "FULL", "NONE")
TRANSITIVE = ("BACKWARD_TRANSITIVE", "FULL_TRANSITIVE")


WINDOW = 20
"""Optional fields of each schema of the constant-size workload."""


def schema(subject: int, version: int, *, window: int | None = None) -> dict[str, Any]:
    """Version ``version`` (1-based) of subject ``subject``: a record with one optional
    field more than the version before, the oldest one dropped past ``window`` fields."""
    first = 1 if window is None else max(1, version - window)
    fields: list[dict[str, Any]] = [{"name": "id", "type": "string"}]
    fields += [
        {"name": f"f{n}", "type": ["null", "long"], "default": None} for n in range(first, version)
    ]
    return {"type": "record", "name": f"Event{subject}", "namespace": "bench", "fields": fields}


@contextlib.contextmanager
def registry(tree: Path | None, db: Path) -> Iterator[str]:
    """A local registry on ``db`` in a child process (of checkout ``tree`` if given)."""
    command = [sys.executable, "-m", "somacontracts", "registry", "serve", "--port", "0"]
    command += ["--db", str(db)]
    env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree.resolve())}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=tree)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"https?://\S+", line)
        if found is None:
            raise SystemExit(f"the registry did not say where it listens: {line!r}")
        yield found[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Http:
    """One kept-alive connection to the registry."""

    def __init__(self, url: str) -> None:
        split = urlsplit(url)
        self.conn = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": "application/vnd.schemaregistry.v1+json"}
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.status >= 300:
            raise SystemExit(f"{method} {path}: {response.status} {payload[:200]!r}")
        return json.loads(payload)


FRESH = 20
"""Schemas of each block also registered into fresh subjects, for the no-history rate."""


def workload(
    url: str,
    schemas: int,
    subjects: int,
    levels: tuple[str, ...],
    block: int,
    prefix: str,
    *,
    window: int | None = None,
    fresh: bool = False,
) -> tuple[list[float], list[float]]:
    """Register the workload; the seconds each block of ``block`` registrations took, and
    (``fresh``) the seconds per registration of the block's last schemas into subjects
    with no history."""
    client = Http(url)
    names = [f"{prefix}-{n}-value" for n in range(subjects)]
    for number, name in enumerate(names):
        client.call("PUT", f"/config/{name}", {"compatibility": levels[number % len(levels)]})
    blocks: list[float] = []
    alone: list[float] = []
    spent = 0.0  # in the registry's round trips only, not in building the schemas
    for index in range(schemas):
        subject, version = index % subjects, index // subjects + 1
        body = {"schema": json.dumps(schema(subject, version, window=window))}
        began = time.perf_counter()
        client.call("POST", f"/subjects/{names[subject]}/versions", body)
        spent += time.perf_counter() - began
        if (index + 1) % block == 0:
            blocks.append(spent)
            spent = 0.0
            if fresh:
                alone.append(_fresh(client, prefix, index, version, levels, window))
    return blocks, alone


def _fresh(
    client: Http,
    prefix: str,
    index: int,
    version: int,
    levels: tuple[str, ...],
    window: int | None,
) -> float:
    """Seconds per registration of version ``version`` into subjects holding only the
    version before it (registered untimed), at the workload's levels in turn."""
    spent = 0.0
    for extra in range(FRESH):
        name = f"{prefix}-fresh-{index}-{extra}-value"
        client.call("PUT", f"/config/{name}", {"compatibility": levels[extra % len(levels)]})
        # Another record name than the workload's: a schema of its own, not a known id.
        before = schema(1000 + extra, max(1, version - 1), window=window)
        client.call("POST", f"/subjects/{name}/versions", {"schema": json.dumps(before)})
        body = {"schema": json.dumps(schema(1000 + extra, version, window=window))}
        began = time.perf_counter()
        client.call("POST", f"/subjects/{name}/versions", body)
        spent += time.perf_counter() - began
    return spent / FRESH


def check_times(schemas: int, subjects: int, block: int) -> list[float]:
    """Seconds per block of the transitive compatibility checks alone (each subject at
    its level, every schema parsed once beforehand)."""
    versions = schemas // subjects + 1
    parsed = [[parse(schema(s, v)) for v in range(1, versions + 1)] for s in range(subjects)]
    blocks: list[float] = []
    spent = 0.0
    for index in range(schemas):
        subject, version = index % subjects, index // subjects + 1
        history = parsed[subject][: version - 1]
        began = time.perf_counter()
        level = TRANSITIVE[subject % len(TRANSITIVE)]
        check_level(level, parsed[subject][version - 1], history)
        spent += time.perf_counter() - began
        if (index + 1) % block == 0:
            blocks.append(spent)
            spent = 0.0
    return blocks


def rates(block: int, seconds: list[float]) -> list[float]:
    return [block / s for s in seconds]


def show(title: str, block: int, columns: dict[str, list[float]]) -> None:
    print(f"\n{title}: registrations per second per block of {block}")
    print("block      " + "".join(f"{name:>16}" for name in columns))
    count = min(len(v) for v in columns.values())
    for i in range(count):
        upto = (i + 1) * block
        print(f"{upto:>8}   " + "".join(f"{v[i]:>16,.0f}" for v in columns.values()))
    for name, values in columns.items():
        print(f"{name}: last/first block {values[-1] / values[0]:.2f}x")


def main() -> None:
    """Run both workloads against this checkout (and a baseline), print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", type=int, default=10_000)
    parser.add_argument("--subjects", type=int, default=20)
    parser.add_argument("--block", type=int, default=1000)
    parser.add_argument("--transitive", type=int, default=1000)
    parser.add_argument("--transitive-block", type=int, default=100)
    parser.add_argument("--baseline-tree", type=Path, metavar="DIR")
    args = parser.parse_args()
    trees: dict[str, Path | None] = {"this": None}
    if args.baseline_tree:
        trees["baseline"] = args.baseline_tree
    constant: dict[str, list[float]] = {}
    growing: dict[str, list[float]] = {}
    transitive: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for label, tree in trees.items():
            with registry(tree, Path(scratch) / f"{label}-c.db") as url:
                seconds, _ = workload(
                    url, args.schemas, args.subjects, NON_TRANSITIVE, args.block, "c", window=WINDOW
                )
                constant[label] = rates(args.block, seconds)
            with registry(tree, Path(scratch) / f"{label}-g.db") as url:
                seconds, alone = workload(
                    url, args.schemas, args.subjects, NON_TRANSITIVE, args.block, "g", fresh=True
                )
                growing[label] = rates(args.block, seconds)
                growing[f"{label} fresh"] = [1 / s for s in alone]
            with registry(tree, Path(scratch) / f"{label}-t.db") as url:
                seconds, _ = workload(
                    url, args.transitive, 4, TRANSITIVE, args.transitive_block, "t"
                )
                transitive[label] = seconds
    levels = ", ".join(NON_TRANSITIVE)
    show(
        f"{args.schemas} schemas of one size ({WINDOW} optional fields) over "
        f"{args.subjects} subjects at {levels}",
        args.block,
        constant,
    )
    print("target: this last/first block >= 0.80x")
    show(
        f"{args.schemas} growing schemas (one field more each version) over "
        f"{args.subjects} subjects at {levels}; 'fresh': the same sizes into new subjects",
        args.block,
        growing,
    )
    print("history's share of a registration: 1 - this/(this fresh) per block")
    checks = check_times(args.transitive, 4, args.transitive_block)
    print(
        f"\n{args.transitive} schemas over 4 subjects at {', '.join(TRANSITIVE)}: "
        f"milliseconds per registration per block of {args.transitive_block}, and the "
        "compatibility check alone (each subject at its level)"
    )
    print("block      " + "".join(f"{n:>12}" for n in transitive) + f"{'check':>12}  this/check")
    per = args.transitive_block
    for i, check in enumerate(checks):
        row = "".join(f"{v[i] / per * 1000:>12.2f}" for v in transitive.values())
        ratio = transitive["this"][i] / check
        print(f"{(i + 1) * per:>8}   {row}{check / per * 1000:>12.2f}  {ratio:>8.2f}x")
    print("target: this/check stays flat (registration grows only as the check does)")


if __name__ == "__main__":
    main()
