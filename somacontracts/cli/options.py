"""Options shared by several subcommands, declared once."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_format", "add_registry", "add_schemas"]


def add_schemas(parser: argparse.ArgumentParser) -> None:
    """``--schemas DIR``: the contract tree to read instead of the installed one."""
    parser.add_argument(
        "--schemas",
        type=Path,
        metavar="DIR",
        help="folder of <Contract>/vN.avsc files (default: the contracts of this package)",
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
