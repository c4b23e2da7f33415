"""Code generation: typed Python models from the contracts' Avro schemas.

:func:`render_tree` turns a schema tree into module sources (pure);
:func:`write_modules` and :func:`compare_modules` put them on disk or compare them;
generated modules import :mod:`somacontracts.runtime` at run time;
:mod:`somacontracts.tooling.codegen.names` says how Avro names become safe Python names. Types
may nest :data:`MAX_NESTING` levels deep for codegen, fewer than the schema model reads.
"""

from somacontracts.tooling.codegen.declarations import MAX_NESTING, CodegenError
from somacontracts.tooling.codegen.render import render_contract, render_tree
from somacontracts.tooling.codegen.writer import Difference, compare_modules, write_modules

__all__ = [
    "MAX_NESTING",
    "CodegenError",
    "Difference",
    "compare_modules",
    "render_contract",
    "render_tree",
    "write_modules",
]
