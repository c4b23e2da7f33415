"""The DEK registry of the local registry: its REST API and codes, and confluent-kafka's own
field-encryption executor (local KMS) encrypting and decrypting through it."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import unicodedata
import urllib.parse
from collections.abc import Iterator
from typing import Any, cast

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.common.schema_registry_client import (
    Rule,
    RuleKind,
    RuleMode,
    RuleParams,
    RuleSet,
)
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.rules.encryption.dek_registry.dek_registry_client import (
    DekRegistryClient,
)
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import (
    Clock,
    FieldEncryptionExecutor,
)
from confluent_kafka.schema_registry.rules.encryption.localkms.local_driver import LocalKmsDriver
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import given, settings
from hypothesis import strategies as st

from somacontracts.tooling.registry import LocalRegistry
from somacontracts.tooling.registry.deks import is_kek_name
from tests.server.conftest import PII_EVENT_SCHEMA, connect, raw

KEKS = "/dek-registry/v1/keks"
MATERIAL = base64.b64encode(b"k" * 48).decode()


@pytest.fixture
def deks(registry: LocalRegistry) -> Iterator[DekRegistryClient]:
    client = DekRegistryClient({"url": registry.url})
    yield client
    client.__exit__()  # type: ignore[no-untyped-call]


def test_keks_and_deks_through_confluent_s_client(
    registry: LocalRegistry, deks: DekRegistryClient
) -> None:
    kek = deks.register_kek("kek1", "local-kms", "key-1", doc="for tests")
    assert (kek.name, kek.kms_type, kek.kms_key_id, kek.shared) == (
        "kek1",
        "local-kms",
        "key-1",
        False,
    )
    assert deks.register_kek("kek1", "local-kms", "key-1", doc="for tests") == kek  # again
    dek = deks.register_dek("kek1", "events-value", MATERIAL)
    assert (dek.kek_name, dek.subject, dek.version, dek.encrypted_key_material) == (
        "kek1",
        "events-value",
        1,
        MATERIAL,
    )
    assert dek.ts
    deks.register_dek("kek1", "events-value", MATERIAL, version=2)
    with DekRegistryClient({"url": registry.url}) as fresh:  # no cache
        assert fresh.get_kek("kek1").kms_key_id == "key-1"
        assert fresh.get_dek("kek1", "events-value", version=2).version == 2
        assert fresh.get_dek("kek1", "events-value", version=-1).version == 2
    url = registry.url
    assert raw(url, "GET", KEKS)[1] == ["kek1"]
    assert raw(url, "GET", f"{KEKS}/kek1/deks")[1] == ["events-value"]
    assert raw(url, "GET", f"{KEKS}/kek1/deks/events-value/versions")[1] == [1, 2]
    assert raw(url, "GET", f"{KEKS}/kek1/deks/events-value")[1]["version"] == 2


def test_the_api_s_codes(registry: LocalRegistry) -> None:
    url = registry.url

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, answer = raw(url, method, path, body)
        return status, (answer or {}).get("error_code") if isinstance(answer, dict) else answer

    kek = {"name": "kek1", "kmsType": "local-kms", "kmsKeyId": "key-1"}
    assert call("GET", f"{KEKS}/kek1") == (404, 40470)
    assert call("POST", KEKS, {**kek, "kmsKeyId": ""}) == (422, 42271)
    assert call("POST", KEKS, {**kek, "name": "-bad"}) == (422, 42271)
    assert call("POST", KEKS, kek)[0] == 200
    assert call("POST", KEKS, {**kek, "kmsKeyId": "other"}) == (409, 40971)
    assert call("PUT", f"{KEKS}/kek1", {"doc": "changed", "kmsProps": {"a": "b"}})[0] == 200
    assert raw(url, "GET", f"{KEKS}/kek1")[1]["doc"] == "changed"
    dek = {"subject": "s", "encryptedKeyMaterial": MATERIAL}
    assert call("POST", f"{KEKS}/kek1/deks", {"subject": "s"}) == (422, 42271)
    assert call("POST", f"{KEKS}/kek1/deks", {**dek, "algorithm": "ROT13"}) == (422, 42271)
    assert call("POST", f"{KEKS}/nope/deks", dek) == (404, 40470)
    assert call("POST", f"{KEKS}/kek1/deks/s", dek)[0] == 200
    assert call("POST", f"{KEKS}/kek1/deks/s", {**dek, "encryptedKeyMaterial": "eA=="}) == (
        409,
        40971,
    )
    assert call("GET", f"{KEKS}/kek1/deks/s/versions/7") == (404, 40470)
    assert call("GET", f"{KEKS}/kek1/deks/s/versions/x") == (422, 42271)
    # a kek with deks stays; deks go soft first, then for good
    assert call("DELETE", f"{KEKS}/kek1") == (422, 42272)
    assert call("DELETE", f"{KEKS}/kek1/deks/s?permanent=true") == (404, 40471)
    assert call("DELETE", f"{KEKS}/kek1/deks/s") == (204, None)
    assert call("GET", f"{KEKS}/kek1/deks/s") == (404, 40470)
    assert raw(url, "GET", f"{KEKS}/kek1/deks/s?deleted=true")[1]["deleted"] is True
    assert call("POST", f"{KEKS}/kek1/deks/s/undelete") == (204, None)
    assert call("GET", f"{KEKS}/kek1/deks/s")[0] == 200
    assert call("DELETE", f"{KEKS}/kek1/deks/s") == (204, None)
    assert call("DELETE", f"{KEKS}/kek1/deks/s?permanent=true") == (204, None)
    assert call("DELETE", f"{KEKS}/kek1?permanent=true") == (404, 40471)
    assert call("DELETE", f"{KEKS}/kek1") == (204, None)
    assert raw(url, "GET", KEKS)[1] == []
    assert raw(url, "GET", f"{KEKS}?deleted=true")[1] == ["kek1"]
    assert call("POST", KEKS, kek) == (409, 40971)  # a soft-deleted name stays taken
    assert call("DELETE", f"{KEKS}/kek1?permanent=true") == (204, None)
    assert raw(url, "GET", f"{KEKS}?deleted=true")[1] == []


def test_a_shared_kek_needs_the_encrypted_key_from_the_client(registry: LocalRegistry) -> None:
    url = registry.url
    raw(url, "POST", KEKS, {"name": "k", "kmsType": "local-kms", "kmsKeyId": "x", "shared": True})
    status, body = raw(url, "POST", f"{KEKS}/k/deks/s", {"subject": "s"})
    assert (status, body["error_code"]) == (422, 42271)
    assert "cannot reach a KMS" in body["message"]


# -- confluent-kafka's field encryption through this registry --------------------------

SCHEMA = PII_EVENT_SCHEMA
TOPIC = "events"
CONTEXT = SerializationContext(TOPIC, MessageField.VALUE)


class FakeClock(Clock):
    def __init__(self) -> None:
        self.millis = 1_800_000_000_000

    def now(self) -> int:
        return self.millis


CLOCK = FakeClock()


def encrypt_rule(name: str, kek: str, params: dict[str, str] | None = None) -> Rule:
    """An ENCRYPT rule on the PII fields with the local KMS's key ``key-1`` under ``kek``."""
    return Rule(
        name,
        None,
        RuleKind.TRANSFORM,
        RuleMode.WRITEREAD,
        "ENCRYPT",
        ["PII"],
        RuleParams(
            {
                "encrypt.kek.name": kek,
                "encrypt.kms.type": "local-kms",
                "encrypt.kms.key.id": "key-1",
                **(params or {}),
            }
        ),
        None,
        None,
        "ERROR,NONE",
        False,
    )


@pytest.fixture(scope="module")
def encrypting() -> Iterator[LocalRegistry]:
    """A registry holding the schema with an ENCRYPT rule on its PII fields (DEKs rotate
    every day), and confluent-kafka's local KMS driver registered."""
    LocalKmsDriver.register()
    rule = encrypt_rule("encryptPII", "kek1", {"encrypt.dek.expiry.days": "1"})
    with LocalRegistry() as started, connect(started.url) as client:
        client.register_schema(
            f"{TOPIC}-value", Schema(SCHEMA, "AVRO", [], None, RuleSet(None, [rule]))
        )
        yield started


@contextlib.contextmanager
def serdes(url: str, secret: str) -> Iterator[tuple[AvroSerializer, AvroDeserializer]]:
    """confluent-kafka's serdes with their own field-encryption executor and local KMS
    secret (an executor keeps its configuration: one per pair), closed after."""
    executor = FieldEncryptionExecutor(CLOCK)
    rules = RuleRegistry()  # type: ignore[no-untyped-call]
    rules.register_executor(executor)
    conf = {"auto.register.schemas": False, "use.latest.version": True}
    secret_conf = {"secret": secret}
    with SchemaRegistryClient({"url": url}) as client:
        try:
            yield (
                AvroSerializer(client, None, conf=conf, rule_conf=secret_conf, rule_registry=rules),
                AvroDeserializer(client, rule_conf=secret_conf, rule_registry=rules),
            )
        finally:
            executor.close()  # type: ignore[no-untyped-call]


@settings(max_examples=25, deadline=None)
@given(content=st.text(min_size=4, max_size=200))
def test_no_plaintext_of_a_pii_field_reaches_the_bytes(
    encrypting: LocalRegistry, content: str
) -> None:
    with serdes(encrypting.url, os.environ["LOCAL_SECRET"]) as (write, read):
        data = write({"tenant_id": "t", "content": content}, CONTEXT)
        assert data is not None
        assert content.encode() not in data
        assert read(data, CONTEXT) == {"tenant_id": "t", "content": content}


def test_a_reader_without_the_key_fails_and_rotated_keys_stay_readable(
    encrypting: LocalRegistry,
) -> None:
    with serdes(encrypting.url, os.environ["LOCAL_SECRET"]) as (write, read):
        old = write({"tenant_id": "t", "content": "written before the rotation"}, CONTEXT)
        CLOCK.millis += 2 * 86_400_000  # the DEK has expired: the next write makes version 2
        new = write({"tenant_id": "t", "content": "written after"}, CONTEXT)
        assert cast(dict[str, Any], read(old, CONTEXT))["content"] == "written before the rotation"
        assert cast(dict[str, Any], read(new, CONTEXT))["content"] == "written after"
    versions = raw(encrypting.url, "GET", f"{KEKS}/kek1/deks/{TOPIC}-value/versions")[1]
    assert len(versions) >= 2
    # onFailure "ERROR,NONE": a reader that cannot get the key leaves the field encrypted
    # (the key gone for good here; in one process, tink keeps the first local KMS secret)
    dek = f"{KEKS}/kek1/deks/{TOPIC}-value"
    assert raw(encrypting.url, "DELETE", dek)[0] == 204
    assert raw(encrypting.url, "DELETE", f"{dek}?permanent=true")[0] == 204
    with serdes(encrypting.url, os.environ["LOCAL_SECRET"]) as (_, reader):
        left = cast(dict[str, Any], reader(new, CONTEXT))
    assert left["tenant_id"] == "t"
    assert left["content"] != "written after"


def test_latest_means_the_newest_a_call_can_act_on(registry: LocalRegistry) -> None:
    url = registry.url
    raw(url, "POST", KEKS, {"name": "k", "kmsType": "local-kms", "kmsKeyId": "x"})
    for version in (1, 2):
        body = {"subject": "s", "version": version, "encryptedKeyMaterial": MATERIAL}
        assert raw(url, "POST", f"{KEKS}/k/deks/s", body)[0] == 200
    versions = f"{KEKS}/k/deks/s/versions"
    assert raw(url, "DELETE", f"{versions}/2")[0] == 204
    assert raw(url, "GET", f"{versions}/latest")[1]["version"] == 1
    assert raw(url, "DELETE", f"{versions}/latest")[0] == 204  # v1, the newest live one
    assert raw(url, "GET", f"{versions}/latest")[0] == 404
    assert raw(url, "POST", f"{versions}/latest/undelete")[0] == 204  # v2, newest deleted
    assert raw(url, "GET", f"{versions}/latest")[1]["version"] == 2
    # for good: the newest soft-deleted one, v1
    assert raw(url, "DELETE", f"{versions}/-1?permanent=true")[0] == 204
    assert raw(url, "GET", f"{versions}?deleted=true")[1] == [2]


ACCEPTED_NAMES = ["kek1-rot", "kek1-union", "_", "k", "_-", "a--b", "Ünïcödé-名前", "k٣", "x" * 64]
REFUSED_NAMES = ["-kek", "1kek", "kek.1", "kek 1", "kek/1", "k²", "kⅣ", "k\U0001d400", "x" * 65]


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
def test_kek_names_confluent_accepts_are_accepted(registry: LocalRegistry, name: str) -> None:
    body = {"name": name, "kmsType": "local-kms", "kmsKeyId": "x"}
    status, answer = raw(registry.url, "POST", KEKS, body)
    assert (status, answer["name"]) == (200, name)
    path = f"{KEKS}/{urllib.parse.quote(name, safe='')}"
    assert raw(registry.url, "GET", path)[1]["name"] == name
    dek = {"subject": "s", "encryptedKeyMaterial": MATERIAL}
    assert raw(registry.url, "POST", f"{path}/deks", dek)[1]["kekName"] == name


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_kek_names_confluent_refuses_are_refused(registry: LocalRegistry, name: str) -> None:
    body = {"name": name, "kmsType": "local-kms", "kmsKeyId": "x"}
    status, answer = raw(registry.url, "POST", KEKS, body)
    assert (status, answer["error_code"]) == (422, 42271)
    assert "letter or underscore, then letters, digits, underscores or hyphens" in answer["message"]
    path = f"{KEKS}/{urllib.parse.quote(name, safe='')}"
    assert raw(registry.url, "GET", path)[1]["error_code"] == 42271


@given(name=st.text(min_size=1, max_size=70))
def test_a_kek_name_is_java_s_letter_then_letters_digits_underscores_hyphens(name: str) -> None:
    def letter(c: str) -> bool:  # Java's Character.isLetter on one UTF-16 unit
        return len(c.encode("utf-16-le")) == 2 and unicodedata.category(c).startswith("L")

    expected = (
        len(name) <= 64
        and (name[0] == "_" or letter(name[0]))
        and all(c in "_-" or letter(c) or unicodedata.category(c) == "Nd" for c in name[1:])
    )
    assert is_kek_name(name) == expected


def test_a_dashed_kek_and_dek_serve_confluent_s_field_encryption() -> None:
    """confluent-kafka's FieldEncryptionExecutor makes a KEK and a DEK with dashes in
    their names through the registry, and reads back what it wrote."""
    LocalKmsDriver.register()
    rule = encrypt_rule("encrypt-pii", "kek1-rot")
    subject = "pii-events-value"
    context = SerializationContext("pii-events", MessageField.VALUE)
    with LocalRegistry() as started, connect(started.url) as client:
        client.register_schema(subject, Schema(SCHEMA, "AVRO", [], None, RuleSet(None, [rule])))
        with serdes(started.url, os.environ["LOCAL_SECRET"]) as (write, read):
            data = write({"tenant_id": "t", "content": "dashed secret"}, context)
            assert data is not None
            assert b"dashed secret" not in data
            assert read(data, context) == {"tenant_id": "t", "content": "dashed secret"}
        with DekRegistryClient({"url": started.url}) as deks:
            assert deks.get_kek("kek1-rot").kms_key_id == "key-1"
            assert deks.get_dek("kek1-rot", subject).kek_name == "kek1-rot"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "k", "kmsType": "local\u0000kms", "kmsKeyId": "x"},
        {"name": "k", "kmsType": "local-kms", "kmsKeyId": "x" * 5000},
        {"name": "k", "kmsType": "local-kms", "kmsKeyId": "x", "doc": "a\nb"},
        {"name": "k", "kmsType": "local-kms", "kmsKeyId": "x", "kmsProps": {"a": "\u0001"}},
    ],
)
def test_key_texts_are_checked(registry: LocalRegistry, body: dict[str, Any]) -> None:
    decoded = json.loads(json.dumps(body).replace("\\\\u", "\\u"))
    status, answer = raw(registry.url, "POST", KEKS, decoded)
    assert (status, answer["error_code"]) == (422, 42271)


@pytest.mark.parametrize("material", ["not base64!", "a\u0000b", "x" * 70_000])
def test_encrypted_key_material_is_base64(registry: LocalRegistry, material: str) -> None:
    raw(registry.url, "POST", KEKS, {"name": "k", "kmsType": "local-kms", "kmsKeyId": "x"})
    status, answer = raw(
        registry.url, "POST", f"{KEKS}/k/deks/s", {"subject": "s", "encryptedKeyMaterial": material}
    )
    assert (status, answer["error_code"]) == (422, 42271)


def test_a_bare_schema_registered_by_a_default_client_keeps_the_encryption(
    encrypting: LocalRegistry,
) -> None:
    """confluent-kafka's serializer with its defaults auto-registers the schema without
    rules; the registry fills in the subject's, so the next writer still encrypts."""
    with SchemaRegistryClient({"url": encrypting.url}) as client:
        bare = AvroSerializer(client, SCHEMA)
        bare({"tenant_id": "t", "content": "plain?"}, CONTEXT)
        latest = client.get_latest_version(f"{TOPIC}-value").schema
        assert latest.rule_set is not None
    with serdes(encrypting.url, os.environ["LOCAL_SECRET"]) as (write, _):
        data = write({"tenant_id": "t", "content": "SECRETVALUE"}, CONTEXT)
    assert data is not None
    assert b"SECRETVALUE" not in data
