"""Testing kit for services that adopt somacontracts (needs ``somacontracts[testing]``).

* :func:`models`: a hypothesis strategy of valid objects of any generated model class;
  :func:`datums` of any Avro schema; :data:`json_values` for free-form JSON fields.
* :func:`evolution_cases`: the evolution property of a schema tree, for a service to run
  on its own contracts.
* The pytest plugin (:mod:`somacontracts.tooling.testing.pytest_plugin`, registered through the
  ``pytest11`` entry point, so installed with the package): fixtures for a local schema
  registry holding the project's contracts, a Kafka broker, and typed producers and
  consumers.

The names load on first use: pytest loads the plugin in every session of a project that
installs the package, and it must not import hypothesis or the schema tree for that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from somacontracts import lazy_exports

if TYPE_CHECKING:
    from somacontracts.tooling.testing.evolution import EvolutionCase, evolution_cases
    from somacontracts.tooling.testing.strategies import (
        datums,
        json_values,
        models,
        timestamps_micros,
    )

__all__ = [
    "EvolutionCase",
    "datums",
    "evolution_cases",
    "json_values",
    "models",
    "timestamps_micros",
]

_HOMES = {
    "EvolutionCase": "somacontracts.tooling.testing.evolution",
    "evolution_cases": "somacontracts.tooling.testing.evolution",
    "datums": "somacontracts.tooling.testing.strategies",
    "json_values": "somacontracts.tooling.testing.strategies",
    "models": "somacontracts.tooling.testing.strategies",
    "timestamps_micros": "somacontracts.tooling.testing.strategies",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
