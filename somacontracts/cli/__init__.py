"""The ``somacontracts`` command: one module per subcommand, errors handled once here.

Exit codes: 0 success; 1 the contracts break a rule (reported, nothing wrong with the
invocation); 2 bad usage, bad configuration or unreadable input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from somacontracts.cli import (
    check,
    codegen,
    contracts,
    demo,
    diff,
    lock,
    register,
    registry,
    status,
    topics,
    validate,
)
from somacontracts.errors import ContractError

__all__ = ["EXIT_OK", "EXIT_USAGE", "EXIT_VIOLATIONS", "main", "main_exit"]

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2

_COMMANDS = (
    check,
    codegen,
    contracts,
    demo,
    diff,
    lock,
    register,
    registry,
    status,
    topics,
    validate,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="somacontracts",
        description="Data contracts of the agent platform's Kafka payloads.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code instead of exiting."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        code: int = args.run(args)
    except ContractError as err:
        print(f"somacontracts {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    return code


def main_exit() -> None:
    """Entry point of the ``somacontracts`` console script."""
    sys.exit(main())
