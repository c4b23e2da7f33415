"""The ``somacontracts`` command: one module per subcommand, errors handled once here.

Exit codes: 0 success; 1 the contracts break a rule (reported, nothing wrong with the
invocation); 2 bad usage, bad configuration or unreadable input (one line on stderr);
130 interrupted (Ctrl-C; one line on stderr; files being written are left as they were).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from somacontracts import __version__
from somacontracts.errors import ContractError
from somacontracts.tooling.cli.commands import COMMANDS

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_VIOLATIONS",
    "build_parser",
    "main",
    "main_exit",
]

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose usage errors are one line on stderr, exit 2, as every other
    error of the command line (argparse prints the whole usage block first)."""

    def error(self, message: str) -> NoReturn:
        """Print ``message`` on one line, pointing at the help, and exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


_GLOBAL_OPTIONS = ("-h", "--help", "-V", "--version", "-v", "--verbose")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: with ``command``, that subcommand's in full and the others
    named only (their modules are not imported); without, every subcommand in full."""
    parser = _Parser(
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
    for name, help_line in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(f"somacontracts.tooling.cli.{name}").register(sub)
        else:
            sub.add_parser(name, help=help_line)
    _plain_descriptions(parser)
    return parser


def _command_in(argv: Sequence[str]) -> str:
    """The subcommand ``argv`` names (its first word that is not an option), else ``""``
    (help, version or a usage error: no command module is needed)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else ""
    return ""


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
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_in(words))
    before = words[: next((i for i, w in enumerate(words) if not w.startswith("-")), len(words))]
    unknown = [w for w in before if w not in _GLOBAL_OPTIONS]
    if unknown:  # argparse would only say a COMMAND is required
        try:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        except SystemExit as exit_:
            return int(exit_.code or 0)
    try:
        args = parser.parse_args(words)
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
