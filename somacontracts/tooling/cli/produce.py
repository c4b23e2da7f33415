"""``somacontracts produce TOPIC [FILE]``: produce plain-JSON lines as the topic's contract.

Each non-blank line of FILE (default: standard input) is one payload in the platform's
plain JSON (or a record as ``consume`` prints it): it is validated into the contract's
typed class and produced keyed by the contract's key field, through the registry (the
contract's rules run: encrypted fields are encrypted with ``LOCAL_SECRET`` in the local
KMS). Every line is checked before anything is sent: a bad line is one error naming its
number and the field, and nothing is sent unless ``--skip-bad``. It ends with what was
delivered.

Exit codes: 0 every line delivered; 2 bad input (bad lines: nothing sent, or with
``--skip-bad`` the good ones sent), bad usage, configuration, an unreachable cluster or
registry, or a delivery that failed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from somacontracts.tooling.cli.common import (
    add_console,
    command_parser,
    config_of,
    count,
    settings_of,
)
from somacontracts.tooling.console.classes import model_of
from somacontracts.tooling.console.display import contract_of_topic, parse_lines

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "produce", __doc__)
    add_console(parser)
    parser.add_argument(
        "file",
        nargs="?",
        type=argparse.FileType("rb"),
        default=sys.stdin.buffer,
        metavar="FILE",
        help="plain-JSON lines (default: standard input)",
    )
    parser.add_argument(
        "--skip-bad", action="store_true", help="send the good lines even if some are bad"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Validate every line, then produce (unless a line is bad and not ``--skip-bad``)."""
    settings = settings_of(args)
    model = model_of(config_of(args), contract_of_topic(settings, args.topic))
    with args.file:
        objects, problems = parse_lines(args.file, model)
    for problem in problems:
        print(f"somacontracts produce: {problem}", file=sys.stderr)
    if problems and not args.skip_bad:
        print(
            f"nothing sent: {count(len(problems), 'bad line')} of {len(problems) + len(objects)}",
            file=sys.stderr,
        )
        return 2
    from somacontracts.kafka import ContractProducer
    from somacontracts.serde.registry_client import connect

    with (
        connect(url=args.registry, ca_file=args.registry_ca) as client,
        # A console command never serves the metrics a service's environment turns on.
        ContractProducer(
            model, client, settings=settings, topic=args.topic, metrics=False
        ) as producer,
    ):
        sent = [producer.send(obj) for obj in objects]
        producer.flush()
        delivered = [future.result() for future in sent]
    partitions = sorted({d.partition for d in delivered})
    print(
        f"delivered {count(len(delivered), 'message')} to {args.topic}"
        + (f" in {_partitions(partitions)}" if partitions else "")
    )
    return 2 if problems else 0


def _partitions(numbers: list[int]) -> str:
    """``partition 0``, ``partitions 0 and 2``, ``partitions 0, 1 and 2``."""
    listed = [str(n) for n in numbers]
    joined = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"
    return f"{'partition' if len(listed) == 1 else 'partitions'} {joined}"
