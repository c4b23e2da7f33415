"""This package's own generated models: where they live and how they are rendered."""

from __future__ import annotations

from pathlib import Path

from somacontracts import catalog, schemas
from somacontracts.codegen.render import DEFAULT_COMMAND, render_tree

__all__ = ["CUSTOM_COMMAND", "MODELS_DIR", "render_modules"]

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""Where the package's own generated models live."""

CUSTOM_COMMAND = f"{DEFAULT_COMMAND} --schemas <schemas folder> --out <this folder>"
"""The regeneration command written into models generated for another tree."""


def render_modules(schemas_dir: Path | None) -> dict[str, str]:
    """Every module for the tree at ``schemas_dir`` (default: this package's contracts)."""
    if schemas_dir is None:
        tree = schemas.load_tree(schemas.bundled_root())
        # Default topic names, not the environment's: the output must not vary by machine.
        settings = catalog.load_settings({})
        subjects = {name: settings.subjects_of(name) for name in tree if name in catalog.CONTRACTS}
        return render_tree(tree, subjects=subjects, command=DEFAULT_COMMAND)
    return render_tree(schemas.load_tree(schemas_dir), command=CUSTOM_COMMAND)
