"""Benchmark of ``somacontracts check``: the repository, and contracts with many versions.

Prints wall-clock times for checking this repository's contracts, then for two
synthetic contracts of N versions at FULL_TRANSITIVE, where version k is checked
against all k-1 earlier ones in both directions (N(N-1) reader/writer checks):

* sliding: each version adds an optional field and drops the oldest one, so every
  schema has the same size (22 fields): the time per new version divided by its
  number of predecessors should stay flat;
* growing: version k has k optional fields, as real contracts grow. Target: 200
  versions checked in at most 2 s, at least 8x faster than Apache Avro Java 1.12's
  ``SchemaCompatibility`` run over the same pairs by ``tools/java/CompatOracle.java``
  (a harness that parses each pair it reads), which this benchmark runs in the same
  run when ``javac``/``java`` and Avro's jars are present (``SOMACONTRACTS_AVRO_JARS``,
  else the cache ``tools/fetch_avro_jars.py`` fills). Time per check is printed
  against schema size.

    python tools/bench_check.py [--versions 200] [--no-java]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from somacontracts.compat import check_level
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.schema import parse
from somacontracts.tooling import sources
from somacontracts.tooling.check import check_compatibility, check_tree


def synthetic_version(number: int) -> dict[str, Any]:
    """Version ``number``: a window of the 20 newest optional fields, plus two fixed ones."""
    fields: list[dict[str, Any]] = [
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}, "doc": "Id."},
        {
            "name": "state",
            "doc": "State.",
            "type": {
                "type": "enum",
                "name": "State",
                "doc": "S.",
                "symbols": ["A", "B", "U"],
                "default": "U",
            },
        },
    ]
    fields += [
        {"name": f"f{i}", "type": ["null", "long"], "default": None, "doc": f"Field {i}."}
        for i in range(number, number + 20)
    ]
    return {
        "type": "record",
        "name": "Synthetic",
        "namespace": "bench",
        "doc": "Bench.",
        "fields": fields,
    }


def growing_version(number: int) -> dict[str, Any]:
    """Version ``number``: an id and ``number`` - 1 optional fields."""
    fields: list[dict[str, Any]] = [{"name": "id", "type": "string", "doc": "Id."}]
    fields += [
        {"name": f"f{i}", "type": ["null", "long"], "default": None, "doc": f"Field {i}."}
        for i in range(1, number)
    ]
    return {
        "type": "record",
        "name": "Growing",
        "namespace": "bench",
        "doc": "G.",
        "fields": fields,
    }


def _java(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> float | None:
    """Seconds Apache Avro Java takes over ``pairs`` through the oracle harness (JVM start
    included, as it is run), or None without a JDK or the jars."""
    jars = Path(os.environ.get("SOMACONTRACTS_AVRO_JARS") or _jar_cache())
    if shutil.which("javac") is None or shutil.which("java") is None or not jars.is_dir():
        return None
    source = Path(__file__).parent / "java" / "CompatOracle.java"
    with tempfile.TemporaryDirectory() as scratch:
        classpath = f"{jars}/*"
        subprocess.run(["javac", "-cp", classpath, "-d", scratch, str(source)], check=True)
        lines = Path(scratch) / "pairs.jsonl"
        with lines.open("w") as out:
            for reader, writer in pairs:
                out.write(json.dumps({"reader": reader, "writer": writer}) + "\n")
        with lines.open() as stdin:
            start = time.perf_counter()
            done = subprocess.run(
                ["java", "-cp", f"{scratch}{os.pathsep}{classpath}", "CompatOracle"],
                stdin=stdin,
                capture_output=True,
                text=True,
                check=True,
            )
            seconds = time.perf_counter() - start
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    if len(answers) != len(pairs) or not all(a.get("compatible") for a in answers):
        raise SystemExit("Java's answers do not match the pairs (all compatible) checked")
    return seconds


def _jar_cache() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "somacontracts" / "avro-1.12.0-jars"


def _timed_check(
    name: str, versions: int, version: Callable[[int], dict[str, Any]]
) -> tuple[sources.ContractSchemas, list[Any], float, float, float]:
    """Write ``versions`` versions of contract ``name``, load them and check them at
    FULL_TRANSITIVE: the contract, the findings, and the clock at start, loaded, done."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / name
        folder.mkdir()
        for number in range(1, versions + 1):
            (folder / f"v{number}.avsc").write_text(json.dumps(version(number)))
        start = time.perf_counter()
        contract = sources.load_contract(folder)
        loaded = time.perf_counter()
        found = check_compatibility(contract, CompatibilityLevel.FULL_TRANSITIVE)
        done = time.perf_counter()
    return contract, list(found), start, loaded, done


def growing(versions: int, *, java: bool) -> None:
    """Check the growing contract in full, then Java on the same pairs; print both."""
    contract, found, start, loaded, done = _timed_check("Growing", versions, growing_version)
    checks = versions * (versions - 1)
    ours = done - loaded
    print(
        f"\ngrowing: {versions} versions (1 to {versions} fields) at FULL_TRANSITIVE, "
        f"{checks:,} reader/writer checks, {len(found)} findings; load and parse "
        f"{loaded - start:.2f} s, compatibility {ours:.2f} s ({ours / checks * 1e6:.1f} us a check)"
    )
    parsed = [v.parsed for v in contract.versions]
    print("  fields  predecessors  us per check (both directions)")
    for k in (versions // 4, versions // 2, 3 * versions // 4, versions):
        start = time.perf_counter()
        check_level(CompatibilityLevel.FULL_TRANSITIVE, parsed[k - 1], parsed[: k - 1])
        spent = time.perf_counter() - start
        print(f"  {k:6d}  {k - 1:12d}  {spent * 1e6 / max(2 * (k - 1), 1):12.1f}")
    print(
        f"target: compatibility of {versions} versions <= 2 s: {'met' if ours <= 2 else 'NOT met'}"
    )
    if not java:
        return
    pairs = [
        (growing_version(k), growing_version(j))
        for k in range(2, versions + 1)
        for j in range(1, k)
        for _ in (0, 1)
    ]
    pairs = [(a, b) if n % 2 == 0 else (b, a) for n, (a, b) in enumerate(pairs)]
    seconds = _java(pairs)
    if seconds is None:
        print("Apache Avro Java: not run (no JDK or no jars; see tools/fetch_avro_jars.py)")
        return
    print(
        f"Apache Avro Java 1.12 over the same {len(pairs):,} pairs (harness parses each pair, "
        f"JVM start included): {seconds:.2f} s; ours {seconds / ours:.1f}x faster "
        "(target: at least 8x)"
    )


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, default=200)
    parser.add_argument("--no-java", action="store_true", help="skip Apache Avro Java's run")
    args = parser.parse_args()
    versions = args.versions

    start = time.perf_counter()
    tree = sources.load_tree(sources.bundled_root())
    levels = dict.fromkeys(tree, CompatibilityLevel.FULL_TRANSITIVE)
    findings = check_tree(tree, levels)
    repo_seconds = time.perf_counter() - start
    print(
        f"repository: {len(tree)} contracts, {len(findings)} findings, {repo_seconds * 1000:.1f} ms"
    )

    contract, found, start, loaded, done = _timed_check("Synthetic", versions, synthetic_version)
    print(
        f"synthetic: {versions} versions at FULL_TRANSITIVE, {len(found)} findings; "
        f"load {loaded - start:.2f} s, compatibility {done - loaded:.2f} s"
    )

    parsed = [parse(v.schema) for v in contract.versions]
    print("per new version (both directions against every earlier version):")
    print("  version  predecessors  ms      us per predecessor")
    for k in (versions // 4, versions // 2, 3 * versions // 4, versions):
        start = time.perf_counter()
        check_level(CompatibilityLevel.FULL_TRANSITIVE, parsed[k - 1], parsed[: k - 1])
        ms = (time.perf_counter() - start) * 1000
        print(f"  {k:7d}  {k - 1:12d}  {ms:6.1f}  {ms * 1000 / max(k - 1, 1):8.1f}")
    growing(versions, java=not args.no_java)


if __name__ == "__main__":
    main()
