"""Releases: the next version from the contract changes, the changelog, the distributions.

:mod:`~somacontracts.tooling.release.bump` decides the version (pure);
:mod:`~somacontracts.tooling.release.project` writes it and the changelog;
:mod:`~somacontracts.tooling.release.distributions` builds, checks and tries the sdist and
wheel; :mod:`~somacontracts.tooling.release.git` asks git and tags. ``somacontracts
release`` runs them.
"""
