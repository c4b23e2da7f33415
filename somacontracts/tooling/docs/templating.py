"""The docs site's template engine: Jinja2 with autoescaping, templates in ``templates/``.

Every page, and the topic flow's SVG inside the index, is a template of the
``templates`` folder beside this module (shipped in the wheel), rendered with
autoescaping on: whatever a contract carries (a doc, a name, a default, a tag, a rule,
a subject) is text on the page, and no template marks such a value safe, so no contract
can add markup to a page. The search index goes into its ``<script
type="application/json">`` element through Jinja2's ``tojson``, which writes ``<``,
``>``, ``&`` and ``'`` as JSON escapes: no value can close the element. The style sheet
and the search script live in the same folder and are copied as they are.

Jinja2 comes with the ``docs`` extra; without it, :func:`render` raises a
:class:`~somacontracts.errors.ContractError` that names the extra.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING, Any

from somacontracts.errors import ContractError
from somacontracts.schema import NamedNode

if TYPE_CHECKING:
    import jinja2

__all__ = ["asset", "render"]

_PACKAGE = __name__.rpartition(".")[0]


@functools.cache
def _environment() -> jinja2.Environment:
    try:
        import jinja2
    except ImportError as err:
        raise ContractError(
            f"the docs site needs Jinja2 ({err}); run `pip install 'somacontracts[docs]'`"
        ) from None
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader(_PACKAGE, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    # Compact and sorted: the index's bytes do not depend on the order entries were built.
    environment.policies["json.dumps_kwargs"] = {
        "ensure_ascii": False,
        "sort_keys": True,
        "separators": (",", ":"),
    }
    environment.tests["named"] = lambda node: isinstance(node, NamedNode)
    return environment


def render(template: str, **context: Any) -> str:
    """The text of ``template`` (a file name in ``templates/``) filled with ``context``."""
    return _environment().get_template(template).render(context)


def asset(name: str) -> str:
    """The text of the file ``name`` of ``templates/``, as it is (not a template)."""
    return resources.files(_PACKAGE).joinpath("templates", name).read_text(encoding="utf-8")
