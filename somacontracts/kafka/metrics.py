"""Prometheus metrics of the typed Kafka clients: what they produced, consumed and refused.

Off by default. A client measures when given ``metrics=True`` (the process's default
:class:`ClientMetrics`, on ``prometheus_client``'s default registry) or a
:class:`ClientMetrics` of its own, or when the environment says so
(``SOMACONTRACTS_METRICS=1``; ``SOMACONTRACTS_METRICS_PORT=N`` also serves the default
registry over HTTP on ``SOMACONTRACTS_METRICS_ADDRESS``, default 127.0.0.1). Needs the
``metrics`` extra (``prometheus-client``), imported only then.

The clients count into plain per-label tallies on their hot paths (an integer addition
per message, a clock read around each handler call); a collector turns the tallies into
metric families when Prometheus scrapes. ``prometheus_client``'s own ``Counter`` and
``Histogram`` take a lock per update, which costs more than the consumer's own work on
a small message (``tools/bench_kafka.py --metrics`` measures the difference).

Metrics (counters end in ``_total``):

- ``somacontracts_messages_produced_total{topic,contract}``: acknowledged by the broker;
- ``somacontracts_produced_bytes_total{topic,contract}``: their value bytes;
- ``somacontracts_delivery_failures_total{topic,contract}``: not acknowledged;
- ``somacontracts_messages_consumed_total{topic,contract,group}``: taken from Kafka;
- ``somacontracts_consumed_bytes_total{topic,contract,group}``: their value bytes;
- ``somacontracts_dead_lettered_total{topic,contract,group,reason}``: copied to the
  dead-letter topic; ``reason`` is ``undecodable`` or ``handler_failed``;
- ``somacontracts_handler_retries_total{topic,contract,group}``: handler calls repeated;
- ``somacontracts_dead_letter_failures_total{topic,contract,group}``: copies the
  dead-letter topic did not acknowledge (the run stops there, the original uncommitted);
- ``somacontracts_serde_errors_total{topic,contract,group,operation,error}``: objects that
  could not be serialized or messages that could not be deserialized, by operation
  (``serialize``/``deserialize``) and error class (``SerializationError``,
  ``DeserializationError``, ``SchemaNotFoundError``, ``ReadRuleError``, ...); ``group``
  is the consumer's, empty (no label, to Prometheus) on a producer's;
- ``somacontracts_handler_duration_seconds{topic,contract,group}``: a histogram of each
  handler call in :meth:`~somacontracts.kafka.ContractConsumer.run`;
- ``somacontracts_consumer_lag{topic,partition,group}``: messages between the group's
  committed offset (where it never committed, the offset it starts from) and the end of
  each partition the consumer holds, asked of the broker every ``lag_interval`` seconds
  (5 s unless configured) by :class:`~somacontracts.kafka.lag.LagWatch`, whatever the
  consumer is doing.

A consumer's tallies exist from its start, at 0, so that ``increase()`` sees its first
message, dead letter or failure.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from somacontracts.errors import ConfigurationError

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from somacontracts.catalog.environment import Settings

__all__ = [
    "DURATION_BUCKETS",
    "LAG_INTERVAL",
    "ClientMetrics",
    "ConsumerTally",
    "ProducerTally",
    "default_metrics",
    "metrics_for",
]

DURATION_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Upper bounds (seconds) of the handler duration histogram; handlers often take well
under Prometheus's default first bucket of 5 ms."""

LAG_INTERVAL = 5.0
"""Seconds between two readings of a consumer's lag, unless :class:`ClientMetrics` is
given another ``lag_interval``."""


_SERIALIZE_ERRORS = ("SerializationError", "WriteRuleError")
_DESERIALIZE_ERRORS = ("DeserializationError", "SchemaNotFoundError", "ReadRuleError")
"""Error classes reported at 0 from the start: a counter that appears only at its first
error, already at 1, shows no increase to ``increase()``, and the alert would miss it."""


@dataclass(slots=True)
class ProducerTally:
    """What producers counted for one topic and contract."""

    produced: int = 0
    produced_bytes: int = 0
    delivery_failures: int = 0
    serialize_errors: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(_SERIALIZE_ERRORS, 0)
    )

    def serialize_error(self, error: BaseException) -> None:
        """Count an object that could not be serialized."""
        name = type(error).__name__
        self.serialize_errors[name] = self.serialize_errors.get(name, 0) + 1


@dataclass(slots=True)
class ConsumerTally:
    """What consumers of one group counted for one topic and contract."""

    consumed: int = 0
    consumed_bytes: int = 0
    retries: int = 0
    undecodable: int = 0
    handler_failed: int = 0
    dead_letter_failures: int = 0
    deserialize_errors: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(_DESERIALIZE_ERRORS, 0)
    )
    buckets: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    duration_sum: float = 0.0

    def deserialize_error(self, error: BaseException) -> None:
        """Count a message that could not be deserialized."""
        name = type(error).__name__
        self.deserialize_errors[name] = self.deserialize_errors.get(name, 0) + 1

    def dead_lettered(self, attempts: int) -> None:
        """Count a message copied to the dead-letter topic after ``attempts`` handler calls
        (none: it could not be decoded)."""
        if attempts:
            self.handler_failed += 1
        else:
            self.undecodable += 1

    def observe(self, seconds: float) -> None:
        """Count one handler call that took ``seconds``."""
        self.buckets[bisect_left(DURATION_BUCKETS, seconds)] += 1
        self.duration_sum += seconds


class ClientMetrics:
    """The clients' tallies and the Prometheus collector that reports them.

    ``registry`` is the ``prometheus_client`` registry to report to (default: its global
    ``REGISTRY``); a registry holds one :class:`ClientMetrics` (for the default one, get
    it with :func:`default_metrics`). Tallies are shared by every client of the same
    labels and never removed, so counters never go down when a client closes.
    ``lag_interval`` is the seconds between two readings of each consumer's lag.
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, *, lag_interval: float = LAG_INTERVAL
    ) -> None:
        if not lag_interval > 0:
            raise ConfigurationError("lag_interval", f"must be above 0 seconds, not {lag_interval}")
        self.lag_interval = lag_interval
        prometheus = _prometheus()
        self.registry: CollectorRegistry = (
            registry if registry is not None else prometheus.registry.REGISTRY
        )
        self._lock = threading.Lock()
        self._producers: dict[tuple[str, str], ProducerTally] = {}
        self._consumers: dict[tuple[str, str, str], ConsumerTally] = {}
        self._lags: dict[tuple[str, str, str], int] = {}
        self._server: Any = None
        with _registered_lock:
            if self.registry in _registered:
                raise ConfigurationError(
                    "metrics",
                    "this Prometheus registry already reports somacontracts' metrics; use "
                    "default_metrics() for the default registry, or give another registry",
                )
            self.registry.register(_Collector(self))
            _registered[self.registry] = self

    def producer(self, topic: str, contract: str) -> ProducerTally:
        """The tally producers of ``contract`` to ``topic`` count into."""
        with self._lock:
            return self._producers.setdefault((topic, contract), ProducerTally())

    def consumer(self, topic: str, contract: str, group: str) -> ConsumerTally:
        """The tally consumers of ``group`` count into for ``contract`` on ``topic``."""
        with self._lock:
            return self._consumers.setdefault((topic, contract, group), ConsumerTally())

    def _replace_lags(
        self, reported: set[tuple[str, str, str]], lags: dict[tuple[str, str, str], int]
    ) -> None:
        """Report ``lags`` (by topic, partition, group) instead of the ``reported`` ones."""
        with self._lock:
            for key in reported - lags.keys():
                self._lags.pop(key, None)
            self._lags.update(lags)

    def serve(self, port: int, address: str = "127.0.0.1") -> int:
        """Serve this registry over HTTP at ``address``:``port`` (0: any free port) on a
        daemon thread; returns the port. Serving again returns the port already served."""
        with self._lock:
            if self._server is None:
                start = _prometheus().exposition.start_http_server
                try:
                    self._server, _thread = start(port, addr=address, registry=self.registry)
                except OSError as err:
                    raise ConfigurationError(
                        "SOMACONTRACTS_METRICS_ADDRESS/SOMACONTRACTS_METRICS_PORT",
                        f"cannot serve metrics on {address} port {port}: {err.strerror or err}",
                    ) from err
            return int(self._server.server_port)

    def close(self) -> None:
        """Stop serving over HTTP (the tallies stay registered)."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def _snapshot(
        self,
    ) -> tuple[
        list[tuple[tuple[str, str], ProducerTally]],
        list[tuple[tuple[str, str, str], ConsumerTally]],
        list[tuple[tuple[str, str, str], int]],
    ]:
        with self._lock:
            return (
                list(self._producers.items()),
                list(self._consumers.items()),
                [*self._lags.items()],
            )


class _Collector:
    """Turns :class:`ClientMetrics`'s tallies into metric families at each scrape."""

    def __init__(self, metrics: ClientMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Any]:
        core = _prometheus().metrics_core
        producers, consumers, lags = self._metrics._snapshot()
        counter, gauge, histogram = (
            core.CounterMetricFamily,
            core.GaugeMetricFamily,
            core.HistogramMetricFamily,
        )
        pl = ["topic", "contract"]
        cl = ["topic", "contract", "group"]
        produced = counter(_n("messages_produced"), "Messages the broker acknowledged.", labels=pl)
        produced_bytes = counter(_n("produced_bytes"), "Value bytes acknowledged.", labels=pl)
        failures = counter(
            _n("delivery_failures"), "Messages the broker did not acknowledge.", labels=pl
        )
        consumed = counter(_n("messages_consumed"), "Messages taken from Kafka.", labels=cl)
        consumed_bytes = counter(_n("consumed_bytes"), "Value bytes taken from Kafka.", labels=cl)
        dead = counter(
            _n("dead_lettered"),
            "Messages copied to the dead-letter topic.",
            labels=[*cl, "reason"],
        )
        dead_failed = counter(
            _n("dead_letter_failures"),
            "Copies the dead-letter topic did not acknowledge.",
            labels=cl,
        )
        retries = counter(_n("handler_retries"), "Handler calls repeated.", labels=cl)
        serde = counter(
            _n("serde_errors"),
            "Objects not serialized and messages not deserialized, by error class.",
            labels=[*cl, "operation", "error"],
        )
        durations = histogram(
            _n("handler_duration_seconds"), "Duration of each handler call.", labels=cl
        )
        lag = gauge(
            _n("consumer_lag"),
            "Messages between the offset the group resumes from and the partition's end.",
            labels=["topic", "partition", "group"],
        )
        for (topic, contract), p in producers:
            produced.add_metric([topic, contract], p.produced)
            produced_bytes.add_metric([topic, contract], p.produced_bytes)
            failures.add_metric([topic, contract], p.delivery_failures)
            for error, n in sorted(dict(p.serialize_errors).items()):
                serde.add_metric([topic, contract, "", "serialize", error], n)
        for (topic, contract, group), c in consumers:
            labels = [topic, contract, group]
            consumed.add_metric(labels, c.consumed)
            consumed_bytes.add_metric(labels, c.consumed_bytes)
            dead.add_metric([*labels, "undecodable"], c.undecodable)
            dead.add_metric([*labels, "handler_failed"], c.handler_failed)
            dead_failed.add_metric(labels, c.dead_letter_failures)
            retries.add_metric(labels, c.retries)
            for error, n in sorted(dict(c.deserialize_errors).items()):
                serde.add_metric([*labels, "deserialize", error], n)
            durations.add_metric(labels, _cumulative(list(c.buckets)), c.duration_sum)
        for (topic, partition, group), value in lags:
            lag.add_metric([topic, partition, group], value)
        yield from (produced, produced_bytes, failures, consumed, consumed_bytes, dead, dead_failed)
        yield from (retries, serde, durations, lag)


def _n(name: str) -> str:
    return f"somacontracts_{name}"


def _cumulative(counts: list[int]) -> list[tuple[str, float]]:
    """Per-bucket counts as Prometheus's cumulative ``le`` buckets."""
    total = 0
    out: list[tuple[str, float]] = []
    for bound, n in zip((*map(repr, DURATION_BUCKETS), "+Inf"), counts, strict=True):
        total += n
        out.append((bound, total))
    return out


def _prometheus() -> Any:
    """The ``prometheus_client`` package, imported on first use."""
    try:
        import prometheus_client.exposition
        import prometheus_client.metrics_core
        import prometheus_client.registry
    except ImportError as err:
        raise ConfigurationError(
            "SOMACONTRACTS_METRICS",
            "metrics need the prometheus-client package: pip install 'somacontracts[metrics]'",
        ) from err
    return prometheus_client


_registered: weakref.WeakKeyDictionary[Any, ClientMetrics] = weakref.WeakKeyDictionary()
"""The :class:`ClientMetrics` of each Prometheus registry that has one."""
_registered_lock = threading.RLock()


def default_metrics() -> ClientMetrics:
    """The :class:`ClientMetrics` of ``prometheus_client``'s default registry (made on
    first use)."""
    registry = _prometheus().registry.REGISTRY
    with _registered_lock:
        found = _registered.get(registry)
        return found if found is not None else ClientMetrics(registry)


def metrics_for(metrics: ClientMetrics | bool | None, settings: Settings) -> ClientMetrics | None:
    """The metrics a client counts into: ``metrics`` if given (True: the default ones,
    False: none), else what ``settings`` (the ``SOMACONTRACTS_METRICS*`` variables) say;
    serves the default ones over HTTP when a port is configured."""
    if isinstance(metrics, ClientMetrics):
        return metrics
    chosen = settings.metrics
    enabled = chosen.enabled if metrics is None else metrics
    if not enabled:
        return None
    found = default_metrics()
    if chosen.port is not None:
        found.serve(chosen.port, chosen.address)
    return found
