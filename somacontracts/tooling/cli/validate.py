"""``somacontracts validate``: every version of every contract parses and is well formed.

Checks each ``vN.avsc``: valid JSON, a record named after its folder, valid names,
defaults that match their types (union defaults the first branch), logical types on
the right base types, fastavro accepts it; versions run from v1 without gaps; that every
contract a topic of the catalog carries has a folder (and, for the package's own
contracts, that every folder is a contract of the catalog), and that the topic's ``key``
names a field of its newest version that can key messages, not personal data
(:mod:`somacontracts.schema.keys`). The tree is ``--schemas``,
else ``schemas`` of the project's configuration (``--config``, else the nearest
``pyproject.toml`` with ``[tool.somacontracts]``), else this package's own. Any problem
stops the run with one line naming the file and the JSON location, exit code 2.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from somacontracts.tooling import sources
from somacontracts.tooling.check.project import require_catalog_match
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
    require_catalog_match(tree, root, config)
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
