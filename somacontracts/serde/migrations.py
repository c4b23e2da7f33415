"""Reading data of another major version: the migration rules between compatibility groups.

A breaking change to a contract is a new major version (the metadata property
``application.major.version``, Confluent's compatibility groups): the registry checks
each version only against those of its own major version, and the versions carry
migration rules that translate a message between majors (JSONata expressions, ``UPGRADE``
from the version before, ``DOWNGRADE`` back to it). A reader of another major version
runs them on read, as confluent-kafka's deserializer does:

- the subject's versions from the writer's to the reader's are fetched once;
- reading newer data, each later version's ``UPGRADE`` rules run in order; reading older
  data, each newer version's ``DOWNGRADE`` rules run, newest first;
- the rules run through confluent-kafka's executors (``JSONATA``), so an expression means
  what it means there.

Imported only by a deserializer that meets a writer of another major version.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

from confluent_kafka.schema_registry import RegisteredSchema, Schema, SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.schema.datacontract import major_version
from somacontracts.serde.outcomes import RuleFailure, one_line
from somacontracts.serde.registry_client import call
from somacontracts.serde.rules import RuleRunner

__all__ = ["Migration", "majors_differ", "migration_path"]

_NO_CONTEXT = SerializationContext("", MessageField.VALUE)


@dataclass(frozen=True, slots=True)
class Migration:
    """One step between two neighbouring versions of a subject."""

    upgrade: bool
    source: Schema
    """The version the message is in before the step."""
    target: Schema
    """The version it is in after."""

    def run(self, datum: Any, ctx: SerializationContext | None, runner: RuleRunner) -> Any:
        """``datum`` after this step's migration rules."""
        from confluent_kafka.schema_registry.common.schema_registry_client import (
            RuleMode as ConfluentMode,
        )
        from confluent_kafka.schema_registry.serde import RuleContext

        owner = self.target if self.upgrade else self.source
        rule_set = owner.rule_set
        rules = list(rule_set.migration_rules or []) if rule_set is not None else []
        if not self.upgrade:
            rules.reverse()
        mode = ConfluentMode.UPGRADE if self.upgrade else ConfluentMode.DOWNGRADE
        for index, rule in enumerate(rules):
            if rule.disabled or str(rule.mode) not in (str(mode), "UPDOWN"):
                continue
            executor = runner.executor((rule.type or "").upper())
            if executor is None:
                raise RuleFailure(f'no executor for migration rule type "{rule.type}"')
            context = RuleContext(
                rule_set.enable_at if rule_set is not None else None,
                ctx or _NO_CONTEXT,
                self.source,
                self.target,
                "",
                mode,
                rule,
                index,
                rules,
                None,
                None,
                None,
                datum,
            )
            try:
                datum = executor.transform(context, datum)
            except Exception as err:  # an executor's failure, whatever its type
                raise RuleFailure(
                    f'migration rule "{rule.name}" failed: '
                    f"{one_line(f'{type(err).__name__}: {err}')}"
                ) from err
        return datum


def migration_path(
    client: SchemaRegistryClient, subject: str, writer: RegisteredSchema, reader: RegisteredSchema
) -> list[Migration]:
    """The steps that take a message of ``writer``'s version to ``reader``'s, under
    ``subject``: one per neighbouring pair whose newer version has migration rules."""
    first, last = writer.version, reader.version
    if first is None or last is None or first == last:
        return []
    low, high = min(first, last), max(first, last)
    versions = [(writer if first == low else reader).schema]
    for number in range(low + 1, high):
        found = call(client, functools.partial(client.get_version, subject, number, True))
        # By id, not as the version: confluent-kafka caches a lookup's answer as the
        # version, without its metadata and rules.
        assert found.schema_id is not None  # every version has an id
        versions.append(call(client, functools.partial(client.get_schema, found.schema_id)))
    versions.append((reader if last == high else writer).schema)
    steps = []
    for older, newer in itertools.pairwise(versions):
        if newer.rule_set is None or not newer.rule_set.migration_rules:
            continue
        if first < last:
            steps.append(Migration(True, older, newer))
        else:
            steps.append(Migration(False, newer, older))
    if first > last:
        steps.reverse()
    return steps


def majors_differ(writer: Schema, reader: Schema) -> bool:
    """Whether two registered versions belong to different major versions."""
    return major_version(_metadata(writer)) != major_version(_metadata(reader))


def _metadata(schema: Schema) -> Any:
    metadata = schema.metadata
    return None if metadata is None else metadata.to_dict()
