"""``somacontracts lock``: record the fingerprint of every new contract version.

Adds each version not yet in the lock file; never changes a recorded one (an edited
release is refused with exit code 2). The file is replaced atomically.
"""

from __future__ import annotations

import argparse
from typing import Any

from somacontracts import schemas
from somacontracts.cli.check import add_config, resolve
from somacontracts.cli.options import add_schemas
from somacontracts.lock import read_lock, render_lock, with_new_versions, write_lock

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "lock",
        help="record the canonical fingerprint of every new contract version",
        description=__doc__,
    )
    add_schemas(parser)
    add_config(parser)
    parser.add_argument("--check", action="store_true", help="exit 1 if the lock file would change")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Update (or with ``--check``, verify) the lock file."""
    _, root, lock_path = resolve(args)
    tree = schemas.load_tree(root)
    old = read_lock(lock_path)
    new = with_new_versions(old, tree, source=str(lock_path))
    added = sum(len(v) for v in new.fingerprints.values()) - sum(
        len(v) for v in old.fingerprints.values()
    )
    unchanged = lock_path.exists() and render_lock(new) == render_lock(old)
    if args.check:
        print(f"{lock_path}: {'up to date' if unchanged else f'{added} versions not locked'}")
        return 0 if unchanged else 1
    if unchanged:
        print(f"{lock_path}: up to date, nothing to add")
        return 0
    write_lock(lock_path, new)
    print(f"{lock_path}: locked {added} new version{'s' if added != 1 else ''}")
    return 0
