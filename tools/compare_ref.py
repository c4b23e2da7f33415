"""Run a benchmark on the code of a git revision and on the working tree, in alternation.

    python tools/compare_ref.py REF [--rounds 5] -- tools/bench_serde.py --messages 0 --json

REF's tree is checked out into a temporary git worktree and put first on ``PYTHONPATH``
for its rounds; the benchmark script is always the working tree's, so both sides run
the same measurement. Rounds alternate (REF, working tree, REF, ...), so a change in the
machine's load reaches both. The script must print its figures as one JSON object on
the last line of its output; this prints the median of each figure for REF and for the
working tree, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def figures(command: list[str], tree: Path | None) -> dict[str, float]:
    """Run the benchmark once with ``tree``'s package first on the path (None: this tree)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Check out REF, alternate the rounds, print the medians and ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("ref", help="git revision to compare against")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per side (default 5)")
    argv = sys.argv[1:]
    if "--" not in argv:
        parser.error("give the benchmark after --: compare_ref.py REF -- SCRIPT [ARGS]")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    if not command:
        parser.error("give the benchmark after --")
    with tempfile.TemporaryDirectory(prefix="compare-ref-") as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(tree), args.ref], cwd=ROOT, check=True
        )
        try:
            before: list[dict[str, float]] = []
            after: list[dict[str, float]] = []
            for number in range(args.rounds):
                before.append(figures(command, tree))
                after.append(figures(command, None))
                print(f"round {number + 1}/{args.rounds} done", file=sys.stderr)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True
            )
    print(f"median of {args.rounds} alternating rounds: {args.ref} | working tree | ratio")
    for key in before[0]:
        old = statistics.median(r[key] for r in before)
        new = statistics.median(r[key] for r in after)
        ratio = f"{new / old:.3f}x" if old else "-"
        print(f"  {key:35s} {old:12,.3f} {new:12,.3f}   {ratio}")


if __name__ == "__main__":
    main()
