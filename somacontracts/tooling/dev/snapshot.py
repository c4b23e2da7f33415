"""The local broker's topics, messages and consumer offsets, saved to a file and replayed.

The Tansu binary the ``local`` extra ships keeps its data in memory only (its persistent
storage engines are not built in), so ``dev down`` saves what the broker holds with
:func:`save_broker` and the next ``dev up`` replays it into the new broker with
:func:`restore_broker`:

- every topic (internal ones, named ``__...``, aside) with its partition count and the
  configuration set on it;
- every committed message (``read_committed``: an aborted transaction's are not kept),
  per partition in offset order, with its key, value, headers and timestamp;
- every consumer group's committed offsets.

Replayed messages are produced again, in order, to the same partition: each gets a new
offset, the same as before unless the partition had gaps (transaction markers,
messages deleted by retention), and each group's committed offset is moved to the new
offset of the message it pointed at, so a consumer resumes where it stopped. The file
is one JSON object a line: first the topics and groups, then one line per message
(bytes in base64). It is written whole or not at all.
"""

from __future__ import annotations

import base64
import bisect
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO

from confluent_kafka import (
    OFFSET_BEGINNING,
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource

from somacontracts.catalog.environment import Settings
from somacontracts.kafka._admin import kafka_reason
from somacontracts.kafka.topics import TopicSpec, apply_plans, open_admin, plan_topics
from somacontracts.tooling.dev.processes import DevStackError

__all__ = ["Saved", "restore_broker", "save_broker"]

_FORMAT = 1
_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Saved:
    """What a saved broker held: counts for the command's report."""

    topics: int
    messages: int
    groups: int


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _raw(value: str | bytes | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def _topics(admin: AdminClient) -> dict[str, dict[str, Any]]:
    """Topic -> its partition count and the configuration set on it."""
    metadata = admin.list_topics(timeout=_TIMEOUT)
    topics = {
        name: {"partitions": len(topic.partitions), "config": {}}
        for name, topic in metadata.topics.items()
        if not name.startswith("__") and topic.error is None
    }
    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in topics]
    for resource, future in (admin.describe_configs(resources) if resources else {}).items():
        entries = future.result(timeout=_TIMEOUT)
        topics[resource.name]["config"] = {
            key: entry.value
            for key, entry in sorted(entries.items())
            if entry.value is not None and not (entry.is_read_only or entry.is_sensitive)
        }
    return topics


def _groups(admin: AdminClient) -> dict[str, list[list[Any]]]:
    """Group -> its committed offsets as ``[topic, partition, offset]``."""
    listed = admin.list_consumer_groups().result(timeout=_TIMEOUT)
    groups: dict[str, list[list[Any]]] = {}
    for group in sorted(g.group_id for g in listed.valid):
        request = [ConsumerGroupTopicPartitions(group)]
        for future in admin.list_consumer_group_offsets(request).values():
            found = future.result(timeout=_TIMEOUT)
            offsets = [
                [tp.topic, tp.partition, tp.offset]
                for tp in found.topic_partitions
                if tp.offset >= 0 and not tp.topic.startswith("__")
            ]
            if offsets:
                groups[group] = sorted(offsets)
    return groups


def _messages(settings: Settings, topics: Mapping[str, Mapping[str, Any]]) -> Iterator[str]:
    """One JSON line per committed message of ``topics``, partition by partition."""
    partitions = [
        TopicPartition(name, p, OFFSET_BEGINNING)
        for name, topic in topics.items()
        for p in range(topic["partitions"])
    ]
    if not partitions:
        return
    consumer = Consumer(
        {
            **settings.kafka_config(),
            "group.id": "somacontracts-dev-save",  # assigned, never joined or committed
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    try:
        consumer.assign(partitions)
        pending = {(tp.topic, tp.partition) for tp in partitions}
        deadline = time.monotonic() + _TIMEOUT
        while pending:
            if time.monotonic() > deadline:
                left = ", ".join(f"{t}[{p}]" for t, p in sorted(pending))
                raise DevStackError(f"the broker's messages were not all read: {left}")
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    pending.discard((message.topic(), message.partition()))
                    continue
                raise DevStackError(f"cannot read the broker's messages: {error.str()}")
            kind, stamp = message.timestamp()
            headers: Any = message.headers() or []  # a consumer's are a list of pairs
            yield json.dumps(
                {
                    "topic": message.topic(),
                    "partition": message.partition(),
                    "offset": message.offset(),
                    "key": _b64(message.key()),
                    "value": _b64(message.value()),
                    "headers": [[k, _b64(_raw(v))] for k, v in headers],
                    "timestamp": None if kind == TIMESTAMP_NOT_AVAILABLE else stamp,
                },
                separators=(",", ":"),
            )
    finally:
        consumer.close()


def save_broker(settings: Settings, path: Path) -> Saved:
    """Save what the broker of ``settings`` holds to ``path`` (replaced whole, or kept as
    it was if reading fails)."""
    admin = open_admin(settings)
    try:
        topics = _topics(admin)
        groups = _groups(admin)
    except KafkaException as err:
        raise DevStackError(f"cannot read the broker's topics: {kafka_reason(err)}") from err
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    messages = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            head = {"format": _FORMAT, "topics": topics, "groups": groups}
            out.write(json.dumps(head, separators=(",", ":")) + "\n")
            for line in _messages(settings, topics):
                out.write(line + "\n")
                messages += 1
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Saved(len(topics), messages, len(groups))


def _read_head(source: TextIO, path: Path) -> dict[str, Any]:
    try:
        head = json.loads(source.readline())
    except json.JSONDecodeError as err:
        raise DevStackError(f"{path}: line 1 is not JSON ({err.msg})") from err
    if not isinstance(head, dict) or head.get("format") != _FORMAT:
        raise DevStackError(f"{path}: line 1 is not a saved broker of format {_FORMAT}")
    return head


def restore_broker(settings: Settings, path: Path) -> Saved:
    """Replay the broker saved in ``path`` into the (empty) broker of ``settings``."""
    with path.open(encoding="utf-8") as source:
        head = _read_head(source, path)
        topics: dict[str, dict[str, Any]] = head["topics"]
        admin = open_admin(settings)
        specs = [
            TopicSpec(name, int(t["partitions"]), MappingProxyType(dict(t["config"])))
            for name, t in sorted(topics.items())
        ]
        apply_plans(admin, plan_topics(admin, specs))
        old: dict[tuple[str, int], list[int]] = {}
        new: dict[tuple[str, int], list[int]] = {}
        failures: list[str] = []
        producer = Producer({**settings.producer_config(), "linger.ms": 5})
        for number, line in enumerate(source, start=2):
            try:
                record = json.loads(line)
                where = (record["topic"], int(record["partition"]))
                offset = int(record["offset"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
                raise DevStackError(f"{path}: line {number} is not a saved message") from err
            old.setdefault(where, []).append(offset)
            new.setdefault(where, [])

            def delivered(err: Any, message: Any, where: tuple[str, int] = where) -> None:
                if err is not None:
                    failures.append(f"{where[0]}[{where[1]}]: {err.str()}")
                else:
                    new[where].append(message.offset())

            producer.produce(
                record["topic"],
                value=_bytes(record["value"]),
                key=_bytes(record["key"]),
                partition=where[1],
                headers=[(k, _bytes(v)) for k, v in record["headers"]],
                timestamp=record["timestamp"] or 0,
                on_delivery=delivered,
            )
            producer.poll(0)
        left = producer.flush(_TIMEOUT)
    if failures or left:
        raise DevStackError(
            f"cannot replay the saved messages: {failures[0] if failures else 'not delivered'}"
        )
    groups: dict[str, list[list[Any]]] = head["groups"]
    for group, offsets in groups.items():
        try:
            _commit(settings, group, [_moved(t, p, o, old, new) for t, p, o in offsets])
        except KafkaException as err:
            raise DevStackError(
                f"cannot commit the saved offsets of group {group}: {kafka_reason(err)}"
            ) from err
    return Saved(len(topics), sum(len(offsets) for offsets in new.values()), len(groups))


def _moved(
    topic: str,
    partition: int,
    offset: int,
    old: Mapping[tuple[str, int], list[int]],
    new: Mapping[tuple[str, int], list[int]],
) -> TopicPartition:
    """The committed ``offset`` moved to the new offset of the message it pointed at (the
    first kept at or after it), else past the partition's last message."""
    before, after = old.get((topic, partition), []), sorted(new.get((topic, partition), []))
    index = bisect.bisect_left(before, offset)
    moved = after[index] if index < len(after) else (after[-1] + 1 if after else 0)
    return TopicPartition(topic, partition, moved)


def _commit(settings: Settings, group: str, offsets: list[TopicPartition]) -> None:
    """Commit ``offsets`` for ``group`` without joining it."""
    consumer = Consumer({**settings.kafka_config(), "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()
