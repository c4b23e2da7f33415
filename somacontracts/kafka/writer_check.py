"""A producer's writer schema against the live readers of its topic (consumer-driven
contracts, :mod:`somacontracts.kafka.readers`): which readers cannot read what it writes,
by the verdicts of the compatibility engine, and what a typed producer does about them at
start-up."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from confluent_kafka.schema_registry import SchemaRegistryClient

from somacontracts.errors import ContractError
from somacontracts.kafka.readers import Reader, list_readers, replaced_grace

if TYPE_CHECKING:
    from somacontracts.catalog.environment import Settings
    from somacontracts.compat.results import CompatibilityResult
    from somacontracts.serde.contract_model import ContractModel

__all__ = ["WriterCheck", "check_writer", "unreadable_by"]

LOG = logging.getLogger("somacontracts.readers")


def unreadable_by(
    writer_schema: Any, readers: Iterable[Reader]
) -> list[tuple[Reader, CompatibilityResult]]:
    """The readers that cannot read every datum ``writer_schema`` writes, with why, by
    Apache Avro Java's verdicts (the engine of the compatibility levels)."""
    from somacontracts.compat.engine import check_reader_writer
    from somacontracts.schema import parse

    writer = parse(writer_schema, source="writer schema")
    broken = []
    for reader in readers:
        result = check_reader_writer(reader.schema, writer)
        if not result.compatible:
            broken.append((reader, result))
    return broken


WriterCheck = Literal["warn", "error", "off"]
"""What a producer does at start-up when a live reader cannot read what it writes."""


def check_writer(
    client: SchemaRegistryClient,
    settings: Settings,
    model: type[ContractModel],
    *,
    topic: str,
    subject: str,
    label: str,
    mode: WriterCheck,
) -> list[str]:
    """What a typed producer of ``model`` does at start-up: the live readers of ``subject``
    (on ``topic``) that cannot read its schema, each as ``group (service, vN): why``.
    ``"warn"`` logs them, ``"error"`` raises
    :class:`~somacontracts.kafka.errors.ReaderBrokenError`; no reader registered costs one
    registry call and no Kafka call."""
    from somacontracts.kafka.errors import ReaderBrokenError
    from somacontracts.kafka.liveness import group_liveness

    if mode == "off":
        return []
    try:
        readers = list_readers(client, [subject], replaced_within=replaced_grace())
        if not readers:
            return []
        live = group_liveness(settings, topic, [r.group for r in readers])
    except ContractError as err:
        if mode == "error":
            raise
        LOG.warning("the readers of %s were not checked: %s", subject, err)
        return []
    from somacontracts.schema import standalone
    from somacontracts.serde.contract_model import model_schema

    writer_schema = standalone(model_schema(model).schema_model)
    broken = unreadable_by(writer_schema, [r for r in readers if live[r.group].live])
    found = [f"{r.label()}: {result.problems[0]}" for r, result in broken]
    if found and mode == "error":
        raise ReaderBrokenError(topic, label, tuple(found))
    for line in found:
        LOG.warning("%s on %s cannot be read by live reader %s", label, topic, line)
    return found
