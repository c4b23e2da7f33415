"""``somacontracts check``'s rules as a library: compatibility, lint, immutability, reports.

* :mod:`~somacontracts.tooling.check.checks`: each version against the ones before it, at
  the contract's level (the engine of :mod:`somacontracts.compat`);
* :mod:`~somacontracts.tooling.check.lint`: lint rules with stable ids;
* :mod:`~somacontracts.tooling.check.lock`: the lock file, what a registry stores for every
  released version; :mod:`~somacontracts.tooling.check.vcs`: versions at another git revision;
* :mod:`~somacontracts.tooling.check.findings` and :mod:`~somacontracts.tooling.check.report`: what
  the
  rules report and how it is printed (text, JSON, GitHub annotations, JUnit).

Pure but for the lock file and git, which are read at the edges.
"""

from somacontracts.tooling.check.checks import check_compatibility, check_tree
from somacontracts.tooling.check.findings import Category, Finding
from somacontracts.tooling.check.lint import RULES, LintRule, lint

__all__ = [
    "RULES",
    "Category",
    "Finding",
    "LintRule",
    "check_compatibility",
    "check_tree",
    "lint",
]
