"""Dead letters: a message a consumer cannot use, copied to ``<topic>.dlq`` as it came
(same key, value and headers) with headers saying where it came from and why.

Headers: ``dlq.topic``, ``dlq.partition``, ``dlq.offset``, ``dlq.error`` (one line, user
info of URLs redacted), ``dlq.attempts``. A copy counts as done only once the broker
acknowledged it, so the consumer commits the original's offset only then; a processor
produces the copy inside its transaction instead (:func:`dead_letter`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from confluent_kafka import KafkaException, Message, Producer

from somacontracts.catalog.environment import Settings
from somacontracts.errors import redact
from somacontracts.kafka._admin import kafka_reason
from somacontracts.kafka.errors import DeliveryError
from somacontracts.kafka.topics import dlq_name

if TYPE_CHECKING:
    from somacontracts.kafka.metrics import ConsumerTally

__all__ = ["DeadLetter", "DeadLetters", "dead_letter"]

ACK_TIMEOUT = 30.0
"""Seconds a copy may wait for the broker's acknowledgement."""


class DeadLetter(NamedTuple):
    """The copy of a message for its dead-letter topic, as ``Producer.produce`` takes it."""

    topic: str
    value: bytes | None
    key: bytes | None
    headers: list[tuple[str, str | bytes | None]]


def dead_letter(msg: Message, err: BaseException, *, attempts: int) -> DeadLetter:
    """The copy of ``msg`` for its dead-letter topic: same key, value and headers, plus
    the ``dlq.*`` headers saying where it came from and why (``err``, after ``attempts``
    handler calls)."""
    topic = msg.topic() or ""
    reason = redact(" ".join(f"{type(err).__name__}: {err}".split()))
    headers: list[tuple[str, str | bytes | None]] = [
        *(msg.headers() or ()),
        ("dlq.topic", topic.encode()),
        ("dlq.partition", str(msg.partition()).encode()),
        ("dlq.offset", str(msg.offset()).encode()),
        ("dlq.error", reason.encode()),
        ("dlq.attempts", str(attempts).encode()),
    ]
    return DeadLetter(dlq_name(topic), msg.value(), msg.key(), headers)


class DeadLetters:
    """Copies messages to their dead-letter topics through one producer, made at the
    first copy (most consumers never need it)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: Producer | None = None

    def send(self, msg: Message, err: BaseException, *, attempts: int) -> None:
        """Copy ``msg`` to its dead-letter topic and wait for the broker's acknowledgement;
        raise :class:`DeliveryError` if it does not come or the producer refuses the copy
        (larger than its ``message.max.bytes``, its queue full)."""
        if self._producer is None:
            self._producer = Producer(self._settings.producer_config())
        copy = dead_letter(msg, err, attempts=attempts)
        failures: list[str] = []

        def report(error: Any, _msg: Message) -> None:
            if error is not None:
                failures.append(str(error.str()))

        try:
            self._producer.produce(
                copy.topic, copy.value, copy.key, headers=copy.headers, on_delivery=report
            )
        except (KafkaException, BufferError) as refused:  # refused before it was sent
            failures.append(kafka_reason(refused))
        remaining = self._producer.flush(ACK_TIMEOUT)
        if remaining or failures:
            raise DeliveryError(
                "cannot dead-letter the message: "
                + (failures[0] if failures else f"no acknowledgement within {ACK_TIMEOUT:g} s"),
                topic=msg.topic() or "",
                partition=msg.partition(),
                offset=msg.offset(),
            )

    def send_counted(
        self, msg: Message, err: BaseException, attempts: int, tally: ConsumerTally | None
    ) -> None:
        """:meth:`send`, counted in a consumer's ``tally`` (metrics on): an undecodable
        message (no handler ``attempts``) as a deserialize error even if its copy fails, a
        copy not acknowledged as a failure (then raised), an acknowledged one by reason."""
        if tally is not None and not attempts:
            tally.deserialize_error(err)
        try:
            self.send(msg, err, attempts=attempts)
        except Exception:
            if tally is not None:
                tally.dead_letter_failures += 1
            raise
        if tally is not None:
            tally.dead_lettered(attempts)

    def close(self) -> None:
        """Wait for what is still queued."""
        if self._producer is not None:
            self._producer.flush(ACK_TIMEOUT)
