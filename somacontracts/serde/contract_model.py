"""The payload classes the serdes take: the protocol a class provides (generated models
do), and its schema parsed once, in fastavro's form and in the one schema model's.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, TypeVar

from fastavro import parse_schema

if TYPE_CHECKING:
    from somacontracts.schema.graph import FieldNode, Node, ParsedSchema

__all__ = [
    "ContractModel",
    "M",
    "ModelSchema",
    "SchemaForms",
    "model_schema",
    "stamped_version",
    "version_field",
]


class ContractModel(Protocol):
    """What the serdes need of a payload class; generated models provide it."""

    SCHEMA: ClassVar[dict[str, Any]]
    SCHEMA_VERSION: ClassVar[int]
    SUBJECT: ClassVar[str]
    SUBJECTS: ClassVar[tuple[str, ...]]
    FINGERPRINT: ClassVar[str]

    def to_avro(self) -> dict[str, Any]:
        """The datum fastavro writes."""
        ...

    @classmethod
    def from_avro(cls, datum: Mapping[str, Any]) -> Self:
        """The object of a datum fastavro read."""
        ...


M = TypeVar("M", bound=ContractModel)


@dataclass(frozen=True, slots=True)
class SchemaForms:
    """A schema in the two forms the serdes use: fastavro's parsed form, which its codec
    and confluent-kafka's rule executors take, and the root of the one schema model's graph
    (:mod:`somacontracts.schema`), which everything that walks the schema reads."""

    fastavro: Any
    node: Node


@dataclass(frozen=True, slots=True)
class ModelSchema:
    """A model's schema, parsed once."""

    @property
    def forms(self) -> SchemaForms:
        """The model's schema in both parsed forms."""
        return SchemaForms(self.parsed, self.node)

    parsed: Any
    """fastavro's parsed form of the model's schema, for its readers and writers."""
    node: Node
    """The root of the model's schema in the one schema model."""
    text: str
    stamps_version: bool
    """Whether the schema has ``metadata.schema_version``, which the serializer stamps."""
    codec: bool
    """Whether the model encodes and decodes itself (generated ``write_avro``/``read_avro``)."""
    label: str
    """How messages name the model: its record's short name, ``ToolInvocation``."""
    full_name: str
    """Its record's full name, which subject name strategies take."""
    schema_model: ParsedSchema | None = None
    """The model's schema parsed by the one schema model, its shared types included."""
    contract: tuple[Any, Any] | None = None
    """The Data Contract parts (metadata, rule set) of the model's repository version, which
    generated models carry as ``DATA_CONTRACT``; None when it has none."""
    shared: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """The shared types the schema uses (``REFERENCES`` of a generated model), each after
    those it references; empty for a schema that defines every type it uses."""
    used: tuple[str, ...] = ()
    """The full names of the shared types the schema itself names: its references."""


@functools.cache
def model_schema(model: type[ContractModel]) -> ModelSchema:
    """The parsed schema of a model class, computed once per class (when a serde of it is
    made: the schema model loads then, not when a service imports its models)."""
    from somacontracts.schema import parse, standalone
    from somacontracts.serde.references import reference_nodes

    shared: Mapping[str, Any] = getattr(model, "REFERENCES", None) or {}
    schema_model = parse(model.SCHEMA, source=model.__name__, shared=reference_nodes(shared))
    node = schema_model.root
    parsed: Any = parse_schema(standalone(schema_model) if shared else model.SCHEMA)
    return ModelSchema(
        parsed=parsed,
        node=node,
        schema_model=schema_model,
        shared=shared,
        used=tuple(sorted(schema_model.references)),
        text=json.dumps(model.SCHEMA, separators=(",", ":"), ensure_ascii=False),
        stamps_version=version_field(node) is not None,
        codec=callable(getattr(model, "write_avro", None))
        and callable(getattr(model, "read_avro", None)),
        label=str(model.SCHEMA.get("name", model.__name__)).rpartition(".")[2],
        full_name=str(parsed["name"]),  # fastavro gives the record its full name
        contract=_contract_of(model),
    )


def _contract_of(model: type[ContractModel]) -> tuple[Any, Any] | None:
    """``model``'s ``DATA_CONTRACT`` as (metadata, rule set); None without one."""
    parts = getattr(model, "DATA_CONTRACT", None)
    if not isinstance(parts, Mapping) or not parts:
        return None
    return parts.get("metadata"), parts.get("ruleSet")


def version_field(root: Node) -> FieldNode | None:
    """A schema's ``metadata.schema_version`` field, where the contract version a message
    was written with is stamped; None if it has none."""
    from somacontracts.schema.graph import RecordNode

    if not isinstance(root, RecordNode):
        return None
    metadata = root.by_name.get("metadata")
    if metadata is None or not isinstance(metadata.node, RecordNode):
        return None
    return metadata.node.by_name.get("schema_version")


def stamped_version(root: Node) -> int | None:
    """The contract version a schema stamps on its messages: the default of its
    ``metadata.schema_version`` field, if it has one that is a whole number."""
    field = version_field(root)
    if field is None or not field.has_default or type(field.default) is not int:
        return None
    return field.default
