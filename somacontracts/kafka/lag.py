"""A consumer's lag, from its group's committed offsets and its partitions' end offsets.

:class:`LagWatch` runs beside a metered :class:`~somacontracts.kafka.ContractConsumer`:
from its start and every ``ClientMetrics.lag_interval`` seconds, on a daemon thread, it
asks the broker for the group's committed offsets of the partitions the consumer holds
and for their end offsets (high watermarks), and keeps the lag in the metrics.
librdkafka's statistics would cost no request, but confluent-kafka hands them over only
inside ``consume()``, which a consumer calls between batches: during a long batch they stood still.

A partition the group never committed in lags from where the group starts reading it:
its low watermark under ``auto.offset.reset=earliest`` (the catalog's default), else
the consumer's position (the end, before it has one). A partition whose offsets the
broker did not give keeps its last lag; one the consumer no longer holds is dropped
(its new owner reports it).
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, KafkaException, TopicPartition

if TYPE_CHECKING:
    from somacontracts.kafka.metrics import ClientMetrics

__all__ = ["QUERY_TIMEOUT", "LagWatch", "partition_lag", "starts_from_earliest"]

QUERY_TIMEOUT = 5.0
"""The longest a lag query waits for the broker (and so :meth:`LagWatch.close`)."""

_EARLIEST = frozenset({"earliest", "smallest", "beginning"})


def partition_lag(end: int, committed: int | None, start: int) -> int:
    """Messages between where a group resumes reading a partition (``committed``, or
    ``start`` where it never committed: None or librdkafka's negative logical offsets)
    and the partition's ``end``; never below 0."""
    resume = committed if committed is not None and committed >= 0 else start
    return max(end - resume, 0)


def starts_from_earliest(reset: object) -> bool:
    """Whether a consumer with ``auto.offset.reset`` = ``reset`` (None: librdkafka's
    default, latest) reads a partition it never committed from its beginning."""
    return str(reset).lower() in _EARLIEST


class LagWatch:
    """Keeps the lag of the partitions ``consumer`` holds for ``group`` in ``metrics``,
    refreshed every ``metrics.lag_interval`` seconds until :meth:`close`."""

    def __init__(
        self, consumer: Consumer, metrics: ClientMetrics, group: str, *, from_earliest: bool
    ) -> None:
        self._consumer = consumer
        self._metrics = metrics
        self._group = group
        self._from_earliest = from_earliest
        self._interval = metrics.lag_interval
        self._timeout = min(max(self._interval, 1.0), QUERY_TIMEOUT)
        self._lags: dict[tuple[str, str, str], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"somacontracts-lag-{group}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            # The broker not answering leaves the last lags until it does.
            with contextlib.suppress(KafkaException):
                self.refresh()
            self._stop.wait(self._interval)

    def refresh(self) -> None:
        """Ask the broker for the offsets now and report the lags."""
        consumer = self._consumer
        held = consumer.assignment()
        found: dict[tuple[str, str, str], int] = {}
        if held:
            committed = consumer.committed(held, timeout=self._timeout)
            positions = {} if self._from_earliest else _offsets(consumer.position(held))
            for tp in committed:
                key = (tp.topic, str(tp.partition), self._group)
                if self._stop.is_set():
                    return
                if tp.error is not None:
                    if key in self._lags:
                        found[key] = self._lags[key]
                    continue
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(tp.topic, tp.partition), timeout=self._timeout
                )
                start = low if self._from_earliest else positions.get(key[:2], -1)
                found[key] = partition_lag(high, tp.offset, start if start >= 0 else high)
        self._metrics._replace_lags(set(self._lags), found)
        self._lags = found

    def close(self) -> None:
        """Stop refreshing (waiting for a query in hand) and stop reporting the lags."""
        self._stop.set()
        self._thread.join()
        self._metrics._replace_lags(set(self._lags), {})
        self._lags = {}


def _offsets(partitions: list[TopicPartition]) -> dict[tuple[str, str], int]:
    return {(tp.topic, str(tp.partition)): tp.offset for tp in partitions}
