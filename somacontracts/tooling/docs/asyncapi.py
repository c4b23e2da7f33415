"""An AsyncAPI 3.0 document of the catalog: servers, channels, messages and operations.

:func:`asyncapi_document` builds it (pure: the schema tree, the settings and the
registry URL in, plain data out); the ``somacontracts asyncapi`` command writes it as
YAML or JSON.

- ``servers``: one per bootstrap server of ``KAFKA_BOOTSTRAP_SERVERS`` (protocol
  ``kafka``, or ``kafka-secure`` over TLS; a SASL mechanism becomes a security scheme),
  with the Kafka binding's schema registry URL (credentials never written);
- ``channels``: one per catalog topic, at its address after environment overrides,
  and one per dead-letter topic (its ``DeadLetter`` message: the original bytes, with
  the ``dlq.*`` headers); Kafka bindings with partitions and the topic configuration
  (``cleanup.policy``, ``retention.ms``);
- ``components.messages``: one per contract version, the payload being the version's
  Avro schema (``application/vnd.apache.avro+json;version=1.9.0``), with the Kafka
  binding of the key (the contract's key field) and Confluent's schema id encoding;
- ``operations``: each producing service ``send``s the latest version to its topics;
  each consuming service ``receive``s every version, with its consumer group id (none
  where every instance reads every message), and ``send``s what it cannot handle to
  the dead-letter topic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from somacontracts.catalog.entries import Contract, Topic
from somacontracts.catalog.environment import Settings
from somacontracts.kafka.topics import DLQ_RETENTION_MS, dlq_name
from somacontracts.tooling.sources import ContractSchemas

__all__ = ["AVRO_FORMAT", "BINDING_VERSION", "asyncapi_document"]

AVRO_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
"""AsyncAPI's schema format of an Avro schema in JSON."""
BINDING_VERSION = "0.5.0"
"""The version of AsyncAPI's Kafka bindings used."""
_DEAD_LETTER_HEADERS = (
    "dlq.topic",
    "dlq.partition",
    "dlq.offset",
    "dlq.error",
    "dlq.attempts",
)
_SASL_SCHEMES: dict[str, dict[str, Any]] = {
    "PLAIN": {"type": "plain"},
    "SCRAM-SHA-256": {"type": "scramSha256"},
    "SCRAM-SHA-512": {"type": "scramSha512"},
    "GSSAPI": {"type": "gssapi"},
    "OAUTHBEARER": {
        "type": "oauth2",
        "flows": {},
        "description": "SASL/OAUTHBEARER: a token from the OAuth provider the client is "
        "configured with.",
    },
}
DEAD_LETTER = "DeadLetter"
"""The message of every dead-letter channel."""


def _camel(key: str) -> str:
    """``tool_requests`` or ``tool-executor`` as ``toolRequests``, ``toolExecutor``."""
    head, *rest = key.replace("-", "_").split("_")
    return head + "".join(part.capitalize() for part in rest)


def _message_key(contract: str, version: int) -> str:
    return f"{contract}_v{version}"


def asyncapi_document(
    tree: Mapping[str, ContractSchemas],
    settings: Settings,
    *,
    registry_url: str,
    version: str,
    other_registry_urls: Sequence[str] = (),
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the catalog's topics whose contracts are in ``tree``.

    ``registry_url`` is the schema registry's URL without credentials (the Kafka
    binding holds one; ``other_registry_urls`` are named in each server's description);
    ``version`` is the document's ``info.version``.
    """
    catalog = settings.catalog
    contracts = [name for name in catalog.contracts if name in tree]
    topics = [key for key, topic in catalog.topics.items() if topic.contract in tree]
    servers, schemes = _servers(settings, registry_url, other_registry_urls)
    messages = {
        _message_key(name, v.version): _message(catalog.contract(name), v.version, v.whole)
        for name in contracts
        for v in tree[name].versions
    }
    messages[DEAD_LETTER] = _dead_letter_message()
    dead_ref = {DEAD_LETTER: {"$ref": f"#/components/messages/{DEAD_LETTER}"}}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for key in topics:
        topic = catalog.topic(key)
        keys = [_message_key(topic.contract, v.version) for v in tree[topic.contract].versions]
        refs = {m: {"$ref": f"#/components/messages/{m}"} for m in keys}
        channel, dead = _camel(key), _camel(key) + "DeadLetters"
        name = settings.topic_name(key)
        channels[channel] = _channel(name, topic, refs, settings.retention_of(key)[0])
        channels[dead] = _dead_channel(name, topic, dead_ref)
        latest, title = keys[-1], channel[0].upper() + channel[1:]
        newest = tree[topic.contract].latest.version
        for service in topic.producers:
            operations[f"{_camel(service)}Sends{title}"] = {
                "action": "send",
                "summary": f"{service} produces {topic.contract} v{newest} to {name}.",
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [{"$ref": f"#/channels/{channel}/messages/{latest}"}],
            }
        for service in topic.consumers:
            group = settings.group_of(service, topic.key)
            stem = _camel(service)
            receive: dict[str, Any] = {
                "action": "receive",
                "summary": (
                    f"{service} consumes {name} in consumer group {group}."
                    if group
                    else f"Every {service} instance reads every message of {name} "
                    "(no shared consumer group)."
                ),
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in keys],
            }
            if group:
                receive["bindings"] = {
                    "kafka": {
                        "groupId": {"type": "string", "enum": [group]},
                        "bindingVersion": BINDING_VERSION,
                    }
                }
            operations[f"{stem}Receives{title}"] = receive
            operations[f"{stem}DeadLetters{title}"] = {
                "action": "send",
                "summary": (
                    f"{service} copies a message of {name} it cannot decode or handle to "
                    f"{dlq_name(name)}, with the dlq.* headers."
                ),
                "channel": {"$ref": f"#/channels/{dead}"},
                "messages": [{"$ref": f"#/channels/{dead}/messages/{DEAD_LETTER}"}],
            }
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "somastack event streams",
            "version": version,
            "description": (
                "The Kafka topics of the agent platform and the Avro contracts of their "
                "messages, generated by `somacontracts asyncapi` from the catalog. Messages "
                "are in Confluent's wire format: a zero byte, the schema id (4 bytes, big "
                "endian), then the Avro binary of the payload."
            ),
        },
        "defaultContentType": "application/octet-stream",
        "servers": servers,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
    if schemes:
        document["components"]["securitySchemes"] = schemes
    return document


def _servers(
    settings: Settings, registry_url: str, others: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    security = settings.security
    secure = security.protocol in ("SSL", "SASL_SSL")
    scheme = _SASL_SCHEMES.get(security.sasl_mechanism or "")
    schemes = {"sasl": scheme} if scheme and security.protocol.startswith("SASL") else {}
    servers: dict[str, Any] = {}
    hosts = settings.bootstrap_servers.split(",")
    for number, host in enumerate(hosts, 1):
        server: dict[str, Any] = {
            "host": host,
            "protocol": "kafka-secure" if secure else "kafka",
            "description": f"Bootstrap server {number} of {len(hosts)} ({security.protocol})."
            + (f" Schema registry also at {', '.join(others)}." if others else ""),
            "bindings": {
                "kafka": {
                    "schemaRegistryUrl": registry_url,
                    "schemaRegistryVendor": "confluent",
                    "bindingVersion": BINDING_VERSION,
                }
            },
        }
        if schemes:
            server["security"] = [{"$ref": "#/components/securitySchemes/sasl"}]
        servers[f"kafka{number}"] = server
    return servers, schemes


def _channel(
    address: str, topic: Topic, refs: dict[str, Any], retention_ms: int | None
) -> dict[str, Any]:
    description = (
        f"Producers: {', '.join(topic.producers)}. Consumers: {', '.join(topic.consumers)}."
        + (f" Lag alert above {topic.lag_alert} messages." if topic.lag_alert else "")
        + (f" Name set by {topic.env_var}." if topic.env_var else "")
    )
    return _channel_object(
        address,
        description,
        refs,
        topic.partitions,
        {
            "cleanup.policy": topic.cleanup_policy.split(","),
            **({} if retention_ms is None else {"retention.ms": retention_ms}),
        },
    )


def _dead_channel(base: str, topic: Topic, refs: dict[str, Any]) -> dict[str, Any]:
    description = (
        f"Dead-letter topic of {base}: the messages its consumers could not decode or "
        "handle, as they came (key, value and headers), with the dlq.* headers added."
    )
    return _channel_object(
        dlq_name(base),
        description,
        refs,
        topic.partitions,
        {
            "cleanup.policy": ["delete"],
            "retention.ms": DLQ_RETENTION_MS,
        },
    )


def _channel_object(
    address: str,
    description: str,
    refs: dict[str, Any],
    partitions: int,
    configuration: dict[str, Any],
) -> dict[str, Any]:
    return {
        "address": address,
        "title": address,
        "description": description,
        "messages": refs,
        "bindings": {
            "kafka": {
                "topic": address,
                "partitions": partitions,
                "topicConfiguration": configuration,
                "bindingVersion": BINDING_VERSION,
            }
        },
    }


def _dead_letter_message() -> dict[str, Any]:
    headers = {
        "dlq.topic": "The topic the message was read from.",
        "dlq.partition": "Its partition.",
        "dlq.offset": "Its offset.",
        "dlq.error": "Why it was not handled: the error class and message, one line.",
        "dlq.attempts": "Handler calls made (0: it could not be decoded).",
    }
    return {
        "name": DEAD_LETTER,
        "title": "Dead letter",
        "summary": "A message a consumer could not decode or handle, copied as it came.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "required": list(headers),
            "properties": {k: {"type": "string", "description": v} for k, v in headers.items()},
        },
        "payload": {
            "type": "string",
            "format": "binary",
            "description": "The original value's bytes, unchanged (encrypted fields stay "
            "encrypted); often, but not always, a message of the topic's contract.",
        },
    }


def _message(entry: Contract, version: int, schema: Mapping[str, Any]) -> dict[str, Any]:
    name = entry.name
    return {
        "name": name,
        "title": f"{name} v{version}",
        "summary": entry.description,
        "contentType": "application/octet-stream",
        "payload": {"schemaFormat": AVRO_FORMAT, "schema": dict(schema)},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": f"The {entry.key_field} of the payload.",
                },
                "schemaIdLocation": "payload",
                "schemaIdPayloadEncoding": "confluent",
                "schemaLookupStrategy": "TopicNameStrategy",
                "bindingVersion": BINDING_VERSION,
            }
        },
    }
