"""``somacontracts codegen``: generate the typed model modules from the contract schemas.

Writes one module per contract (a dataclass per record, a StrEnum per enum, of every
version) and the package's ``__init__.py`` into ``--out`` (default: ``models`` of
``[tool.somacontracts]``; with neither, the command stops: it never writes into an
installed package). The schemas come from ``--schemas`` (default: ``schemas`` of the
configuration), the registry subjects of each class from the configuration's
``[tool.somacontracts.subjects]``. With ``--check`` nothing is written: exit code 1 and
a list of files when the folder differs from what the schemas produce. Modules are
replaced only inside that folder (one that is a link leading out of it stops the run
before any file is written, exit code 2); the only files removed are stale modules, the
regular files that start with the generated header and that no schema produces (a link
is left in place, with a warning).

Generated modules import only the standard library and ``somacontracts.runtime``. A
schema the generator cannot express stops the run before any file is written: one line
naming the file and JSON location, exit code 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from somacontracts.errors import ConfigurationError
from somacontracts.tooling import sources
from somacontracts.tooling.cli.common import (
    add_config,
    add_schemas,
    command_parser,
    count,
    project_files,
    warn,
)
from somacontracts.tooling.codegen.package import render_project
from somacontracts.tooling.codegen.render import DEFAULT_COMMAND
from somacontracts.tooling.codegen.writer import compare_modules, write_modules
from somacontracts.tooling.configuration import find_config

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "codegen", __doc__)
    add_schemas(parser)
    add_config(parser)
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder of the generated package (default: models of [tool.somacontracts])",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the generated files differ from what the schemas produce",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Render every contract, then write the modules or compare them."""
    config, root, _ = project_files(args)
    out: Path | None = args.out if args.out is not None else config.models
    if out is None:
        where = args.config or find_config(Path.cwd()) or "pyproject.toml"
        raise ConfigurationError(
            "--out",
            f'is needed: no folder of models is configured ([tool.somacontracts] models = "..." '
            f"in {where})",
        )
    modules = render_project(sources.load_tree(root), config, out=out)
    if args.check:
        differences = compare_modules(modules, out)
        for difference in differences:
            print(f"out of date  {difference}")
        if differences:
            verb = "differs" if len(differences) == 1 else "differ"
            print(f"{count(len(differences), 'generated file')} {verb}; run `{DEFAULT_COMMAND}`")
            return 1
        print(f"{count(len(modules), 'generated file')} up to date in {out}")
        return 0
    differences, kept = write_modules(modules, out)
    for difference in differences:
        print(f"{'removed' if difference.kind == 'stale' else 'wrote'}  {difference.path}")
    for entry in kept:
        warn("codegen", entry)
    print(f"{count(len(modules), 'generated file')} in {out}")
    return 0
