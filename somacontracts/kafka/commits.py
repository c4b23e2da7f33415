"""Committing what was handled: the commit policies and what a crash re-delivers under each.

An offset is committed only after its message was handled (or dead-lettered), so a crash
re-delivers instead of skipping; the policy bounds what it re-delivers:

- ``"message"`` (the default): each message's offset is committed, and the broker has
  acknowledged the commit, before the next handler call; a crash re-delivers at most the
  message in hand. It costs one commit round trip a message (about 0.25-0.4 ms on a
  local broker), which no per-message commit avoids: the commit of a message can only
  start once its handler returned, and must end before the next handler starts.
- ``"batch"``: each partition's offset is committed once per batch, acknowledged before
  the next batch; a crash re-delivers at most the batch in hand.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Literal, get_args

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from somacontracts.errors import ConfigurationError
from somacontracts.kafka.errors import CommitError

__all__ = [
    "COMMIT_TIMEOUT",
    "CommitPolicy",
    "commit_offsets",
    "position_after",
    "rewind",
    "rewind_to",
    "store_handled",
]

CommitPolicy = Literal["message", "batch"]
"""When handled offsets are committed: after each message, or after each batch."""

COMMIT_TIMEOUT = 30.0
"""Seconds a commit may keep retrying while the group coordinator is unavailable."""

_MOVED_ON = frozenset(
    {
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.FENCED_INSTANCE_ID,
        KafkaError._ASSIGNMENT_LOST,
    }
)
"""Commit errors saying that the group reassigned the partitions: their messages go to
their new owner, which re-delivers what was not committed."""


def checked_policy(commit: str) -> CommitPolicy:
    """``commit`` if it names a policy; else a :class:`ConfigurationError`."""
    if commit == "message":
        return "message"
    if commit == "batch":
        return "batch"
    policies = ", ".join(get_args(CommitPolicy))
    raise ConfigurationError("commit", f"expected one of {policies}, got {commit!r}")


def position_after(msg: Message) -> TopicPartition:
    """The position after ``msg``: what a commit of ``msg`` stores."""
    return TopicPartition(msg.topic() or "", msg.partition() or 0, (msg.offset() or 0) + 1)


def commit_offsets(consumer: Consumer, offsets: list[TopicPartition] | None) -> bool:
    """Commit ``offsets`` (None: the stored ones) and wait for the broker's answer; False
    if the group reassigned the partitions meanwhile (their new owner takes what was not
    committed). Raise :class:`CommitError` for any other refusal."""
    deadline = time.monotonic() + COMMIT_TIMEOUT
    while True:
        try:
            if offsets is None:
                consumer.commit(asynchronous=False)
            else:
                consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            error = exc.args[0]
            code = error.code()
            if code == KafkaError._NO_OFFSET:
                return True
            if code in _MOVED_ON:
                return False
            if error.retriable() and time.monotonic() < deadline:
                continue
            raise CommitError(str(error.str())) from exc
        else:
            return True


def rewind(consumer: Consumer, rest: Sequence[Message]) -> None:
    """Take ``rest`` again at the next consume: seek each of its partitions back to its
    first message there (a partition the group took away is left to its new owner)."""
    first: dict[tuple[str, int], int] = {}
    for msg in rest:
        first.setdefault((msg.topic() or "", msg.partition() or 0), msg.offset() or 0)
    for (topic, partition), offset in first.items():
        rewind_to(consumer, topic, partition, offset)


def store_handled(consumer: Consumer, messages: Iterable[Message]) -> None:
    """Store the position after each of ``messages`` for the next commit (librdkafka's
    own, or the policy's)."""
    store = consumer.store_offsets
    for msg in messages:
        store(message=msg)


def rewind_to(consumer: Consumer, topic: str, partition: int, offset: int) -> None:
    """Take the message at ``offset`` of ``topic[partition]`` again at the next consume
    (nothing if the group took the partition away)."""
    try:
        consumer.seek(TopicPartition(topic, partition, offset))
    except KafkaException:
        return
