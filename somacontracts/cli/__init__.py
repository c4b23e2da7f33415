"""The ``somacontracts`` command: one module per subcommand, errors handled once here.

Exit codes: 0 success; 1 the contracts break a rule (reported, nothing wrong with the
invocation); 2 bad usage, bad configuration or unreadable input (one line on stderr);
130 interrupted (Ctrl-C; one line on stderr; files being written are left as they were).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from somacontracts import __version__
from somacontracts.cli import (
    alerts,
    asyncapi,
    check,
    codegen,
    consume,
    contracts,
    demo,
    diff,
    docs,
    lag,
    lock,
    produce,
    register,
    registry,
    status,
    topics,
    validate,
)
from somacontracts.errors import ContractError

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "EXIT_VIOLATIONS", "main", "main_exit"]

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_COMMANDS = (
    alerts,
    asyncapi,
    check,
    codegen,
    consume,
    contracts,
    demo,
    diff,
    docs,
    lag,
    lock,
    produce,
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
    parser.add_argument("-V", "--version", action="version", version=f"somacontracts {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show the log of the Kafka client library and of the registry server on stderr",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.register(sub)
    _plain_descriptions(parser)
    return parser


def _plain_descriptions(parser: argparse.ArgumentParser) -> None:
    """Descriptions come from module docstrings: show their ````literal```` markup as
    `literal`, as a terminal shows it best."""
    if parser.description:
        parser.description = parser.description.replace("``", "`")
    for action in parser._actions:  # argparse keeps subcommand parsers nowhere public
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _plain_descriptions(child)


def _command_name(args: argparse.Namespace) -> str:
    """The command as typed: ``topics apply``, ``registry serve``, ``check``."""
    action = getattr(args, "action", None) or getattr(args, "registry_command", None)
    return f"{args.command} {action}" if action else str(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code instead of exiting."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        code: int = args.run(args)
    except ContractError as err:
        print(f"somacontracts {_command_name(args)}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"somacontracts {_command_name(args)}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


def main_exit() -> None:
    """Entry point of the ``somacontracts`` console script."""
    sys.exit(main())
