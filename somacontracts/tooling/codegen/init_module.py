"""The models package's ``__init__``: every module's exports under one import.

A name several modules export is imported once when it is one class everywhere (a
shared type, or a type several contracts define alike: :mod:`.owners`), from the module
that defines it; names that are different classes in different modules are left to
their modules, and the ``__init__`` says which. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from somacontracts.tooling.codegen import templates
from somacontracts.tooling.codegen.pysource import (
    all_key,
    all_lines,
    comment_lines,
    docstring_lines,
    import_key,
    line_length,
)

__all__ = ["render_init"]


def render_init(
    exports: Mapping[str, Mapping[str, tuple[str, str]]], *, root: str, command: str
) -> str:
    """Source of the ``__init__`` of the modules ``exports``: module -> exported name ->
    the class it is (the module defining it, its name there)."""
    classes: dict[str, set[tuple[str, str]]] = {}
    for exported in exports.values():
        for name, identity in exported.items():
            classes.setdefault(name, set()).add(identity)
    clashing = sorted(n for n, found in classes.items() if len(found) > 1)
    source: dict[str, str] = {}
    for module in sorted(exports):
        for name in exports[module]:
            if name in clashing:
                continue
            (owner, _), *_ = classes[name]
            if name not in source or module == owner:
                source[name] = module
    lines = comment_lines(templates.INIT_HEADER.format(root=root, command=command))
    examples = sorted(name for name in classes if f"{name}V1" in classes)
    doc = templates.INIT_DOC.format(example=examples[0]) if examples else templates.INIT_DOC_PLAIN
    lines += docstring_lines([doc], 0)
    everything: list[str] = []
    imports: list[str] = []
    for module in sorted(exports):
        members = sorted((n for n in exports[module] if source.get(n) == module), key=import_key)
        if not members:
            continue
        everything += members
        inline = f"from .{module} import {', '.join(members)}"
        if len(inline) <= line_length():
            imports.append(inline)
        else:
            imports += [f"from .{module} import (", *(f"    {m}," for m in members), ")"]
    if imports:
        lines += ["", *imports]
    if clashing:
        skipped = templates.SKIPPED_EXPORTS.format(names=", ".join(clashing))
        lines += ["", *comment_lines(skipped)]
    lines += ["", *all_lines(sorted(everything, key=all_key))]
    return "\n".join(lines) + "\n"
