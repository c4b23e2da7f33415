"""``somacontracts check``'s rules as a library: compatibility, lint, immutability, reports.

* :mod:`~somacontracts.check.compatibility`: each version against the ones before it, at
  the contract's level (the engine of :mod:`somacontracts.compat`);
* :mod:`~somacontracts.check.lint`: lint rules with stable ids;
* :mod:`~somacontracts.check.lock`: the lock file, what a registry stores for every
  released version; :mod:`~somacontracts.check.vcs`: versions at another git revision;
* :mod:`~somacontracts.check.findings` and :mod:`~somacontracts.check.report`: what the
  rules report and how it is printed (text, JSON, GitHub annotations, JUnit).

Pure but for the lock file and git, which are read at the edges.
"""

from somacontracts.check.compatibility import check_compatibility, check_tree
from somacontracts.check.findings import Category, Finding
from somacontracts.check.lint import RULES, LintRule, lint

__all__ = [
    "RULES",
    "Category",
    "Finding",
    "LintRule",
    "check_compatibility",
    "check_tree",
    "lint",
]
