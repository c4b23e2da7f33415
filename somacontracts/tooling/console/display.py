"""What the console commands do with Kafka: read a topic's messages as the platform's plain
JSON, and turn plain-JSON lines into typed objects to produce.

:func:`contract_of_topic` finds the catalog contract a topic (or its ``.dlq`` topic)
carries; :func:`describe` turns one raw message into a printable record (its place, key,
timestamp, how it names its schema, writer's schema version and value as plain JSON, or
why it did not decode, and the ``dlq.*`` headers of a dead letter); :func:`parse_lines`
validates input lines into objects of the contract's class, each problem naming its line
and field; :func:`read` yields a topic's raw messages from where asked, without committing.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    OFFSET_STORED,
    Consumer,
    Message,
    TopicPartition,
)
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.catalog.environment import Settings
from somacontracts.errors import (
    ConfigurationError,
    ContractError,
    DeserializationError,
    RegistryUnavailableError,
    SchemaError,
)
from somacontracts.kafka._admin import ensure_reachable
from somacontracts.kafka.topics import DLQ_SUFFIX
from somacontracts.serde import ContractDeserializer
from somacontracts.serde.contract_model import ContractModel, model_schema
from somacontracts.serde.framing import Frame, frame_of
from somacontracts.serde.registry_client import call, url_of

__all__ = ["Problem", "contract_of_topic", "describe", "parse_lines", "read"]


def contract_of_topic(settings: Settings, topic: str) -> str:
    """The contract ``topic`` carries (a ``.dlq`` topic: its topic's), by the catalog's
    names after the environment's overrides."""
    base = topic.removesuffix(DLQ_SUFFIX)
    key = settings.topic_named(base)
    if key is not None:
        return settings.catalog.topic(key).contract
    known = ", ".join(sorted(settings.topic_names.values())) or "none"
    where = f" of {settings.catalog.source}" if settings.catalog.source else ""
    raise ConfigurationError(
        "TOPIC", f"{topic!r} carries no contract; topics of the catalog{where}: {known}"
    )


def describe(msg: Message, reader: ContractDeserializer[Any]) -> dict[str, Any]:
    """One message as a printable record: where it is, its key and timestamp, how it names
    its writer schema (``schema``: the id in Confluent's prefix, or the GUID in the
    ``__value_schema_id`` header), and its value as plain JSON with the writer's schema
    version, or why it did not decode."""
    topic = msg.topic() or ""
    timestamp_type, millis = msg.timestamp()
    record: dict[str, Any] = {
        "topic": topic,
        "partition": msg.partition(),
        "offset": msg.offset(),
        "key": _text(msg.key()),
        "timestamp": _instant(millis) if timestamp_type else None,
    }
    given: Any = msg.headers() or []
    pairs: list[tuple[str, Any]] = list(given.items() if isinstance(given, dict) else given)
    dead = {k: _text(v) for k, v in pairs if k.startswith("dlq.")}
    if dead:
        record["headers"] = dead
    value = msg.value()
    if value is None:
        record["value"] = None
        return record
    try:
        frame: Frame | None = frame_of(value, pairs)
    except DeserializationError:
        frame = None
    record["schema"] = None if frame is None else frame.shown()
    ctx = SerializationContext(topic.removesuffix(DLQ_SUFFIX), MessageField.VALUE, pairs or None)
    try:
        obj = reader(value, ctx)
    except RegistryUnavailableError:
        raise  # no message can be decoded: stop, do not report each one as undecodable
    except ContractError as err:
        record["error"] = {
            "schema_id": None if frame is None else frame.schema_id,
            "length": len(value),
            "reason": err.reason if hasattr(err, "reason") else str(err),
        }
        return record
    metadata = getattr(obj, "metadata", None)
    stamped = getattr(metadata, "schema_version", None)
    if stamped is None and frame is not None and frame.schema_id is not None:
        # a contract without the platform's version stamp: the registry's version
        stamped = _registered_version(reader, frame.schema_id, f"{ctx.topic}-value")
    record["schema_version"] = stamped
    record["value"] = _plain(obj)
    return record


def _registered_version(reader: ContractDeserializer[Any], schema_id: int, subject: str) -> Any:
    """The version of schema ``schema_id`` under ``subject`` (else under any subject of the
    reader's), asked once per id; None when the registry does not say."""
    client = reader.client
    key = (url_of(client), schema_id, subject)
    if key not in _VERSIONS:
        try:
            held = call(client, lambda: client.get_schema_versions(schema_id))
        except RegistryUnavailableError:
            raise
        except ContractError:
            held = []
        numbers = {str(v.subject): v.version for v in held}
        _VERSIONS[key] = numbers.get(subject, next(iter(numbers.values()), None))
    return _VERSIONS[key]


_VERSIONS: dict[tuple[str, int, str], Any] = {}


def _plain(obj: Any) -> Any:
    from somacontracts.tooling.plainjson import to_plain_json

    return to_plain_json(whole_schema(type(obj)), obj.to_avro())


def whole_schema(model: type[ContractModel]) -> Any:
    """``model``'s schema with the shared types it uses written out, as plain JSON reads it
    (worked out once per class: ``consume`` asks for every message)."""
    if not getattr(model, "REFERENCES", None):
        return model.SCHEMA
    found = _WHOLE.get(model)
    if found is None:
        from somacontracts.schema import standalone

        found = _WHOLE[model] = standalone(model_schema(model).schema_model)
    return found


_WHOLE: dict[type[Any], Any] = {}


def _text(raw: bytes | str | None) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.hex()


def _instant(millis: int) -> str:
    moment = dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Problem:
    """An input line that is not a valid object of the contract."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def parse_lines(lines: Iterable[str | bytes], model: type[Any]) -> tuple[list[Any], list[Problem]]:
    """The objects of the non-blank plain-JSON ``lines`` (text, or UTF-8 bytes) and the
    problems of the others.

    A line is a JSON object in the platform's plain form (what :func:`describe` prints as
    ``value``, or that whole record); it must fit the contract's newest schema.
    """
    from somacontracts.serde.values import value_problem
    from somacontracts.tooling.plainjson import from_plain_json

    objects: list[Any] = []
    problems: list[Problem] = []
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as err:
            problems.append(Problem(number, f"is not UTF-8 text (byte {err.start + 1})"))
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(Problem(number, f"not JSON ({err.msg} at column {err.colno})"))
            continue
        except RecursionError:
            problems.append(Problem(number, "nests JSON values too deeply"))
            continue
        if isinstance(value, dict) and isinstance(value.get("value"), dict):
            value = value["value"]  # a record as `consume` prints it
        try:
            obj = model.from_avro(from_plain_json(whole_schema(model), value))
        except SchemaError as err:
            problems.append(Problem(number, str(err)))
            continue
        except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as err:
            problems.append(Problem(number, f"does not fit {model.__name__}: {err}"))
            continue
        problem = value_problem(model, obj, model.__name__)
        if problem is not None:
            problems.append(Problem(number, problem))
            continue
        objects.append(obj)
    return objects, problems


def read(
    settings: Settings,
    topic: str,
    *,
    partition: int | None = None,
    offset: int | None = None,
    from_beginning: bool = False,
    follow: bool = False,
    group: str | None = None,
    timeout: float = 10.0,
) -> Generator[tuple[Message, Callable[[], None]], None, None]:
    """The raw messages of ``topic``, each with a function the caller calls once done with
    it: from ``offset`` (in ``partition``, else in each), else the beginning or the end;
    until the end of every partition, or forever with ``follow``. Without ``group``
    nothing is committed; with it, reading starts at the group's committed offsets and
    commits the messages marked done (one the caller failed on stays uncommitted)."""
    if offset is not None and not 0 <= offset < 2**63:
        raise ConfigurationError("--offset", "must be from 0 to 2^63-1")
    config = {
        **settings.kafka_config(),
        "group.id": group or f"somacontracts-console-{uuid.uuid4().hex[:8]}",
        "enable.auto.commit": group is not None,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest" if from_beginning else "latest",
    }
    consumer = Consumer(config)
    try:
        ensure_reachable(consumer, settings.bootstrap_servers, timeout=timeout)
        metadata = consumer.list_topics(topic, timeout=timeout)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise ConfigurationError("TOPIC", f"topic {topic!r} does not exist")
        numbers = sorted(found.partitions) if partition is None else [partition]
        if partition is not None and partition not in found.partitions:
            raise ConfigurationError("--partition", f"{topic} has no partition {partition}")
        # Partitions are assigned, not subscribed: a console joins no rebalance. With a
        # group it starts where the group committed (else as asked) and commits as it reads.
        if offset is not None:
            start = offset
        elif group is not None:
            start = OFFSET_STORED
        else:
            start = OFFSET_BEGINNING if from_beginning else OFFSET_END
        consumer.assign([TopicPartition(topic, n, start) for n in numbers])
        at_end: set[int] = set()
        while follow or len(at_end) < len(numbers):
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            error = msg.error()
            if error is not None:
                if error.code() == -191:  # KafkaError._PARTITION_EOF
                    at_end.add(msg.partition() or 0)
                    continue
                raise ConfigurationError("TOPIC", f"reading {topic}: {error.str()}")
            at_end.discard(msg.partition() or 0)
            yield msg, functools.partial(consumer.store_offsets, message=msg)
    finally:
        consumer.close()
