"""Benchmark of ``somacontracts check``: the repository, and one contract with many versions.

Prints wall-clock times for checking this repository's contracts, then for a
synthetic contract of N versions at FULL_TRANSITIVE, where version k is checked
against all k-1 earlier ones in both directions. Each version adds an optional field
and drops the oldest one, so every schema has the same size (22 fields) and the cost
of one pair stays constant: the time per new version divided by its number of
predecessors should stay flat (linear growth), with each schema parsed once.

    python tools/bench_check.py [--versions 200]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from somacontracts import schemas
from somacontracts.check import check_compatibility, check_tree
from somacontracts.compat import check_level
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.schema import parse


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


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, default=200)
    versions = parser.parse_args().versions

    start = time.perf_counter()
    tree = schemas.load_tree(schemas.bundled_root())
    levels = dict.fromkeys(tree, CompatibilityLevel.FULL_TRANSITIVE)
    findings = check_tree(tree, levels)
    repo_seconds = time.perf_counter() - start
    print(
        f"repository: {len(tree)} contracts, {len(findings)} findings, {repo_seconds * 1000:.1f} ms"
    )

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "Synthetic"
        folder.mkdir()
        for number in range(1, versions + 1):
            (folder / f"v{number}.avsc").write_text(json.dumps(synthetic_version(number)))
        start = time.perf_counter()
        contract = schemas.load_contract(folder)
        loaded = time.perf_counter()
        found = check_compatibility(contract, CompatibilityLevel.FULL_TRANSITIVE)
        done = time.perf_counter()
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


if __name__ == "__main__":
    main()
