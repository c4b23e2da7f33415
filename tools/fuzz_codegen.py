"""Codegen fuzzed at scale: thousands of drawn schemas, each generated, imported and
checked against fastavro, every generated module linted and type-checked; the figures.

The property and the schemas are ``tests/codegen/fuzz.py``'s (``tests/codegen/test_fuzz.py``
runs a few in CI): every kind of type, logical type, named type, recursion, union and
default, names that are keywords, builtins or the generated code's own. Schemas are drawn
in batches (``--batch``), each checked, then linted with ruff and ``mypy --strict`` in one
run per batch. Prints the schemas, record classes, objects and datums checked, datums
fastavro could not write or read back itself (not counted), failures by kind with the
first of each, the time of each phase and the ruff and mypy versions; exits 1 on any
failure. ``--keep DIR`` keeps the schemas and generated packages there.

    python tools/fuzz_codegen.py [--schemas 2000] [--batch 500] [--seed N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fuzz module

from tests.codegen.fuzz import KINDS, Batch, Failure, contract_schemas, tools


def run_batch(root: Path, count: int, number: int, start: int) -> tuple[Batch, float, float]:
    """Draw, check and lint ``count`` schemas under ``root``; with the seconds of each phase."""
    batch = Batch(root)

    @seed(start + number)
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # a failure is counted, not shrunk
        suppress_health_check=list(HealthCheck),
    )
    @given(schema=contract_schemas(), data=st.data())
    def check(schema: dict[str, object], data: st.DataObject) -> None:
        batch.check(schema, data)

    began = time.perf_counter()
    try:
        check()
    finally:
        batch.unload()
    checked = time.perf_counter() - began
    began = time.perf_counter()
    batch.lint(*tools())
    return batch, checked, time.perf_counter() - began


def version(command: str) -> str:
    done = subprocess.run([command, "--version"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schemas", type=int, default=2000, help="schemas to draw")
    parser.add_argument("--batch", type=int, default=500, help="schemas per lint run")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed of the first batch")
    parser.add_argument("--keep", type=Path, help="keep the schemas and packages here")
    args = parser.parse_args(argv)
    ruff, mypy = tools()
    print(f"{version(ruff)}, {version(mypy)}, Python {sys.version.split()[0]}")
    top = args.keep or Path(tempfile.mkdtemp(prefix="fuzz_codegen_"))
    totals: collections.Counter[str] = collections.Counter()
    failures: list[Failure] = []
    seconds = {"check": 0.0, "lint": 0.0}
    done = 0
    try:
        for number in range(0, -(-args.schemas // args.batch)):
            count = min(args.batch, args.schemas - done)
            batch, checked, linted = run_batch(top / f"batch{number}", count, number, args.seed)
            done += count
            seconds["check"] += checked
            seconds["lint"] += linted
            totals.update(
                schemas=batch.schemas,
                classes=batch.classes,
                checked=batch.checked,
                skipped=batch.skipped,
            )
            failures += batch.failures
            print(
                f"batch {number}: {batch.schemas} schemas, {batch.classes} record classes, "
                f"{batch.checked} objects and datums, {len(batch.failures)} failures "
                f"({checked:.0f} s checking, {linted:.0f} s ruff and mypy)",
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(top, ignore_errors=True)
    by_kind = collections.Counter(failure.kind for failure in failures)
    print(
        f"\n{totals['schemas']} schemas drawn, {totals['classes']} record classes generated, "
        f"{totals['checked']} objects and datums checked against fastavro "
        f"({totals['skipped']} datums fastavro could not write or read back itself, not "
        f"counted); {seconds['check']:.0f} s checking, {seconds['lint']:.0f} s ruff and mypy"
    )
    print("failures: " + ", ".join(f"{kind} {by_kind[kind]}" for kind in KINDS))
    for kind in KINDS:
        first = next((f for f in failures if f.kind == kind), None)
        if first is not None:
            print(f"  first {first}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
