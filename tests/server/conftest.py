"""Fixtures of the registry tests: a started local registry and a Confluent client on it."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from somacontracts.tooling.registry import LocalRegistry

PII_EVENT_SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Event",
        "namespace": "test",
        "fields": [
            {"name": "tenant_id", "type": "string"},
            {"name": "content", "type": "string", "confluent:tags": ["PII"]},
        ],
    }
)
"""A record with a field tagged PII, for the Data Contract and encryption tests."""


class _Guid:
    """Equal to any GUID as the registry writes it: a version 8 UUID, in lower case."""

    _FORM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self._FORM.fullmatch(other) is not None

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "<a GUID>"


A_GUID: Any = _Guid()
"""Compares equal to a GUID of the registry's form, in answers compared whole."""


@pytest.fixture
def registry() -> Iterator[LocalRegistry]:
    with LocalRegistry(host="127.0.0.1", port=0) as started:
        yield started


@pytest.fixture
def client(registry: LocalRegistry) -> Iterator[SchemaRegistryClient]:
    with connect(registry.url) as sr_client:
        yield sr_client


def connect(url: str, **conf: Any) -> SchemaRegistryClient:
    """A client that does not retry, so that a server error shows at once."""
    return SchemaRegistryClient({"url": url, "max.retries": 0, **conf})


def record(name: str, *fields: dict[str, Any], namespace: str = "test") -> Schema:
    """An Avro record schema for the client."""
    schema = {"type": "record", "name": name, "namespace": namespace, "fields": list(fields)}
    return Schema(json.dumps(schema), "AVRO")


def field(name: str, type_: Any = "string", **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def raw(
    url: str,
    method: str,
    path: str,
    body: bytes | str | Any | None = None,
    *,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> tuple[int, Any]:
    """Send one request; return the status and the decoded JSON body."""
    data: bytes | None
    if body is None or isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read() or b"null")
