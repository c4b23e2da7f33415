"""What a handler gets: a decoded message with its coordinates, and what names it
stably, for handlers whose side effects must not happen twice.

Kafka's exactly-once covers what a processor writes to Kafka and the offsets it commits;
a shell command a tool ran, an HTTP call, a row written elsewhere happen again when a
message is handled again (a crash before the commit, an aborted transaction, a retry).
A handler makes such an effect idempotent by keying it with the message's identity
(:attr:`Received.identity`) and skipping, or answering from a record of, what was already
done under that key:

- the contract's id (``task_id`` of a :class:`~somacontracts.models.ToolInvocation`), the
  same for every delivery of the request, also when its producer sent it twice;
- else the coordinates ``topic:partition:offset``, the same for every delivery of
  that one record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, Generic, TypeVar

from confluent_kafka import Message
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.errors import MessageError
from somacontracts.kafka.routing import contract_name
from somacontracts.serde import ContractDeserializer, ContractModel

__all__ = ["ID_FIELDS", "MessageDecoder", "MessageIdentity", "Received", "identity_of"]

M = TypeVar("M", bound=ContractModel)

ID_FIELDS = {
    "ToolInvocation": "task_id",
    "ToolResult": "task_id",
    "ConversationEvent": "event_id",
    "DelegatedTask": "task_id",
}
"""The field that names each contract's payload once for all its deliveries (a contract
not listed has none; its identity is its coordinates)."""

_GETTERS = {name: attrgetter(field) for name, field in ID_FIELDS.items()}


@dataclass(frozen=True, slots=True)
class MessageIdentity:
    """A message's coordinates and its contract's id."""

    topic: str
    partition: int
    offset: int
    contract_id: str | None
    """The contract's id field as text (``task_id``), or None if it has none."""

    @property
    def coordinates(self) -> str:
        """``topic:partition:offset`` (Kafka forbids ``:`` in topic names)."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def key(self) -> str:
        """The idempotency key: the contract's id if it has one, else the coordinates."""
        return self.contract_id if self.contract_id is not None else self.coordinates


def identity_of(value: Any, topic: str, partition: int, offset: int) -> MessageIdentity:
    """The identity of ``value`` read at ``topic``/``partition``/``offset``."""
    getter = _GETTERS.get(contract_name(type(value)))
    field = None if getter is None else getter(value)
    return MessageIdentity(topic, partition, offset, None if field is None else str(field))


@dataclass(frozen=True, slots=True)
class Received(Generic[M]):
    """A decoded message and where it came from."""

    value: M
    topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    timestamp_ms: int

    @property
    def identity(self) -> MessageIdentity:
        """What names this message stably across re-deliveries: its coordinates and its
        contract's id (``task_id``), for a handler that makes its side effects idempotent."""
        return identity_of(self.value, self.topic, self.partition, self.offset)


_Headers = tuple[tuple[str, bytes | None], ...]
_MakeReceived = Callable[[Any, str, int, int, bytes | None, _Headers, int], Received[Any]]


def _received_maker() -> _MakeReceived:
    """``Received(...)`` for the hot path: the same frozen object, its slots filled directly.

    A frozen dataclass's ``__init__`` calls ``object.__setattr__`` once per field, which
    costs more than the rest of the consumer's own work on a message.
    """
    new = object.__new__
    slots = vars(Received)
    set_value, set_topic, set_partition, set_offset, set_key, set_headers, set_timestamp = (
        slots[f.name].__set__ for f in fields(Received)
    )

    def make(
        value: Any,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        headers: _Headers,
        timestamp_ms: int,
    ) -> Received[Any]:
        received: Received[Any] = new(Received)
        set_value(received, value)
        set_topic(received, topic)
        set_partition(received, partition)
        set_offset(received, offset)
        set_key(received, key)
        set_headers(received, headers)
        set_timestamp(received, timestamp_ms)
        return received

    return make


_make_received = _received_maker()


def header_pairs(headers: Any) -> list[tuple[str, bytes | None]]:
    """Headers as (name, value) pairs, whatever form the client returned them in."""
    if not headers:
        return []
    items = headers.items() if isinstance(headers, dict) else headers
    return [(str(k), v.encode() if isinstance(v, str) else v) for k, v in items]


class MessageDecoder(Generic[M]):
    """Turns a consumed message into a :class:`Received` with its deserializer."""

    def __init__(
        self,
        deserializer: ContractDeserializer[M],
        contexts: dict[str, SerializationContext],
    ) -> None:
        self._deserializer = deserializer
        self._contexts = contexts

    def _context(self, topic: str, headers: Any) -> SerializationContext:
        if headers:  # one may name the schema (__value_schema_id): a context of their own
            return SerializationContext(topic, MessageField.VALUE, headers)
        context = self._contexts.get(topic)
        if context is None:
            context = self._contexts[topic] = SerializationContext(topic, MessageField.VALUE)
        return context

    def needs_registry(self, msg: Message) -> bool:
        """Whether decoding ``msg`` may wait on the registry or a KMS (see
        ``ContractDeserializer.needs_registry``)."""
        headers = msg.headers()
        if not headers:  # the frame alone names the schema
            return self._deserializer.needs_registry(msg.value())
        return self._deserializer.needs_registry(
            msg.value(), self._context(msg.topic() or "", headers)
        )

    def decode(self, msg: Message) -> Received[M]:
        """``msg`` as a :class:`Received`; raise MessageError with its coordinates if it
        cannot be decoded or is a tombstone."""
        topic = msg.topic() or ""
        partition = msg.partition() or 0
        offset = msg.offset() or 0
        headers = msg.headers()
        try:
            value = self._deserializer(msg.value(), self._context(topic, headers))
        except MessageError as err:
            raise type(err)(err.reason, topic=topic, partition=partition, offset=offset) from err
        if value is None:
            raise MessageError(
                "a tombstone (null value) carries no contract object",
                topic=topic,
                partition=partition,
                offset=offset,
            )
        return _make_received(
            value,
            topic,
            partition,
            offset,
            msg.key(),
            tuple(header_pairs(headers)) if headers else (),
            msg.timestamp()[1],
        )
