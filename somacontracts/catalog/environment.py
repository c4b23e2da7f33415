"""Settings from the environment: topic names, the consumer group, how clients reach Kafka.

:func:`load_settings` applies the overrides of the platform's document
(``TOOL_REQUESTS_TOPIC``, ``TOOL_RESULTS_TOPIC``, ``TOOL_EXECUTOR_GROUP``,
``KAFKA_BOOTSTRAP_SERVERS``), the Kafka security variables and the metrics switches
(``SOMACONTRACTS_METRICS*``) and the broker-wide retention (``KAFKA_CFG_LOG_RETENTION_HOURS``)
to a catalog (the project's, :func:`~somacontracts.catalog.reading.find_catalog`, unless one
is given), checks every value, and returns a :class:`Settings` that builds confluent-kafka
configuration dictionaries. A bad value is a
:class:`~somacontracts.errors.ConfigurationError` naming the variable; values of
variables that may hold a secret are not quoted.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from somacontracts.catalog.entries import Catalog, subject_for_topic
from somacontracts.catalog.reading import TOPIC_NAME, find_catalog, platform_catalog
from somacontracts.errors import ConfigurationError

KAFKA_LOG = logging.getLogger("somacontracts.kafka.client")
"""Where librdkafka's own log goes (confluent-kafka's ``logger`` setting, served as the
clients poll): through ``logging``, so silent unless the application shows it (the
``somacontracts`` command does with ``-v``). Without it, librdkafka writes every failed
connection attempt to stderr."""
KAFKA_LOG.addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_BOOTSTRAP_SERVERS",
    "DEFAULT_TOOL_EXECUTOR_GROUP",
    "KAFKA_LOG",
    "RETENTION_VARIABLE",
    "SASL_MECHANISMS",
    "SECURITY_PROTOCOLS",
    "KafkaSecurity",
    "MetricsSettings",
    "Settings",
    "load_settings",
    "load_topic_settings",
]

DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092"
DEFAULT_TOOL_EXECUTOR_GROUP = "tool-executor"
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER")
_PASSWORD_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
RETENTION_VARIABLE = "KAFKA_CFG_LOG_RETENTION_HOURS"
"""The broker-wide retention of the platform's document, which topics the catalog does not
pin take (README, "Retention")."""
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.\-\[\]:]+\Z")
_HOST_NAME = re.compile(
    r"(?=.{1,253}\Z)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\Z"
)
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})\Z")


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """How clients authenticate to Kafka; built from the ``KAFKA_*`` security variables."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ca_file: str | None = None

    def client_config(self) -> dict[str, str]:
        """The librdkafka settings for this security setup."""
        config = {"security.protocol": self.protocol}
        if self.sasl_mechanism:
            config["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username is not None:
            config["sasl.username"] = self.sasl_username
        if self.sasl_password is not None:
            config["sasl.password"] = self.sasl_password
        if self.ca_file:
            config["ssl.ca.location"] = self.ca_file
        return config


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """Whether the typed clients report Prometheus metrics, and where they serve them.

    From ``SOMACONTRACTS_METRICS`` (1/true/yes/on or 0/false/no/off),
    ``SOMACONTRACTS_METRICS_PORT`` (serve the metrics over HTTP on this port; turns them
    on) and ``SOMACONTRACTS_METRICS_ADDRESS`` (default 127.0.0.1; 0.0.0.0 to be scraped
    from other hosts).
    """

    enabled: bool = False
    port: int | None = None
    address: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Settings:
    """Topic names, consumer group and Kafka connection resolved from the environment."""

    topic_names: Mapping[str, str]
    """Topic key -> the name in use (default or overridden)."""
    tool_executor_group: str
    bootstrap_servers: str
    security: KafkaSecurity
    metrics: MetricsSettings = MetricsSettings()
    catalog: Catalog = field(default_factory=platform_catalog)
    """The catalog the names and groups are of."""
    log_retention_ms: int | None = None
    """``KAFKA_CFG_LOG_RETENTION_HOURS`` in milliseconds, where it is set."""

    def topic_name(self, topic_key: str) -> str:
        """The name in use for the topic with key ``topic_key``."""
        return self.topic_names[topic_key]

    def topics_of(self, contract_name: str) -> tuple[str, ...]:
        """The names in use of the topics that carry ``contract_name``."""
        return tuple(self.topic_names[key] for key in self.catalog.contract(contract_name).topics)

    def topic_named(self, name: str) -> str | None:
        """The key of the topic whose name in use is ``name``; None if no topic has it."""
        return next((key for key, used in self.topic_names.items() if used == name), None)

    def retention_of(self, topic_key: str) -> tuple[int | None, str]:
        """The retention (ms, -1 for ever) ``topics apply`` gives a topic, and where it comes
        from: the catalog's pinned ``retention``, else ``KAFKA_CFG_LOG_RETENTION_HOURS``,
        else the catalog's ``default-retention``, else none (the broker's, None)."""
        topic = self.catalog.topic(topic_key)
        if topic.retention_ms is not None:
            return topic.retention_ms, "retention in the catalog"
        if self.log_retention_ms is not None:
            return self.log_retention_ms, RETENTION_VARIABLE
        if topic.default_retention_ms is not None:
            return topic.default_retention_ms, "default-retention in the catalog"
        return None, "the broker's"

    def subjects_of(self, contract_name: str) -> tuple[str, ...]:
        """The registry subjects of ``contract_name`` (``<topic>-value`` per topic)."""
        return tuple(subject_for_topic(name) for name in self.topics_of(contract_name))

    def group_of(self, service: str, topic_key: str) -> str | None:
        """The consumer group a consuming service of the catalog reads ``topic_key`` in:
        ``TOOL_EXECUTOR_GROUP`` for the tool executor (the one group the platform's
        document names), else the service's name; None where every instance reads every
        message (``Topic.every_instance``)."""
        if self.catalog.topic(topic_key).every_instance:
            return None
        return self.tool_executor_group if service == "tool-executor" else service

    def group_for(self, topics: Sequence[str], service: str | None = None) -> str | None:
        """The consumer group to read ``topics`` in when none is given: the group of
        ``service`` (:meth:`group_of`), else of the one service the catalog names as their
        consumer; None for topics outside the catalog (``TOOL_EXECUTOR_GROUP`` then). A
        topic read by several services, or by every instance (``every-instance``), is
        :class:`ConfigurationError`: one default for several services would split their
        messages between them."""
        groups = set()
        for name in topics:
            key = self.topic_named(name)
            if key is None:
                return None
            readers = (service,) if service is not None else self.catalog.topic(key).consumers
            if len(readers) != 1:
                named = ", ".join(readers) or "none"
                raise ConfigurationError(
                    "group_id",
                    f'topic "{name}" has {len(readers)} consuming services in the catalog '
                    f"({named}); give group_id= or service=",
                )
            group = self.group_of(readers[0], key)
            if group is None:
                raise ConfigurationError(
                    "group_id",
                    f'every instance reads topic "{name}" (every-instance): give each its '
                    "own group_id=",
                )
            groups.add(group)
        if len(groups) != 1:
            raise ConfigurationError(
                "group_id", f"the topics are read in different groups ({', '.join(sorted(groups))})"
            )
        return groups.pop()

    def kafka_config(self) -> dict[str, Any]:
        """Settings every confluent-kafka client needs: bootstrap servers and security."""
        return {
            "bootstrap.servers": self.bootstrap_servers,
            **self.security.client_config(),
            "logger": KAFKA_LOG,
        }

    def producer_config(self) -> dict[str, Any]:
        """Configuration for a ``confluent_kafka.Producer``: idempotent, ``acks=all``."""
        return {**self.kafka_config(), "enable.idempotence": True, "acks": "all"}

    def consumer_config(self, group_id: str | None = None) -> dict[str, Any]:
        """Configuration for a ``confluent_kafka.Consumer`` committing offsets explicitly.

        ``group_id`` defaults to the tool executor's group (``TOOL_EXECUTOR_GROUP``); a
        typed consumer asks :meth:`group_for` instead.
        """
        group = self.tool_executor_group if group_id is None else group_id
        if not group:
            raise ConfigurationError("group_id", "must not be empty")
        return {
            **self.kafka_config(),
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }

    def admin_config(self) -> dict[str, Any]:
        """Configuration for a ``confluent_kafka.admin.AdminClient``."""
        return self.kafka_config()


def load_settings(
    environ: Mapping[str, str] | None = None, *, catalog: Catalog | None = None
) -> Settings:
    """Resolve topic names, group and Kafka connection from ``environ`` (default
    ``os.environ``) for ``catalog`` (default: the project's, found by
    :func:`~somacontracts.catalog.reading.find_catalog`).

    Raises :class:`ConfigurationError` naming the variable for any value that cannot be
    used: an empty or illegal topic name, a malformed bootstrap list, an unknown
    security protocol or SASL mechanism, credentials without a SASL protocol, a CA
    file that cannot be read.
    """
    env = os.environ if environ is None else environ
    catalog = find_catalog(env) if catalog is None else catalog
    topics = catalog.topics
    names = {}
    for topic in topics.values():
        name = topic.default_name
        if topic.env_var is not None and topic.env_var in env:
            name = _topic_name(topic.env_var, env[topic.env_var])
        names[topic.key] = name
    for key, name in names.items():
        base = name.removesuffix(".dlq")
        other = next((k for k, n in names.items() if k != key and n == base), None)
        if name.endswith(".dlq") and other is not None:
            variable = topics[key].env_var or key
            raise ConfigurationError(
                variable,
                f"{name!r} is the dead-letter topic of {base!r} ({topics[other].env_var or other})",
            )
    clashes = {n for n in names.values() if list(names.values()).count(n) > 1}
    if clashes:
        variables = [t.env_var for t in topics.values() if names[t.key] in clashes and t.env_var]
        raise ConfigurationError(
            " / ".join(variables) or "topics",
            f"two topics would share the name {sorted(clashes)[0]!r}",
        )
    return Settings(
        topic_names=MappingProxyType(names),
        tool_executor_group=_non_empty(env, "TOOL_EXECUTOR_GROUP", DEFAULT_TOOL_EXECUTOR_GROUP),
        bootstrap_servers=_bootstrap(env),
        security=_security(env),
        metrics=_metrics(env),
        catalog=catalog,
        log_retention_ms=_retention(env),
    )


def load_topic_settings(
    environ: Mapping[str, str] | None = None, *, catalog: Catalog | None = None
) -> Settings:
    """Settings with only the topic names, consumer group and retention of ``environ``
    (default ``os.environ``) applied: for documents that name topics (alert rules, the docs
    site), which no Kafka connection or metrics variable should stop."""
    env = os.environ if environ is None else environ
    catalog = find_catalog(env) if catalog is None else catalog
    wanted = {t.env_var for t in catalog.topics.values() if t.env_var}
    wanted |= {"TOOL_EXECUTOR_GROUP", RETENTION_VARIABLE}
    return load_settings({k: v for k, v in env.items() if k in wanted}, catalog=catalog)


def _retention(env: Mapping[str, str]) -> int | None:
    text = _optional(env, RETENTION_VARIABLE)
    if text is None:
        return None
    try:
        hours = int(text)
    except ValueError:
        hours = 0
    if hours == -1:
        return -1
    if not 1 <= hours <= 2**31 - 1:
        raise ConfigurationError(
            RETENTION_VARIABLE, f"{text!r} is not a whole number of hours above 0, or -1 (for ever)"
        )
    return hours * 3_600_000


def _non_empty(env: Mapping[str, str], variable: str, default: str) -> str:
    if variable not in env:
        return default
    value = env[variable].strip()
    if not value:
        raise ConfigurationError(variable, "is set but empty; unset it or give a value")
    return value


def _optional(env: Mapping[str, str], variable: str) -> str | None:
    if variable not in env:
        return None
    return _non_empty(env, variable, "")


def _topic_name(variable: str, value: str) -> str:
    if not value.strip():
        raise ConfigurationError(variable, "is set but empty; unset it or give a topic name")
    if value in (".", "..") or not TOPIC_NAME.match(value):
        raise ConfigurationError(
            variable,
            f"{value!r} is not a legal Kafka topic name "
            "(1-249 characters of A-Z a-z 0-9 . _ -, and not . or ..)",
        )
    return value


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _metrics(env: Mapping[str, str]) -> MetricsSettings:
    switch = _optional(env, "SOMACONTRACTS_METRICS")
    if switch is not None and switch.lower() not in _TRUE + _FALSE:
        raise ConfigurationError(
            "SOMACONTRACTS_METRICS", f"{switch!r} is not one of {', '.join(_TRUE + _FALSE)}"
        )
    port_text = _optional(env, "SOMACONTRACTS_METRICS_PORT")
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigurationError(
                "SOMACONTRACTS_METRICS_PORT", f"{port_text!r} is not a port (1-65535)"
            )
        port = int(port_text)
    address = _non_empty(env, "SOMACONTRACTS_METRICS_ADDRESS", "127.0.0.1")
    bare = address.removeprefix("[").removesuffix("]")  # [::1] as URLs write it
    numeric = bool(re.fullmatch(r"[0-9.]+", bare))  # 999.1.1.1 is no host name either
    if not _is_ip(bare) and (numeric or not _HOST_NAME.match(bare)):
        raise ConfigurationError(
            "SOMACONTRACTS_METRICS_ADDRESS",
            f"{address!r} is not an IP address or host name (no port: that is "
            "SOMACONTRACTS_METRICS_PORT)"
            if _PLAIN_ADDRESS.match(address)
            else "is not an IP address or host name",
        )
    address = bare
    enabled = port is not None if switch is None else switch.lower() in _TRUE
    return MetricsSettings(enabled=enabled, port=port if enabled else None, address=address)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _bootstrap(env: Mapping[str, str]) -> str:
    variable = "KAFKA_BOOTSTRAP_SERVERS"
    value = _non_empty(env, variable, DEFAULT_BOOTSTRAP_SERVERS)
    servers = [s.strip() for s in value.split(",")]
    for number, server in enumerate(servers, 1):
        match = _HOST_PORT.match(server)
        if not match or not 0 < int(match.group(2)) < 65536:
            # Quoted only when it looks like a host and port: anything else may hold a secret.
            shown = repr(server) if _PLAIN_ADDRESS.match(server) else f"entry {number}"
            raise ConfigurationError(
                variable, f"{shown} is not host:port (expected a comma-separated list)"
            )
    return ",".join(servers)


def _security(env: Mapping[str, str]) -> KafkaSecurity:
    protocol = (_optional(env, "KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT").upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise ConfigurationError(
            "KAFKA_SECURITY_PROTOCOL",
            "is not a security protocol (its value is not shown: a misplaced secret would be "
            f"printed); expected one of {', '.join(SECURITY_PROTOCOLS)}",
        )
    mechanism = _optional(env, "KAFKA_SASL_MECHANISM")
    username = _optional(env, "KAFKA_SASL_USERNAME")
    password = _optional(env, "KAFKA_SASL_PASSWORD")
    ca_file = _optional(env, "KAFKA_SSL_CAFILE")
    uses_sasl = protocol.startswith("SASL_")
    if not uses_sasl:
        for variable, value in (
            ("KAFKA_SASL_MECHANISM", mechanism),
            ("KAFKA_SASL_USERNAME", username),
            ("KAFKA_SASL_PASSWORD", password),
        ):
            if value is not None:
                raise ConfigurationError(
                    variable,
                    f"is set but KAFKA_SECURITY_PROTOCOL is {protocol}, which ignores it; "
                    "use SASL_SSL or SASL_PLAINTEXT",
                )
    if uses_sasl:
        mechanism = (mechanism or "PLAIN").upper()
        if mechanism not in SASL_MECHANISMS:
            raise ConfigurationError(
                "KAFKA_SASL_MECHANISM",
                "is not a SASL mechanism (its value is not shown: a SASL variable may hold "
                f"a secret); expected one of {', '.join(SASL_MECHANISMS)}",
            )
        if mechanism in _PASSWORD_MECHANISMS:
            for variable, value in (
                ("KAFKA_SASL_USERNAME", username),
                ("KAFKA_SASL_PASSWORD", password),
            ):
                if value is None:
                    raise ConfigurationError(
                        variable, f"is required for SASL mechanism {mechanism}"
                    )
    if ca_file is not None:
        if protocol not in ("SSL", "SASL_SSL"):
            raise ConfigurationError(
                "KAFKA_SSL_CAFILE",
                f"is set but KAFKA_SECURITY_PROTOCOL is {protocol}, which uses no TLS",
            )
        if not os.path.isfile(ca_file) or not os.access(ca_file, os.R_OK):
            raise ConfigurationError("KAFKA_SSL_CAFILE", f"{ca_file!r} is not a readable file")
    return KafkaSecurity(
        protocol=protocol,
        sasl_mechanism=mechanism,
        sasl_username=username,
        sasl_password=password,
        ca_file=ca_file,
    )
