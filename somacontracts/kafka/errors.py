"""The errors of the Kafka layer; all derive from :class:`~somacontracts.errors.ContractError`."""

from __future__ import annotations

from somacontracts.errors import ContractError, MessageError

__all__ = [
    "BrokerStartError",
    "BrokerUnavailableError",
    "CommitError",
    "DeliveryError",
    "FencedError",
    "KafkaOperationError",
    "PartitionShrinkError",
    "ReaderBrokenError",
    "ReplyTimeoutError",
]


class BrokerUnavailableError(ContractError):
    """Raised when no Kafka broker answers at the bootstrap servers within the time allowed."""

    def __init__(self, bootstrap_servers: str, reason: str) -> None:
        super().__init__(bootstrap_servers, reason)
        self.bootstrap_servers = bootstrap_servers
        self.reason = reason

    def __str__(self) -> str:
        return f"Kafka at {self.bootstrap_servers} is unavailable: {self.reason}"


class BrokerStartError(ContractError):
    """Raised when the local broker cannot be found, started, or does not accept connections."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"local Kafka broker: {self.reason}"


class KafkaOperationError(ContractError):
    """Raised when the broker refuses an admin operation on a topic."""

    def __init__(self, topic: str, operation: str, reason: str) -> None:
        super().__init__(topic, operation, reason)
        self.topic = topic
        self.operation = operation
        self.reason = reason

    def __str__(self) -> str:
        return f'topic "{self.topic}": {self.operation} failed: {self.reason}'


class PartitionShrinkError(ContractError):
    """Raised when asked to reduce a topic's partitions, which Kafka cannot do."""

    def __init__(self, topic: str, current: int, requested: int) -> None:
        super().__init__(topic, current, requested)
        self.topic = topic
        self.current = current
        self.requested = requested

    def __str__(self) -> str:
        return (
            f'topic "{self.topic}" has {self.current} partitions; Kafka cannot reduce them to '
            f"{self.requested} (create a new topic and migrate instead)"
        )


class DeliveryError(MessageError):
    """Raised (or passed to a callback) when the broker did not acknowledge a produced message."""


class CommitError(ContractError):
    """Raised when the broker does not take the offsets of handled messages, or a
    processor's transaction, so what was handled would be handled again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot commit: {self.reason}"


class FencedError(ContractError):
    """Raised when another instance took over a processor's transactional id: this one is
    a zombie and must stop (what it had not committed is aborted, the other goes on)."""

    def __init__(self, transactional_id: str, reason: str) -> None:
        super().__init__(transactional_id, reason)
        self.transactional_id = transactional_id
        self.reason = reason

    def __str__(self) -> str:
        return f'transactional id "{self.transactional_id}" was taken over: {self.reason}'


class ReplyTimeoutError(ContractError):
    """Raised when the reply to a request did not come within the time allowed."""

    def __init__(self, request_id: str, topic: str, timeout: float) -> None:
        super().__init__(request_id, topic, timeout)
        self.request_id = request_id
        self.topic = topic
        self.timeout = timeout

    def __str__(self) -> str:
        return (
            f'no reply to request "{self.request_id}" (sent to {self.topic}) '
            f"within {self.timeout:g} s"
        )


class ReaderBrokenError(ContractError):
    """Raised when a live consumer group cannot read what a producer would write."""

    def __init__(self, topic: str, writer: str, readers: tuple[str, ...]) -> None:
        super().__init__(topic, writer, readers)
        self.topic = topic
        self.writer = writer
        self.readers = readers
        """Each unreadable reader as ``group (service, vN): the first problem``."""

    def __str__(self) -> str:
        listed = "; ".join(self.readers)
        return f"{self.writer} on {self.topic} cannot be read by live readers: {listed}"
