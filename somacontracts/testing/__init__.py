"""Testing kit for services that adopt somacontracts (needs ``somacontracts[testing]``).

* :func:`models`: a hypothesis strategy of valid objects of any generated model class;
  :func:`datums` of any Avro schema; :data:`json_values` for free-form JSON fields.
* :func:`evolution_cases`: the evolution property of a schema tree, for a service to run
  on its own contracts.
* The pytest plugin (:mod:`somacontracts.testing.pytest_plugin`, registered through the
  ``pytest11`` entry point, so installed with the package): fixtures for a local schema
  registry holding the project's contracts, a Kafka broker, and typed producers and
  consumers.

The names load on first use: pytest loads the plugin in every session of a project that
installs the package, and it must not import hypothesis or the schema tree for that.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from somacontracts.testing.evolution import EvolutionCase, evolution_cases
    from somacontracts.testing.strategies import datums, json_values, models, timestamps_micros

__all__ = [
    "EvolutionCase",
    "datums",
    "evolution_cases",
    "json_values",
    "models",
    "timestamps_micros",
]

_HOMES = {
    "EvolutionCase": "somacontracts.testing.evolution",
    "evolution_cases": "somacontracts.testing.evolution",
    "datums": "somacontracts.testing.strategies",
    "json_values": "somacontracts.testing.strategies",
    "models": "somacontracts.testing.strategies",
    "timestamps_micros": "somacontracts.testing.strategies",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'somacontracts.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
