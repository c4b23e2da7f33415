"""Topic provisioning: compare the catalog's topics with a cluster, then create or update them.

:func:`catalog_topics` lists what the catalog asks for (names after environment
overrides, partitions, ``retention.ms``, ``cleanup.policy``), plus a dead-letter topic
``<topic>.dlq`` per topic. :func:`plan_topics` reads the cluster and returns one
:class:`TopicPlan` per topic; :func:`apply_plans` carries them out. Applying twice
changes nothing the second time.

Partitions only grow: a topic with more partitions than the catalog asks for is left
as it is (reported), and :func:`scale_topic` refuses to shrink. Configuration is
compared only for the keys this module manages, so broker defaults of other keys do not
show up as differences.

Compaction: a topic named in ``compact`` gets ``cleanup.policy=compact,delete``, which
keeps the latest message per key until ``retention.ms``. Use it only for audit topics
whose producers key messages by ``task_id`` (``ContractProducer(key_field="task_id")``);
with the default tenant key, compaction would keep one message per tenant.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource
from confluent_kafka.cimpl import NewPartitions, NewTopic

from somacontracts.catalog.environment import Settings
from somacontracts.errors import ConfigurationError
from somacontracts.kafka._admin import DEFAULT_CONNECT_TIMEOUT, ensure_reachable, kafka_reason
from somacontracts.kafka.errors import KafkaOperationError, PartitionShrinkError

__all__ = [
    "COMPACT_DELETE",
    "DLQ_RETENTION_MS",
    "DLQ_SUFFIX",
    "TopicPlan",
    "TopicSpec",
    "apply_plans",
    "catalog_topics",
    "cluster_id",
    "dlq_name",
    "ensure_topics",
    "open_admin",
    "plan_topics",
    "scale_topic",
]

DLQ_SUFFIX = ".dlq"
DLQ_RETENTION_MS = 14 * 24 * 60 * 60 * 1000
"""Dead letters stay two weeks, long enough to inspect and replay them."""
COMPACT_DELETE = "compact,delete"
_MANAGED = ("retention.ms", "cleanup.policy")
_TIMEOUT = 30.0


def dlq_name(topic: str) -> str:
    """The dead-letter topic of ``topic``."""
    return topic + DLQ_SUFFIX


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic as it should be: name, partitions and the managed configuration."""

    name: str
    partitions: int
    config: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    origins: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Where a configuration value comes from, by key, where it says something (the
    retention: the catalog, ``KAFKA_CFG_LOG_RETENTION_HOURS`` or the broker)."""

    def origin(self, key: str) -> str:
        """`` (from ...)`` for a key whose value has an origin to tell, else empty."""
        return f" ({self.origins[key]})" if key in self.origins else ""


@dataclass(frozen=True, slots=True)
class TopicPlan:
    """What must change for a topic to match its spec; empty when it already does."""

    spec: TopicSpec
    exists: bool
    partitions: int | None = None
    """Current partition count, None when the topic does not exist."""
    config_changes: Mapping[str, tuple[str | None, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """Key -> (current value or None, wanted value)."""

    @property
    def grow_to(self) -> int | None:
        """The partition count to grow to, or None."""
        if self.exists and self.partitions is not None and self.partitions < self.spec.partitions:
            return self.spec.partitions
        return None

    @property
    def changed(self) -> bool:
        """Whether applying the plan would change the cluster."""
        return not self.exists or bool(self.config_changes) or self.grow_to is not None

    def describe(self) -> list[str]:
        """One line per difference (or one line saying it is up to date)."""
        name = self.spec.name
        if not self.exists:
            config = ", ".join(
                f"{k}={v}{self.spec.origin(k)}" for k, v in sorted(self.spec.config.items())
            )
            kept = [k for k in self.spec.origins if k not in self.spec.config]
            config += "".join(f", {k} {self.spec.origins[k]}" for k in kept)
            return [f"{name}: create with {self.spec.partitions} partitions, {config}"]
        lines = [
            f"{name}: {key} {old if old is not None else '(default)'} -> {new}"
            f"{self.spec.origin(key)}"
            for key, (old, new) in sorted(self.config_changes.items())
        ]
        if self.grow_to is not None:
            lines.append(f"{name}: partitions {self.partitions} -> {self.grow_to}")
        elif self.partitions is not None and self.partitions > self.spec.partitions:
            lines.append(
                f"{name}: has {self.partitions} partitions, more than the "
                f"{self.spec.partitions} asked for; left as is (partitions only grow)"
            )
        told = "; ".join(f"{k} {v}" for k, v in sorted(self.spec.origins.items()))
        return lines or [f"{name}: up to date" + (f" ({told})" if told else "")]


def catalog_topics(
    settings: Settings, *, compact: Iterable[str] = (), dlq: bool = True
) -> list[TopicSpec]:
    """The catalog's topics under the names in use, with a dead-letter topic each.

    ``compact`` names topics (by name in use or catalog key) that get
    ``cleanup.policy=compact,delete``.
    """
    wanted = set(compact)
    specs = []
    for topic in settings.catalog.topics.values():
        name = settings.topic_name(topic.key)
        policy = COMPACT_DELETE if {name, topic.key} & wanted else topic.cleanup_policy
        retention, origin = settings.retention_of(topic.key)
        config = {"cleanup.policy": policy}
        if retention is not None:
            config["retention.ms"] = str(retention)
            origin = f"from {origin}"
        else:
            origin = "left to the broker's log.retention settings"
        specs.append(
            TopicSpec(
                name,
                topic.partitions,
                MappingProxyType(config),
                MappingProxyType({"retention.ms": origin}),
            )
        )
        if dlq:
            specs.append(
                TopicSpec(
                    dlq_name(name),
                    topic.partitions,
                    MappingProxyType(
                        {"retention.ms": str(DLQ_RETENTION_MS), "cleanup.policy": "delete"}
                    ),
                )
            )
    return specs


def open_admin(settings: Settings, *, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> AdminClient:
    """An admin client for ``settings``' cluster, checked to be reachable within ``timeout``."""
    admin = AdminClient({**settings.admin_config(), "log.connection.close": False})
    ensure_reachable(admin, settings.bootstrap_servers, timeout=timeout)
    return admin


def cluster_id(settings: Settings, *, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> str | None:
    """The id of the Kafka cluster of ``settings``; None if none of its bootstrap servers
    accepts a connection (asked first, so that no cluster costs no wait). A server that
    accepts one but gives no metadata within ``timeout`` is a
    :class:`~somacontracts.kafka.errors.BrokerUnavailableError`."""
    if not any(_accepts(server) for server in settings.bootstrap_servers.split(",")):
        return None
    admin = AdminClient({**settings.admin_config(), "log.connection.close": False})
    metadata = ensure_reachable(admin, settings.bootstrap_servers, timeout=timeout)
    found = getattr(metadata, "cluster_id", None)
    return str(found) if found else None


def _accepts(server: str) -> bool:
    """Whether ``host:port`` (an IPv6 host in brackets) accepts a TCP connection."""
    host, _, port = server.strip().rpartition("://")[2].rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


def _same(key: str, current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    if key == "cleanup.policy":
        return {p.strip() for p in current.split(",")} == {p.strip() for p in wanted.split(",")}
    return current == wanted


def plan_topics(admin: AdminClient, specs: Sequence[TopicSpec]) -> list[TopicPlan]:
    """Compare ``specs`` with the cluster; one plan per spec, in order."""
    metadata = admin.list_topics(timeout=_TIMEOUT)
    existing = {
        spec.name: len(metadata.topics[spec.name].partitions)
        for spec in specs
        if spec.name in metadata.topics and metadata.topics[spec.name].error is None
    }
    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in existing]
    current: dict[str, dict[str, str | None]] = {}
    if resources:
        for resource, future in admin.describe_configs(resources).items():
            entries = _result(future, resource.name, "describe configs")
            current[resource.name] = {
                key: (entries[key].value if key in entries else None) for key in _MANAGED
            }
    plans = []
    for spec in specs:
        if spec.name not in existing:
            plans.append(TopicPlan(spec, exists=False))
            continue
        values = current.get(spec.name, {})
        changes = {
            key: (values.get(key), wanted)
            for key, wanted in spec.config.items()
            if not _same(key, values.get(key), wanted)
        }
        plans.append(
            TopicPlan(
                spec,
                exists=True,
                partitions=existing[spec.name],
                config_changes=MappingProxyType(changes),
            )
        )
    return plans


def _result(future: Any, topic: str, operation: str) -> Any:
    try:
        return future.result(timeout=_TIMEOUT)
    except Exception as err:  # admin futures raise KafkaException or a timeout.
        raise KafkaOperationError(topic, operation, kafka_reason(err)) from err


def apply_plans(admin: AdminClient, plans: Sequence[TopicPlan]) -> int:
    """Create missing topics, set differing configuration, grow partitions; return changes."""
    to_create = [
        NewTopic(p.spec.name, p.spec.partitions, config=dict(p.spec.config))
        for p in plans
        if not p.exists
    ]
    if to_create:
        for name, future in admin.create_topics(to_create, request_timeout=_TIMEOUT).items():
            _result(future, name, "create")
    to_alter = [
        ConfigResource(
            ConfigResource.Type.TOPIC,
            p.spec.name,
            incremental_configs=[
                ConfigEntry(key, new, incremental_operation=AlterConfigOpType.SET)
                for key, (_old, new) in sorted(p.config_changes.items())
            ],
        )
        for p in plans
        if p.exists and p.config_changes
    ]
    if to_alter:
        for resource, future in admin.incremental_alter_configs(to_alter).items():
            _result(future, resource.name, "alter configs")
    for plan in plans:
        if plan.grow_to is not None:
            _grow(admin, plan.spec.name, plan.grow_to)
    return sum(1 for p in plans if p.changed)


def ensure_topics(
    settings: Settings, names: Iterable[str], *, timeout: float = DEFAULT_CONNECT_TIMEOUT
) -> list[str]:
    """Create those of the catalog topics ``names`` (by name in use), and of their
    dead-letter topics, that the cluster lacks, as the catalog declares them; return the
    names created. Topics that exist are left as they are, and one another client creates
    at the same moment counts as there: many instances may boot at once. A name the
    catalog does not declare is a :class:`~somacontracts.errors.ConfigurationError`."""
    names = list(dict.fromkeys(names))
    wanted = set(names) | {dlq_name(name) for name in names}
    specs = [spec for spec in catalog_topics(settings) if spec.name in wanted]
    unknown = [name for name in names if name not in {spec.name for spec in specs}]
    if unknown:
        where = f" ({settings.catalog.source})" if settings.catalog.source else ""
        raise ConfigurationError(
            "ensure_topics",
            f"topic {unknown[0]!r} is not in the catalog{where}: declare it there to have it "
            "created",
        )
    admin = open_admin(settings, timeout=timeout)
    missing = [plan.spec for plan in plan_topics(admin, specs) if not plan.exists]
    if not missing:
        return []
    created = []
    requests = [NewTopic(s.name, s.partitions, config=dict(s.config)) for s in missing]
    for name, future in admin.create_topics(requests, request_timeout=_TIMEOUT).items():
        try:
            future.result(timeout=_TIMEOUT)
            created.append(name)
        except Exception as err:  # admin futures raise KafkaException or a timeout.
            error = err.args[0] if err.args else None
            if not isinstance(error, KafkaError) or error.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise KafkaOperationError(name, "create", kafka_reason(err)) from err
    return created


def _grow(admin: AdminClient, topic: str, partitions: int) -> None:
    futures = admin.create_partitions([NewPartitions(topic, partitions)])
    for name, future in futures.items():
        _result(future, name, f"grow to {partitions} partitions")


def scale_topic(admin: AdminClient, topic: str, partitions: int) -> bool:
    """Grow ``topic`` to ``partitions``; False if it has them already.

    Raises :class:`PartitionShrinkError` for fewer partitions than it has.
    """
    metadata = admin.list_topics(topic=topic, timeout=_TIMEOUT)
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        raise KafkaOperationError(topic, "scale", "the topic does not exist")
    current = len(found.partitions)
    if partitions < current:
        raise PartitionShrinkError(topic, current, partitions)
    if partitions == current:
        return False
    _grow(admin, topic, partitions)
    return True
