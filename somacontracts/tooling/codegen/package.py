"""The models of a project's schema tree: rendered with the subjects its configuration names.

``somacontracts codegen`` writes them and ``somacontracts check`` compares them with the
folder the configuration names (``[tool.somacontracts] models``): both render here, so
they agree on every byte, headers included.
"""

from __future__ import annotations

from pathlib import Path

from somacontracts.tooling import sources
from somacontracts.tooling.codegen.pysource import DEFAULT_LINE_LENGTH
from somacontracts.tooling.codegen.render import DEFAULT_COMMAND, render_tree
from somacontracts.tooling.configuration import ProjectConfig

__all__ = ["CUSTOM_COMMAND", "render_modules", "render_project"]

CUSTOM_COMMAND = f"{DEFAULT_COMMAND} --schemas <schemas folder> --out <this folder>"
"""The regeneration command written into models generated outside a configured folder."""


def render_project(
    tree: dict[str, sources.ContractSchemas], config: ProjectConfig, *, out: Path | None = None
) -> dict[str, str]:
    """Every module of the models of ``tree``, with the subjects ``config`` gives each contract.

    Subjects come from ``[tool.somacontracts.subjects]``, else (for this package's own
    contracts) from the catalog's default topic names, never from the environment: the
    output must not vary by machine. The header says to regenerate with
    ``somacontracts codegen`` when ``out`` is the configured folder of models.
    """
    subjects = {
        name: config.subjects_of(name, environ={})
        for name in tree
        if name in config.subjects or name in config.catalog.contracts
    }
    configured = config.models is not None and (
        out is None or out.resolve() == config.models.resolve()
    )
    return render_tree(
        tree,
        subjects=subjects,
        command=DEFAULT_COMMAND if configured else CUSTOM_COMMAND,
        line_length=config.line_length,
    )


def render_modules(schemas_dir: Path, *, line_length: int = DEFAULT_LINE_LENGTH) -> dict[str, str]:
    """Every module for the tree at ``schemas_dir``, with no subjects: models for tests."""
    return render_tree(
        sources.load_tree(schemas_dir), command=CUSTOM_COMMAND, line_length=line_length
    )
