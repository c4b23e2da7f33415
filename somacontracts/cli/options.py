"""Options shared by several subcommands, declared once."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_format", "add_schemas"]


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
