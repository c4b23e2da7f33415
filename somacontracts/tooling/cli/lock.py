"""``somacontracts lock``: record every new contract version in the lock file.

Adds each version not yet in the lock file (the schema text a registry stores for it,
and its canonical fingerprint); never changes a recorded one (an edited release is
refused with exit code 2, naming the first place it differs). A lock of format 1 is
upgraded. The file is replaced atomically.
"""

from __future__ import annotations

import argparse
from typing import Any

from somacontracts.tooling import sources
from somacontracts.tooling.check.lock import read_lock, render_lock, with_new_versions, write_lock
from somacontracts.tooling.cli.common import (
    add_config,
    add_schemas,
    command_parser,
    count,
    project_files,
)

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "lock", __doc__)
    add_schemas(parser)
    add_config(parser)
    parser.add_argument("--check", action="store_true", help="exit 1 if the lock file would change")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Update (or with ``--check``, verify) the lock file."""
    _, root, lock_path = project_files(args)
    tree = sources.load_tree(root)
    old = read_lock(lock_path)
    new = with_new_versions(old, tree, source=str(lock_path))
    added = sum(1 for n, v in new.versions.items() for k in v if k not in old.versions.get(n, {}))
    upgraded = sum(
        1 for n, v in old.versions.items() for k, entry in v.items() if entry.schema is None
    )
    unchanged = lock_path.exists() and render_lock(new) == render_lock(old)
    if args.check:
        if unchanged:
            print(f"{lock_path}: up to date")
            return 0
        news = [f"{count(added, 'new version')} not locked"] if added else []
        if upgraded:
            news.append(f"{count(upgraded, 'version')} locked by fingerprint alone")
        print(f"{lock_path}: out of date: {'; '.join(news)}; run `somacontracts lock`")
        return 1
    if unchanged:
        print(f"{lock_path}: up to date, nothing to add")
        return 0
    write_lock(lock_path, new)
    done = [f"locked {count(added, 'new version')}"] if added else []
    if upgraded:
        done.append(f"recorded the registry text of {count(upgraded, 'version')} locked before")
    print(f"{lock_path}: {'; '.join(done) or 'rewritten'}")
    return 0
