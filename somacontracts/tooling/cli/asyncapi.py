"""``somacontracts asyncapi``: an AsyncAPI 3.0 document of the project's topics and contracts.

Servers from ``KAFKA_BOOTSTRAP_SERVERS`` (or ``--bootstrap``) and the Kafka security
variables, with the schema registry of ``SCHEMA_REGISTRY_URL`` (or ``--registry``;
credentials are never written); a channel per catalog topic (address after environment
overrides) and per dead-letter topic; a message per contract version whose payload is
its Avro schema; ``send``/``receive`` operations per service from the catalog's
producers and consumers, with their consumer groups.

Exit codes: 0 document written; 2 bad usage, configuration, or a file that cannot be
written.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from somacontracts import __version__
from somacontracts.serde.registry_client import registry_config
from somacontracts.tooling import sources
from somacontracts.tooling.cli.common import (
    add_bootstrap,
    add_output,
    add_schemas,
    command_parser,
    emit,
    project_files,
    settings_of,
)
from somacontracts.tooling.docs.asyncapi import asyncapi_document
from somacontracts.tooling.yamltext import dump

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "asyncapi", __doc__)
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    add_output(parser)
    add_schemas(parser)
    add_bootstrap(parser)
    parser.add_argument(
        "--registry",
        metavar="URL",
        help="schema registry URL (default: SCHEMA_REGISTRY_URL or http://localhost:8081)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print or write the document."""
    urls = registry_config(url=args.registry, environ=os.environ)["url"].split(",")
    # Only scheme, host and path: a query or fragment may carry a key (?apikey=...).
    shown = [urlunsplit((*urlsplit(url)[:3], "", "")) for url in urls]
    _, root, _ = project_files(args)
    document = asyncapi_document(
        sources.load_tree(root),
        settings_of(args),
        registry_url=shown[0],
        version=__version__,
        other_registry_urls=shown[1:],
    )
    if args.format == "json":
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    else:
        text = dump(document)
    emit(args, text)
    return 0
