"""The registry subject of a message: where its schema is registered, and the subject its
encrypted fields' data keys (DEKs) are kept under.

confluent-kafka names it with a subject name strategy, a callable ``(ctx, record_name)``:
``topic_subject_name_strategy`` (``<topic>-value``, the default),
``record_subject_name_strategy`` (the record's full name) or
``topic_record_subject_name_strategy`` (``<topic>-<record>``), all importable from
``confluent_kafka.schema_registry``; any callable of that shape serves. An explicit
``subject`` wins over the strategy. A producer and its consumers must choose alike: a
reader finds the data keys of a message only under the subject its writer encrypted under.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka.schema_registry import topic_subject_name_strategy
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.errors import ConfigurationError

__all__ = ["SubjectNameStrategy", "Subjects"]

SubjectNameStrategy = Callable[[SerializationContext | None, str | None], str | None]
"""confluent-kafka's shape of a subject name strategy: (context, record full name) -> subject."""


@dataclass(frozen=True, slots=True)
class Subjects:
    """How a serde names the subject of a message: ``subject`` if given, else ``strategy``."""

    subject: str | None = None
    strategy: SubjectNameStrategy | None = None
    """Default: confluent-kafka's ``topic_subject_name_strategy``."""

    def of(self, ctx: SerializationContext | None, record_name: str, default: str) -> str:
        """The subject of a message of ``record_name`` in ``ctx``; ``default`` when the
        strategy needs a context and there is none."""
        if self.subject:
            return self.subject
        try:
            found = (self.strategy or topic_subject_name_strategy)(ctx, record_name)
        except Exception as err:  # a strategy of the caller's: any error is a bad setting
            if ctx is None:
                return default  # confluent's topic strategies refuse a missing context
            raise ConfigurationError(
                "subject_name_strategy", f"failed for topic {ctx.topic!r}: {err}"
            ) from err
        if not isinstance(found, str) or not found:
            raise ConfigurationError(
                "subject_name_strategy", f"gave no subject for record {record_name!r}"
            )
        return found

    def of_topics(self, subjects: Sequence[str], record_name: str) -> tuple[str, ...]:
        """The subjects a model's messages go to on the topics of its default ``subjects``
        (``<topic>-value``): what a serde checks at start-up."""
        if self.subject:
            return (self.subject,)
        named = (
            self.of(
                SerializationContext(s.removesuffix("-value"), MessageField.VALUE), record_name, s
            )
            for s in subjects
        )
        return tuple(dict.fromkeys(named))
