"""``somacontracts contracts``: list contracts with versions, topics, subjects and levels."""

from __future__ import annotations

import argparse
import json
from typing import Any

from somacontracts.catalog.environment import Settings
from somacontracts.tooling import sources
from somacontracts.tooling.cli.commands import COMMANDS
from somacontracts.tooling.cli.common import add_config, add_format, add_schemas, project_files
from somacontracts.tooling.configuration import ProjectConfig

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "contracts",
        help=COMMANDS["contracts"],
        description="List every contract of the catalog with the topic and subject names "
        "in effect (after environment overrides).",
    )
    add_schemas(parser)
    add_config(parser, lock=False)
    add_format(parser)
    parser.set_defaults(run=run)


def describe(
    tree: dict[str, sources.ContractSchemas], config: ProjectConfig, settings: Settings
) -> list[dict[str, Any]]:
    """One row per contract of the catalog: name, versions, level, key field, topics,
    subjects, fingerprint."""
    rows = []
    for entry in settings.catalog.contracts.values():
        versions = sources.lookup(tree, entry.name).versions
        rows.append(
            {
                "contract": entry.name,
                "versions": [v.version for v in versions],
                "compatibility": config.level_of(entry.name).value,
                "key_field": entry.key_field,
                "topics": list(settings.topics_of(entry.name)),
                "subjects": list(settings.subjects_of(entry.name)),
                "latest_fingerprint": versions[-1].fingerprint,
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    """Print the catalog."""
    config, root, _ = project_files(args)
    rows = describe(sources.load_tree(root), config, config.settings())
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    header = ("CONTRACT", "VERSIONS", "LEVEL", "KEY", "TOPICS", "SUBJECTS")
    table = [header] + [
        (
            r["contract"],
            ",".join(f"v{n}" for n in r["versions"]),
            r["compatibility"],
            r["key_field"],
            ",".join(r["topics"]),
            ",".join(r["subjects"]),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0
