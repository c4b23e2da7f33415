"""``ContractSerializer``: typed objects to Confluent-framed Avro, refusing what readers refuse."""

from __future__ import annotations

import dataclasses
import io
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import SerializationContext
from fastavro import schemaless_writer

from somacontracts.errors import (
    RegistryError,
    RulesMissingError,
    SerializationError,
    WriteRuleError,
    count,
)
from somacontracts.serde.contract_model import M, model_schema
from somacontracts.serde.framing import HEADER, MAGIC, header_name, id_header_value
from somacontracts.serde.registered import RegistryUser, contract_gaps, encrypting_rules, registered
from somacontracts.serde.registry_client import url_of
from somacontracts.serde.subjects import SubjectNameStrategy, Subjects
from somacontracts.serde.values import value_problem

if TYPE_CHECKING:
    from somacontracts.serde.options import RuleOptions
    from somacontracts.serde.rules import Rules

__all__ = ["ContractSerializer"]


@dataclass(frozen=True, slots=True)
class _Target:
    """Where messages of a subject go: the frame header of the model's schema id there
    (empty when the id goes in a message header), and the Data Contract rules that
    version carries (None: none to run on write)."""

    header: bytes
    rules: Rules | None
    id_header: bytes | None = None
    """The value of the message header naming the schema by its GUID, if asked for."""


class ContractSerializer(RegistryUser, Generic[M]):
    """Serialize ``model`` objects to Confluent-framed Avro; a confluent-kafka serializer.

    ``registry`` is a ``SchemaRegistryClient`` or its URL. The subject is ``subject``, else
    what ``subject_name_strategy`` names for the context (confluent-kafka's strategies;
    default ``<ctx.topic>-value``), else, called without a context, the model's ``SUBJECT``.
    Consumers must name it alike: encrypted fields' data keys are kept per subject.

    An object is written only if every reader reads it back equal (up to the stamped
    ``metadata.schema_version``): a value of the wrong type, or one the schema cannot
    carry, is a :class:`SerializationError` naming the field path and the value's type.

    The Data Contract rules registered with the model's schema version run on every
    object (see :mod:`somacontracts.serde.rules`): tagged fields are encrypted by ENCRYPT
    rules, CEL conditions are checked; a refusal is a :class:`WriteRuleError`.
    ``rules`` configures them (the KMS configuration of ENCRYPT rules).

    With ``schema_id_in_header=True`` the schema is named as confluent-kafka's
    ``header_schema_id_serializer`` names it: its GUID in the ``__value_schema_id`` header
    (``__key_schema_id`` for a key) appended to ``ctx.headers`` (a list, or a dict), and
    the value is the Avro encoding alone. The registry must give GUIDs (Confluent Platform
    8, or this package's); readers must read headers (confluent-kafka 2.13 and later,
    :class:`ContractDeserializer`).
    """

    def __init__(
        self,
        model: type[M],
        registry: SchemaRegistryClient | str,
        *,
        subject: str | None = None,
        subject_name_strategy: SubjectNameStrategy | None = None,
        auto_register: bool = False,
        warm_up: bool = True,
        rules: RuleOptions | None = None,
        schema_id_in_header: bool = False,
    ) -> None:
        super().__init__(registry, rules)
        self.model = model
        self._subjects = Subjects(subject, subject_name_strategy)
        self._auto_register = auto_register
        self._id_in_header = schema_id_in_header
        self._schema = model_schema(model)
        self._targets: dict[str, _Target] = {}
        self._topic_targets: dict[str | None, _Target] = {}
        self._writes_itself = self._schema.codec
        self._own_class: Any = model  # compared by identity: subclasses take the general path
        self._stamps = self._schema.stamps_version
        self._version = model.SCHEMA_VERSION
        if warm_up:
            self._warm_up_or_close()

    def warm_up(self) -> None:
        """Resolve the schema id for every subject of the model now, and make ready what its
        rules need (their packages, the data key of encrypted fields); raise if one is
        missing."""
        for subject in self._subjects.of_topics(self.model.SUBJECTS, self._schema.full_name):
            self._target(subject)

    def _target(self, subject: str) -> _Target:
        target = self._targets.get(subject)
        if target is None:
            found = registered(self._client, self.model, subject, register=self._auto_register)
            header = HEADER.pack(MAGIC, found.schema_id)
            gaps = contract_gaps(self._schema, found)
            if gaps and gaps[0].endswith(" (changed)"):
                raise self._missing(
                    subject,
                    [gap.removesuffix(" (changed)") for gap in gaps],
                    "differs in the version registered at {url} (the registry changed it, or "
                    "the version was registered with another)",
                )
            if gaps:
                raise self._missing(
                    subject,
                    gaps,
                    "is missing from the version registered at {url} (the registry dropped "
                    "it, or the version was registered without it)",
                )
            id_header = None
            if self._id_in_header:
                if found.guid is None:
                    raise RegistryError(
                        url_of(self._client),
                        f"schema id {found.schema_id} under {subject} has no GUID, which a "
                        "schema id in a message header needs (Confluent Platform 8)",
                    )
                header, id_header = b"", id_header_value(uuid.UUID(found.guid))
            rules = self._rules_of(found.schema, self._schema.forms, subject, write=True)
            for name in encrypting_rules(self._schema):
                if rules is None or name not in rules.names:
                    raise self._missing(
                        subject,
                        [f'rule "{name}"'],
                        "does not run on write with the version registered at {url} "
                        "(disabled or replaced there)",
                    )
            if rules is not None:
                rules.prepare(self._schema.label)
            target = self._targets[subject] = _Target(header, rules, id_header)
        return target

    def _missing(self, subject: str, parts: list[str], why: str) -> RulesMissingError:
        """The refusal to write for ``subject``, whose registered version lacks ``parts``
        of the model's repository version; ``why`` says how, ``{url}`` the registry."""
        encrypted = encrypting_rules(self._schema)
        if parts[0] == "rule set":  # all of it: name the rules that matter most
            _, rule_set = self._schema.contract or (None, None)
            rules = [*encrypted, *(r["name"] for r in (rule_set or {}).get("domainRules", []))]
            parts = [f'rule "{name}"' for name in dict.fromkeys(rules)] or parts
        # Which fields go out unencrypted: those of the rules missing, and every one when a
        # part their tags may come from (the metadata) is.
        covered = [
            field
            for name, fields in encrypted.items()
            if f'rule "{name}"' in parts or any(p.startswith(("metadata", "tags")) for p in parts)
            for field in fields
        ]
        stake = (
            f"{', '.join(dict.fromkeys(covered))} would go out in plain text"
            if covered
            else "its rules would not run"
        )
        more = f" (and {count(len(parts) - 1, 'other part')})" if len(parts) > 1 else ""
        return RulesMissingError(
            self._schema.label,
            subject,
            parts[0] + more,
            f"of version {self.model.SCHEMA_VERSION} {why.format(url=url_of(self._client))}: "
            f"nothing is written, else {stake}",
        )

    def _topic_target(self, ctx: SerializationContext | None) -> _Target:
        """Where messages to the context's topic go, cached per topic."""
        topic = ctx.topic if ctx is not None else None
        default = self.model.SUBJECT if ctx is None and not self._subjects.subject else ""
        subject = self._subjects.of(ctx, self._schema.full_name, default)
        try:
            target = self._target(subject)
        except RegistryError as err:
            raise SerializationError(str(err), topic=topic) from err
        self._topic_targets[topic] = target
        return target

    def __call__(self, obj: M | None, ctx: SerializationContext | None = None) -> bytes | None:
        """The framed bytes of ``obj`` (None for None, Kafka's tombstone)."""
        if obj is None:  # before the registry: a tombstone needs no schema id
            return None
        topic = ctx.topic if ctx is not None else None
        target = self._topic_targets.get(topic) or self._topic_target(ctx)
        if target.id_header is not None:
            return self._with_id_header(obj, target, ctx)
        return self._encoded(obj, target, topic, ctx)

    def _encoded(
        self, obj: M, target: _Target, topic: str | None, ctx: SerializationContext | None
    ) -> bytes:
        """``obj`` written after ``target``'s frame header, its rules run."""
        header = target.header
        if target.rules is not None:
            return self._write_with_rules(obj, target.rules, header, topic, ctx)
        coded: Any = obj  # a generated model, when the checks below hold
        if self._writes_itself and coded.__class__ is self._own_class:
            # The usual object: the model's own class, its version already stamped.
            out = bytearray(header)
            try:
                if not self._stamps or coded.metadata.schema_version == self._version:
                    coded.write_avro(out)
                    return bytes(out)
            except Exception as err:  # the codec refuses bad values with several types
                raise self._refusal(obj, err, topic) from err
        return self._write_checked(obj, header, topic)

    def _with_id_header(self, obj: M, target: _Target, ctx: SerializationContext | None) -> bytes:
        """The Avro encoding of ``obj``; its schema's GUID appended to ``ctx.headers``."""
        topic = ctx.topic if ctx is not None else None
        headers = ctx.headers if ctx is not None else None
        if not isinstance(headers, (list, dict)):
            raise SerializationError(
                "a schema id in a message header needs the message's headers: give the "
                "serialization context a list (or dict) of headers",
                topic=topic,
            )
        data = self._encoded(obj, target, topic, ctx)
        assert target.id_header is not None
        if isinstance(headers, list):
            headers.append((header_name(ctx), target.id_header))
        else:
            headers[header_name(ctx)] = target.id_header
        return data

    def _checked(self, obj: M, topic: str | None) -> Any:
        """``obj`` checked value by value, its version stamped."""
        if not isinstance(obj, self.model):
            raise SerializationError(
                f"expected a {self.model.__name__}, got {type(obj).__name__}", topic=topic
            )
        problem = value_problem(self.model, obj, self._schema.label)
        if problem is not None:
            raise SerializationError(problem, topic=topic)
        coded: Any = obj
        if self._stamps and coded.metadata.schema_version != self._version:
            stamped = dataclasses.replace(coded.metadata, schema_version=self._version)
            coded = dataclasses.replace(coded, metadata=stamped)
        return coded

    def _write_with_rules(
        self,
        obj: M,
        rules: Rules,
        header: bytes,
        topic: str | None,
        ctx: SerializationContext | None,
    ) -> bytes:
        """Run the version's rules on ``obj``'s datum, then write the datum."""
        coded: Any = obj
        # Rules see only values every reader reads: the model's codec refuses the others
        # (and is much cheaper than checking value by value); other objects are checked.
        own = self._writes_itself and coded.__class__ is self._own_class
        try:
            own = own and (not self._stamps or coded.metadata.schema_version == self._version)
            if own:
                coded.write_avro(bytearray())
        except Exception as err:  # the codec refuses bad values with several types
            raise self._refusal(obj, err, topic) from err
        if not own:
            coded = self._checked(obj, topic)
        from somacontracts.serde.outcomes import RuleRefusal

        try:
            datum = rules.apply(coded.to_avro(), ctx)
        except RuleRefusal as refusal:
            raise refusal.failure.error(WriteRuleError, self._schema.label, topic) from None
        except Exception as err:  # to_avro of an object with values of the wrong type
            raise self._refusal(obj, err, topic) from err
        buffer = io.BytesIO()
        buffer.write(header)
        try:
            schemaless_writer(buffer, self._schema.parsed, datum)
        except Exception as err:  # fastavro raises many types for one cause: bad data.
            raise self._refusal(obj, err, topic) from err
        return buffer.getvalue()

    def _write_checked(self, obj: M, header: bytes, topic: str | None) -> bytes:
        """Check ``obj`` value by value, stamp its version, then write it."""
        coded = self._checked(obj, topic)
        schema = self._schema
        try:
            if self._writes_itself:
                out = bytearray(header)
                self.model.write_avro(coded, out)  # type: ignore[attr-defined]
                return bytes(out)
            buffer = io.BytesIO()
            buffer.write(header)
            schemaless_writer(buffer, schema.parsed, coded.to_avro())
        except Exception as err:  # fastavro raises many types for one cause: bad data.
            raise self._refusal(obj, err, topic) from err
        return buffer.getvalue()

    def _refusal(self, obj: M, err: Exception, topic: str | None) -> SerializationError:
        """The error for ``obj``, which ``err`` stopped: its path and offending value."""
        schema = self._schema
        try:
            problem = value_problem(self.model, obj, schema.label)
        except Exception:  # the explanation must never hide the refusal itself
            problem = None
        if problem is None:
            problem = f"{schema.label} cannot be written: {type(err).__name__}: {err}"
        return SerializationError(problem, topic=topic)
