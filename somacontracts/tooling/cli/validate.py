"""``somacontracts validate``: every version of every contract parses and is well formed.

Checks each ``vN.avsc``: valid JSON, a record named after its folder, valid names,
defaults that match their types (union defaults the first branch), logical types on
the right base types, fastavro accepts it; versions run from v1 without gaps; that every
contract a topic of the catalog carries has a folder (and, for the package's own
contracts, that every folder is a contract of the catalog). The tree is ``--schemas``,
else ``schemas`` of the project's configuration (``--config``, else the nearest
``pyproject.toml`` with ``[tool.somacontracts]``), else this package's own. Any problem
stops the run with one line naming the file and the JSON location, exit code 2.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from somacontracts.catalog.entries import Catalog
from somacontracts.catalog.reading import platform_catalog
from somacontracts.errors import SchemaLoadError
from somacontracts.tooling import sources
from somacontracts.tooling.cli.common import (
    add_config,
    add_format,
    add_schemas,
    command_parser,
    count,
    project_files,
)

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "validate", __doc__)
    add_schemas(parser)
    add_config(parser, lock=False)
    add_format(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load and check the schema tree; report each version's fingerprint."""
    config, root, _ = project_files(args)
    tree = sources.load_tree(root)
    bundled = root.resolve() == sources.bundled_root().resolve()
    if bundled or config.catalog is not platform_catalog():  # a catalog of the tree's own
        _check_catalog(tree, root, config.catalog, every=bundled)
    versions = [v for c in tree.values() for v in c.versions]
    if args.format == "json":
        report = [
            {
                "contract": v.contract,
                "version": v.version,
                "path": str(v.path),
                "full_name": v.full_name,
                "fingerprint": v.fingerprint,
            }
            for v in versions
        ]
        print(json.dumps({"valid": True, "versions": report}, indent=2))
        return 0
    for v in versions:
        print(f"ok  {v.contract} v{v.version}  sha256:{v.fingerprint[:16]}  {v.path}")
    print(f"{count(len(tree), 'contract')}, {count(len(versions), 'version')}: all valid")
    return 0


def _check_catalog(
    tree: dict[str, sources.ContractSchemas], root: Any, catalog: Catalog, *, every: bool
) -> None:
    for name, entry in catalog.contracts.items():
        if name not in tree:
            topic = catalog.topic(entry.topics[0]).default_name
            raise SchemaLoadError(
                f'topic "{topic}" of the catalog ({catalog.source}) carries contract {name}, '
                f"but there is no {name}/ folder",
                source=str(root),
            )
    for name in tree if every else ():
        if name not in catalog.contracts:
            raise SchemaLoadError(
                f"folder {name}/ is not a contract of the catalog ({catalog.source})",
                source=str(root),
            )
