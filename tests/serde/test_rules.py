"""Data Contract rules in the typed serdes: ENCRYPT rules on tagged fields, CEL conditions,
the writer's version in metadata.schema_version, each byte-for-byte interoperable with
confluent-kafka's serdes and rule executors, through the local registry over HTTP."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.common.schema_registry_client import (
    Rule,
    RuleKind,
    RuleMode,
)
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.rules.cel.cel_executor import CelExecutor
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import (
    Clock,
    FieldEncryptionExecutor,
)
from confluent_kafka.serialization import MessageField, SerializationContext
from confluent_kafka.serialization import SerializationError as TheirError
from fastavro import parse_schema, schemaless_reader
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somacontracts.errors import (
    DeserializationError,
    ReadRuleError,
    RulesUnavailableError,
    SerializationError,
    WriteRuleError,
)
from somacontracts.serde import ContractDeserializer, ContractSerializer, RuleOptions
from somacontracts.tooling.registry import LocalRegistry
from tests.datacontracts import Event, cel_rule, encrypt_rule, event, register
from tests.server.conftest import raw

TOPIC = "conversation.inbound"
SUBJECT = f"{TOPIC}-value"
CONTEXT = SerializationContext(TOPIC, MessageField.VALUE)
# the one local KMS secret of the suite: confluent-kafka keeps the first local KMS client
# of the process for every local-kms key, whatever secret later executors are given
SECRET = {"secret": os.environ["LOCAL_SECRET"]}
KEKS = "/dek-registry/v1/keks"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def registry() -> Iterator[LocalRegistry]:
    with LocalRegistry() as started:
        yield started


@contextlib.contextmanager
def ours(url: str, options: RuleOptions | None = None) -> Iterator[tuple[Any, Any]]:
    options = options or RuleOptions(kms=SECRET)
    with (
        ContractSerializer(Event, url, subject=SUBJECT, rules=options) as write,
        ContractDeserializer(Event, url, subjects=[SUBJECT], rules=options) as read,
    ):
        yield write, read


class FixedClock(Clock):
    def __init__(self) -> None:
        self.millis = int(dt.datetime.now(dt.UTC).timestamp() * 1000)

    def now(self) -> int:
        return self.millis


@contextlib.contextmanager
def theirs(url: str, clock: Clock | None = None) -> Iterator[tuple[Any, Any]]:
    """confluent-kafka's serdes with its own executors, reading and writing the latest
    version of the subject (the only way its serializer runs a version's rules)."""
    executor = FieldEncryptionExecutor(clock or Clock())
    rules = RuleRegistry()  # type: ignore[no-untyped-call]
    rules.register_executor(executor)
    rules.register_executor(CelExecutor())  # type: ignore[no-untyped-call]
    conf = {"auto.register.schemas": False, "use.latest.version": True}
    with SchemaRegistryClient({"url": url}) as client:
        try:
            yield (
                AvroSerializer(client, None, conf=conf, rule_conf=SECRET, rule_registry=rules),
                AvroDeserializer(client, rule_conf=SECRET, rule_registry=rules),
            )
        finally:
            executor.close()  # type: ignore[no-untyped-call]


def test_a_tagged_field_is_encrypted_and_reads_back(registry: LocalRegistry) -> None:
    register(registry.url, SUBJECT, encrypt_rule())
    sent = event()
    with ours(registry.url) as (write, read):
        data = write(sent, CONTEXT)
        assert b"4111" not in data
        assert read(data, CONTEXT) == sent
        assert read(write(event(content=None), CONTEXT), CONTEXT).content is None


def test_confluent_reads_ours_and_we_read_confluent_s(registry: LocalRegistry) -> None:
    register(registry.url, SUBJECT, encrypt_rule())
    sent = event()
    with ours(registry.url) as (write, read), theirs(registry.url) as (their_write, their_read):
        datum = their_read(write(sent, CONTEXT), CONTEXT)
        assert datum["content"] == sent.content
        data = their_write(sent.to_avro(), CONTEXT)
        assert b"4111" not in data
        assert read(data, CONTEXT) == sent


def test_rotated_keys_interoperate_and_old_messages_stay_readable(registry: LocalRegistry) -> None:
    register(registry.url, SUBJECT, encrypt_rule(expiry_days=1))
    now = [dt.datetime.now(dt.UTC).timestamp()]
    options = RuleOptions(kms=SECRET, clock=lambda: now[0])
    with ours(registry.url, options) as (write, read):
        old = write(event(content="before"), CONTEXT)
        now[0] += 2 * 86_400  # the newest DEK expired: the next write makes a new version
        new = write(event(content="after"), CONTEXT)
        assert old[5:] != new[5:]
        assert read(old, CONTEXT).content == "before"
        assert read(new, CONTEXT).content == "after"
    versions = _get(registry.url, f"{KEKS}/conversations/deks/{SUBJECT}/versions")
    assert versions == [1, 2]
    with theirs(registry.url) as (_, their_read):
        assert their_read(old, CONTEXT)["content"] == "before"
        assert their_read(new, CONTEXT)["content"] == "after"
    # the version is the 4 bytes after a zero byte, before the ciphertext
    sealed = _content_ciphertext(new)
    assert sealed[0] == 0
    assert int.from_bytes(sealed[1:5], "big") == 2


def test_a_reader_without_the_key_follows_on_failure(
    registry: LocalRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    register(registry.url, SUBJECT, encrypt_rule(on_failure="ERROR,NONE"))
    with ours(registry.url) as (write, _):
        data = write(event(), CONTEXT)
    wrong = RuleOptions(kms={"secret": "wrong-secret-42"})
    with ContractDeserializer(Event, registry.url, subjects=[SUBJECT], rules=wrong) as read:
        kept: Any = read(data, CONTEXT)  # NONE on read: the field stays encrypted
        assert kept.content != event().content
        assert base64.b64decode(kept.content)  # the ciphertext, as base64 text
        read(data, CONTEXT)
    # said in the log once (the first failure of the rule), not silently
    (logged,) = [r for r in caplog.records if r.name == "somacontracts.serde.rules"]
    assert logged.getMessage().startswith('rule "encryptPII" failed on read (1 so far)')
    assert "wrong-secret-42" not in logged.getMessage()
    register(registry.url, SUBJECT, encrypt_rule(on_failure="ERROR,ERROR"))
    with ours(registry.url) as (write, _):
        data = write(event(), CONTEXT)
    with (
        ContractDeserializer(Event, registry.url, subjects=[SUBJECT], rules=wrong) as read,
        pytest.raises(ReadRuleError, match=r"failed: the KMS key of KEK .* does not open its DEK"),
    ):
        read(data, CONTEXT)


def test_a_missing_kek_refuses_on_write_without_params_to_make_it(
    registry: LocalRegistry,
) -> None:
    rule = encrypt_rule()
    assert rule.params is not None
    del rule.params.params["encrypt.kms.key.id"]
    register(registry.url, SUBJECT, rule)
    # At start-up, not at the first message: the writer needs its data key for every one.
    with pytest.raises(RulesUnavailableError, match=r'rule "encryptPII" cannot run: .*lacks'):
        ContractSerializer(Event, registry.url, subject=SUBJECT, rules=RuleOptions(kms=SECRET))


def test_a_cel_condition_refuses_on_write_as_confluent_s_does(registry: LocalRegistry) -> None:
    register(registry.url, SUBJECT, cel_rule('message.tenant_id != ""'))
    with ours(registry.url) as (write, read):
        assert read(write(event(), CONTEXT), CONTEXT).tenant_id == "t-1"
        with pytest.raises(WriteRuleError, match='rule "tenantSet" failed: the condition') as err:
            write(event(tenant_id=""), CONTEXT)
        assert not err.value.dead_letter
        assert isinstance(err.value, SerializationError)
    with theirs(registry.url) as (their_write, _):
        assert their_write(event().to_avro(), CONTEXT)
        with pytest.raises(TheirError):
            their_write(event(tenant_id="").to_avro(), CONTEXT)


def test_a_cel_condition_on_read_refuses_what_was_written(registry: LocalRegistry) -> None:
    register(registry.url, SUBJECT, cel_rule('message.tenant_id != ""', mode=RuleMode.READ))
    with ours(registry.url) as (write, read):
        data = write(event(tenant_id=""), CONTEXT)  # a READ rule does not run on write
        with pytest.raises(ReadRuleError, match="tenantSet") as err:
            read(data, CONTEXT)
        assert isinstance(err.value, DeserializationError)


def test_dlq_on_failure_marks_the_error_for_the_dead_letter_topic(
    registry: LocalRegistry,
) -> None:
    register(registry.url, SUBJECT, cel_rule("size(message.conversation_id) > 3", on_failure="DLQ"))
    with ours(registry.url) as (write, _), pytest.raises(WriteRuleError) as err:
        write(event(), CONTEXT)
    assert err.value.dead_letter


def test_the_writer_s_version_must_agree_with_metadata_schema_version(
    registry: LocalRegistry,
) -> None:
    register(registry.url, SUBJECT, metadata=None)
    with ours(registry.url) as (write, read):
        data = bytearray(write(event(), CONTEXT))
    # metadata.schema_version is the first field of metadata: find the zig-zag 1 (0x02)
    # after the data field ("{}": 0x04 '{' '}') and make it 2 (0x04)
    at = data.index(b"\x04{}\x02") + 3
    data[at] = 0x04
    with (
        ContractDeserializer(Event, registry.url, subjects=[SUBJECT]) as read,
        pytest.raises(DeserializationError, match=r"schema_version is 2, but .* version 1"),
    ):
        read(bytes(data), CONTEXT)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(content=st.text(min_size=3, max_size=300))
def test_no_plaintext_reaches_the_bytes(registry: LocalRegistry, content: str) -> None:
    with SchemaRegistryClient({"url": registry.url}) as client:
        if not client.get_subjects():
            register(registry.url, SUBJECT, encrypt_rule())
    sent = event(content=content)
    with ours(registry.url) as (write, read):
        data = write(sent, CONTEXT)
        assert read(data, CONTEXT).content == content
    # The plaintext is nowhere: not in the field's ciphertext, and every other field is
    # as sent (a short text may well occur in those, "t-1" say, by chance: not a leak).
    assert content.encode() not in _content_ciphertext(data)
    datum: Any = schemaless_reader(io.BytesIO(data[5:]), parse_schema(Event.SCHEMA), None)
    assert {k: v for k, v in datum.items() if k != "content"} == {
        k: v for k, v in sent.to_avro().items() if k != "content"
    }
    if len(content.encode()) >= 16:  # too long to occur by chance: not in the bytes at all
        assert content.encode() not in data


def _get(url: str, path: str) -> Any:
    return raw(url, "GET", path)[1]


def _content_ciphertext(data: bytes) -> bytes:
    stream = io.BytesIO(data[5:])
    datum: Any = schemaless_reader(stream, parse_schema(Event.SCHEMA), None)
    return base64.b64decode(datum["content"])


def _encrypt_with(**params: str) -> Rule:
    rule = encrypt_rule(on_failure="ERROR")
    assert rule.params is not None
    rule.params.params.update(params)
    return rule


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (cel_rule("message.tenant_id !=== "), 'rule "tenantSet" failed: CELParseError: '),
    ],
    ids=["cel-syntax"],
)
def test_a_broken_rule_is_one_line_naming_it(
    registry: LocalRegistry, rule: Rule, expected: str
) -> None:
    register(registry.url, SUBJECT, rule)
    with ours(registry.url) as (write, _), pytest.raises(WriteRuleError) as err:
        write(event(), CONTEXT)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"{TOPIC}: ConversationEvent: ")
    assert expected in text


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            Rule(
                "x",
                None,
                RuleKind.CONDITION,
                RuleMode.WRITE,
                "NOPE",
                None,
                None,
                "true",
                None,
                None,
                False,
            ),
            'rule "x" cannot run: no executor for rule type "NOPE" is registered',
        ),
        (_encrypt_with(**{"encrypt.dek.algorithm": "FOO"}), '"FOO" is not one of AES128_GCM'),
        (_encrypt_with(**{"encrypt.dek.expiry.days": "x"}), '"x" is not a whole number'),
        (
            _encrypt_with(**{"encrypt.kek.name": "other", "encrypt.kms.type": "aws-kms"}),
            "no KMS driver found for key URL: aws-kms://",
        ),
    ],
    ids=["unknown-type", "algorithm", "expiry", "kms-driver"],
)
def test_a_rule_that_cannot_run_stops_the_serializer_at_start_up(
    registry: LocalRegistry, rule: Rule, expected: str
) -> None:
    register(registry.url, SUBJECT, rule)
    with pytest.raises(RulesUnavailableError) as err:
        ContractSerializer(Event, registry.url, subject=SUBJECT, rules=RuleOptions(kms=SECRET))
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f'ConversationEvent under "{SUBJECT}": rule ')
    assert expected in text


def test_an_empty_local_secret_is_refused_and_never_shown(registry: LocalRegistry) -> None:
    register(registry.url, SUBJECT, encrypt_rule(on_failure="ERROR"))
    options = RuleOptions(kms={"secret": ""})
    with pytest.raises(RulesUnavailableError, match=r"no secret is set: give RuleOptions\(kms="):
        ContractSerializer(Event, registry.url, subject=SUBJECT, rules=options)
    assert "TOPSECRET" not in repr(RuleOptions(kms={"secret": "TOPSECRET"}))


def test_a_ciphertext_altered_on_the_wire_is_named_so(registry: LocalRegistry) -> None:
    register(registry.url, SUBJECT, encrypt_rule(on_failure="ERROR,ERROR"))
    with ours(registry.url) as (write, read):
        data = bytearray(write(event(), CONTEXT))
        text = base64.b64encode(_content_ciphertext(bytes(data))).decode()
        at = bytes(data).index(text.encode()) + 10
        data[at] = ord("A") if data[at] != ord("A") else ord("B")  # one base64 digit
        with pytest.raises(ReadRuleError) as err:
            read(bytes(data), CONTEXT)
    message = str(err.value)
    assert "\n" not in message
    assert "cannot decrypt: the ciphertext was altered" in message
    assert ".cc" not in message  # none of the crypto library's internals


_WITHOUT = """
import sys

class Uninstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == sys.argv[1]:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Uninstalled())
from somacontracts.errors import RulesUnavailableError
from somacontracts.serde import ContractDeserializer, ContractSerializer, RuleOptions
from tests.datacontracts import Event

for make in (ContractSerializer, ContractDeserializer):
    try:
        make(Event, sys.argv[2], subject=sys.argv[3], rules=RuleOptions(kms={"secret": "s"}))
    except RulesUnavailableError as err:
        print(type(err).__name__, err)
    else:
        print("built")
"""


@pytest.mark.parametrize(
    ("rule", "package"),
    [
        (encrypt_rule(), "tink"),
        (cel_rule('message.tenant_id != ""', mode=RuleMode.WRITEREAD), "celpy"),
    ],
    ids=["encrypt-without-tink", "cel-without-cel-python"],
)
def test_a_serde_whose_rules_need_a_missing_package_stops_at_start_up(
    registry: LocalRegistry, rule: Rule, package: str
) -> None:
    """Not at the first message, and naming the extra: a service without the ``rules``
    extra would otherwise start, and fail (or, on NONE, let plaintext through) later."""
    register(registry.url, SUBJECT, rule)
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT, package, registry.url, SUBJECT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expected = (
        f'RulesUnavailableError ConversationEvent under "{SUBJECT}": rule "{rule.name}" '
        f"cannot run: needs {package}, which is not installed: "
        "pip install 'somacontracts[rules]'"
    )
    assert done.stdout.splitlines() == [expected, expected]
