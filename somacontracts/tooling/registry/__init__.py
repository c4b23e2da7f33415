"""A local, single-node schema registry speaking Confluent Schema Registry's REST API.

Production runs Confluent Schema Registry (or a compatible one); laptops and CI run
this one, so that the same client code and tests work against both. It serves Avro
only, keeps its state in SQLite and checks compatibility with
:mod:`somacontracts.compat`.

>>> from somacontracts.tooling.registry import LocalRegistry
>>> with LocalRegistry() as registry:  # doctest: +SKIP
...     registry.url
'http://127.0.0.1:...'
"""

from somacontracts.tooling.registry.errors import ApiError, RegistryStoreError
from somacontracts.tooling.registry.local import (
    CONTENT_TYPE,
    LocalRegistry,
    RegistryServerError,
    serve,
)
from somacontracts.tooling.registry.service import Registry
from somacontracts.tooling.registry.store import RegistryStore

__all__ = [
    "CONTENT_TYPE",
    "ApiError",
    "LocalRegistry",
    "Registry",
    "RegistryServerError",
    "RegistryStore",
    "RegistryStoreError",
    "serve",
]
