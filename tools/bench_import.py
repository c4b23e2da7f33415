"""Cold import time of what a service imports, against fastavro's, in fresh interpreters.

Each figure is the best of ``--runs`` fresh interpreters (``python -c``) timing the one
import statement with ``time.perf_counter``, so interpreter start-up is left out; the
targets take turns, so a change in the machine's load reaches them alike. Every
target's modules are compiled to bytecode first, in a private cache
(``PYTHONPYCACHEPREFIX``), as an installation compiles them: what is timed is loading,
not compiling, for installed packages and this source tree alike. Also printed: how many
modules each import loads. Target: ``somacontracts.models`` in at most 2x the time of
``fastavro``.

    python tools/bench_import.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

TARGETS = (
    "fastavro",
    "somacontracts.models",
    "somacontracts.serde",
    "somacontracts.kafka",
    "confluent_kafka.schema_registry.avro",
)
_PROBE = (
    "import sys, time, json\n"
    "before = set(sys.modules)\n"
    "start = time.perf_counter()\n"
    "import {target}\n"
    "elapsed = time.perf_counter() - start\n"
    "print(json.dumps([elapsed, len(set(sys.modules) - before)]))\n"
)


def measure(target: str, env: dict[str, str]) -> tuple[float, int]:
    """Seconds to import ``target`` in a fresh interpreter, and the modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(target=target)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    seconds, modules = json.loads(done.stdout)
    return float(seconds), int(modules)


def main() -> None:
    """Measure every target, print the best times and the ratio to fastavro."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per target")
    args = parser.parse_args()
    best = dict.fromkeys(TARGETS, float("inf"))
    modules = dict.fromkeys(TARGETS, 0)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as cache:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for target in TARGETS:  # writes every module's bytecode to the private cache
            measure(target, env)
        for _ in range(args.runs):
            for target in TARGETS:
                seconds, loaded = measure(target, env)
                best[target] = min(best[target], seconds)
                modules[target] = loaded
    baseline = best["fastavro"]
    print(f"cold import, best of {args.runs} fresh interpreters:")
    for target in TARGETS:
        print(
            f"  {target:40s} {best[target] * 1000:7.1f} ms  {modules[target]:4d} modules  "
            f"{best[target] / baseline:5.2f}x fastavro"
        )
    verdict = "met" if best["somacontracts.models"] <= 2 * baseline else "NOT met"
    print(f"target: somacontracts.models <= 2x fastavro: {verdict}")


if __name__ == "__main__":
    main()
