"""What the commands share, declared once: options, the project they read, counts in words.

Commands import this module and nothing of each other. Options: ``--schemas``,
``--config``/``--lock``, ``--format``, ``--registry``/``--registry-ca``, ``--bootstrap``.
:func:`project_files` turns the options into the project configuration, schema folder and
lock file every command reads the same way; :func:`plan_registry` reads what a registry
holds for ``register`` and ``status``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from somacontracts.catalog.entries import Catalog
from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.errors import ConfigurationError, count
from somacontracts.tooling import sources
from somacontracts.tooling.configuration import ProjectConfig, read_config
from somacontracts.tooling.files import replace_text

if TYPE_CHECKING:
    from somacontracts.kafka.liveness import Liveness
    from somacontracts.kafka.readers import Reader
    from somacontracts.tooling.registration import SubjectPlan

__all__ = [
    "add_bootstrap",
    "add_config",
    "add_format",
    "add_registry",
    "add_schemas",
    "config_of",
    "count",
    "plan_registry",
    "project_files",
    "registered_readers",
    "settings_of",
    "warn",
]


def command_parser(sub: Any, name: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of subcommand ``name``: its one-line help from the command table, its
    module's docstring ``doc`` as the description, laid out as written."""
    from somacontracts.tooling.cli.commands import COMMANDS

    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=COMMANDS[name],
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def add_schemas(parser: argparse.ArgumentParser) -> None:
    """``--schemas DIR``: the contract tree to read instead of the installed one."""
    parser.add_argument(
        "--schemas",
        type=Path,
        metavar="DIR",
        help="folder of <Contract>/vN.avsc files (default: `schemas` of the configuration, "
        "else the contracts of this package)",
    )


def add_format(parser: argparse.ArgumentParser) -> None:
    """``--format text|json``."""
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def add_registry(parser: argparse.ArgumentParser, *, help_url: str) -> None:
    """``--registry URL`` and ``--registry-ca FILE`` (defaults from ``SCHEMA_REGISTRY_*``)."""
    parser.add_argument("--registry", metavar="URL", help=help_url)
    parser.add_argument(
        "--registry-ca",
        metavar="FILE",
        help="CA bundle for the registry's TLS certificate (default: SCHEMA_REGISTRY_CA_FILE)",
    )


def add_config(parser: argparse.ArgumentParser, *, lock: bool = True) -> None:
    """``--config FILE`` and (unless ``lock=False``) ``--lock FILE``."""
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML file with a [tool.somacontracts] table (default: the nearest "
        "pyproject.toml holding one, here or in a folder above)",
    )
    if lock:
        parser.add_argument(
            "--lock", type=Path, metavar="FILE", help="lock file (default: from the configuration)"
        )


def config_of(args: argparse.Namespace) -> ProjectConfig:
    """The project configuration ``--config`` names, else the nearest one found."""
    return read_config(args.config)


def project_files(args: argparse.Namespace) -> tuple[ProjectConfig, Path, Path]:
    """The configuration, schema folder and lock file that ``args`` select (the lock of
    the configuration for commands without ``--lock``)."""
    config = config_of(args)
    root = args.schemas or config.schemas or sources.bundled_root()
    lock = getattr(args, "lock", None) or config.lock
    return config, root, lock


def add_output(parser: argparse.ArgumentParser) -> None:
    """``--output/-o FILE`` of the commands that print a document."""
    parser.add_argument(
        "--output", "-o", type=_file_path, metavar="FILE", help="write to FILE (default: stdout)"
    )


def _file_path(text: str) -> Path:
    if not text or text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text!r} names no file")
    return Path(text)


def emit(args: argparse.Namespace, text: str) -> None:
    """Print ``text``, or write it whole to ``--output``."""
    if args.output is None:
        print(text, end="")
    else:
        replace_text(args.output, text)


def warn(command: str, problem: object) -> None:
    """One line on stderr about something the command left alone and went on."""
    print(f"somacontracts {command}: warning: {problem}", file=sys.stderr)


def add_bootstrap(parser: argparse.ArgumentParser, *, config: bool = True) -> None:
    """``--bootstrap HOST:PORT[,...]`` (default: KAFKA_BOOTSTRAP_SERVERS), and (unless
    ``config=False``, for a command that declares it) ``--config``, whose catalog names
    the topics."""
    parser.add_argument(
        "--bootstrap",
        metavar="SERVERS",
        help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS or localhost:9092)",
    )
    if config:
        add_config(parser, lock=False)


def add_console(parser: argparse.ArgumentParser) -> None:
    """``TOPIC``, ``--bootstrap`` and the registry options of the console commands."""
    parser.add_argument("topic", metavar="TOPIC")
    add_bootstrap(parser)
    add_registry(
        parser, help_url="registry URL (default: SCHEMA_REGISTRY_URL or http://localhost:8081)"
    )


def settings_of(args: argparse.Namespace, catalog: Catalog | None = None) -> Settings:
    """Settings from the environment for ``catalog``, else the project's (``--config``, else
    the nearest configuration), with ``--bootstrap`` taking precedence."""
    if catalog is None:
        catalog = read_config(getattr(args, "config", None)).catalog
    env = dict(os.environ)
    if args.bootstrap is not None and not args.bootstrap.strip():
        raise ConfigurationError("--bootstrap", "must not be empty")
    if args.bootstrap is not None:
        env["KAFKA_BOOTSTRAP_SERVERS"] = args.bootstrap
    try:
        return load_settings(env, catalog=catalog)
    except ConfigurationError as err:
        if args.bootstrap is not None and err.variable == "KAFKA_BOOTSTRAP_SERVERS":
            raise ConfigurationError("--bootstrap", err.reason) from None
        raise


def plan_registry(args: argparse.Namespace) -> tuple[Any, list[SubjectPlan], Any]:
    """Connect and plan every subject of every contract; return (client, plans, lock path)."""
    # Imported here: the registry client costs a command that does not use it a tenth
    # of a second at start.
    from somacontracts.serde.registry_client import connect
    from somacontracts.tooling.registration import plan_subject, subject_state

    config, root, lock_path = project_files(args)
    tree = sources.load_tree(root)
    client = connect(url=args.registry, ca_file=args.registry_ca)
    try:
        plans = [
            plan_subject(subject_state(client, subject), tree[name], config.level_of(name))
            for name in tree
            for subject in config.subjects_of(name)
        ]
    except BaseException:
        client.close()
        raise
    return client, plans, lock_path


def registered_readers(
    args: argparse.Namespace, client: Any, subjects: Iterable[str], command: str
) -> tuple[list[tuple[Reader, Liveness | None]], str | None]:
    """The readers the registry holds of ``subjects``, each with its group's liveness when
    a cluster is given (``--bootstrap`` or KAFKA_BOOTSTRAP_SERVERS) and answers; and,
    when liveness is unknown, why (a cluster that does not answer is a warning on stderr)."""
    from somacontracts.kafka.errors import BrokerUnavailableError
    from somacontracts.tooling.check.readers import readers_known

    wanted = list(subjects)
    if args.bootstrap is None and not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return readers_known(client, None, wanted), "no Kafka cluster given"
    settings = settings_of(args)
    try:
        return readers_known(client, settings, wanted), None
    except BrokerUnavailableError as err:
        warn(command, f"liveness of the readers unknown: {err}")
        return readers_known(client, None, wanted), "the Kafka cluster did not answer"
