"""The serializer writes nothing a reader would refuse or read back as something else.

Each refusal is a ``SerializationError`` naming the field path and the offending type;
whatever the serializer accepts, our deserializer and confluent-kafka's
``AvroDeserializer`` read back equal to the object, value types included.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import decimal
import enum
import importlib
import math
import os
import uuid
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import (
    FieldEncryptionExecutor,
)
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somacontracts import models
from somacontracts.errors import SerializationError
from somacontracts.serde import ContractDeserializer, ContractSerializer
from somacontracts.tooling import sources
from somacontracts.tooling.codegen import names
from somacontracts.tooling.codegen.declarations import RecordModel, VersionModel, build_version
from somacontracts.tooling.testing import json_values
from tests.codegen.objects import instances

UUID = uuid.UUID("7c0a4b1e-3f0e-4a53-9d5e-2f1f1c7d2b10")
NAIVE = dt.datetime(2025, 10, 9, 12, 0)
CTX = SerializationContext("tool.requests", MessageField.VALUE)


class Color(enum.Enum):
    """An enum that is not a str or int: not a JSON value."""

    RED = "red"


class Level(enum.IntEnum):
    """An int enum: an int, which reads back equal."""

    HIGH = 3


def tool_invocation() -> models.ToolInvocation:
    return models.ToolInvocation(
        task_id=UUID,
        tenant_id="tenant-1",
        persona="agent0",
        tool_name="shell",
        payload={"command": "ls", "args": ["-l", 1]},
        metadata=models.ToolInvocationMetadata(
            requested_by="gateway", timestamp=dt.datetime(2025, 10, 9, 16, 59, tzinfo=dt.UTC)
        ),
    )


def changed(obj: Any, path: str, value: Any) -> Any:
    """A deep copy of ``obj`` with the attribute at the dotted ``path`` set to ``value``.

    A path through a record that an earlier change replaced is left alone.
    """
    obj = copy.deepcopy(obj)
    owner = obj
    *parents, last = path.split(".")
    for name in parents:
        owner = getattr(owner, name)
        if not dataclasses.is_dataclass(owner):
            return obj
    setattr(owner, last, value)
    return obj


REFUSED = [
    ("task_id", "not-a-uuid", "ToolInvocation.task_id: expected uuid.UUID, got str 'not-a-uuid'"),
    ("task_id", 123, "ToolInvocation.task_id: expected uuid.UUID, got int 123"),
    ("task_id", None, "ToolInvocation.task_id: expected uuid.UUID, got NoneType None"),
    (
        "metadata.timestamp",
        NAIVE,
        "ToolInvocation.metadata.timestamp: a naive datetime (2025-10-09T12:00:00) has no "
        "time zone; timestamp-micros is UTC: give it a tzinfo (datetime.UTC)",
    ),
    (
        "metadata.timestamp",
        dt.date(2025, 10, 9),
        "ToolInvocation.metadata.timestamp: expected datetime.datetime for timestamp-micros, "
        "got datetime.date datetime.date(2025, 10, 9)",
    ),
    (
        "metadata.schema_version",
        True,
        "ToolInvocation.metadata.schema_version: expected int for an Avro int, got bool True",
    ),
    ("payload", {1: "a"}, "ToolInvocation.payload: key 1 (int) is not a string"),
    (
        "payload",
        {"args": ["-l", 1, UUID]},
        'ToolInvocation.payload["args"][2]: uuid.UUID is not a JSON value',
    ),
    ("payload", {"x": float("nan")}, 'ToolInvocation.payload["x"]: nan is not a JSON number'),
    ("payload", {"x": object()}, 'ToolInvocation.payload["x"]: object is not a JSON value'),
    (
        "payload",
        {"x": Color.RED},
        'ToolInvocation.payload["x"]: tests.serde.test_refusals.Color is not a JSON value',
    ),
    (
        "metadata.extra",
        {"k": (1, 2)},
        'ToolInvocation.metadata.extra["k"]: tuple is not a JSON value; JSON arrays are lists',
    ),
    (
        "payload",
        {"s": "\ud800"},
        "ToolInvocation.payload[\"s\"]: '\\ud800' holds a lone surrogate, which UTF-8 cannot "
        "encode",
    ),
    (
        "tenant_id",
        "t-\udfff",
        "ToolInvocation.tenant_id: 't-\\udfff' holds a lone surrogate at 2, which UTF-8 "
        "cannot encode",
    ),
    ("tenant_id", b"t", "ToolInvocation.tenant_id: expected str, got bytes b't'"),
    (
        "metadata.correlation_id",
        5,
        "ToolInvocation.metadata.correlation_id: int 5 is of no branch of the union [null, string]",
    ),
    (
        "metadata",
        None,
        "ToolInvocation.metadata: expected ToolInvocationMetadataV1, got NoneType None",
    ),
    ("metadata", {}, "ToolInvocation.metadata: expected ToolInvocationMetadataV1, got dict {}"),
]


@pytest.mark.parametrize("stamped", [True, False], ids=["own-class", "version-to-stamp"])
@pytest.mark.parametrize(
    ("path", "value", "message"),
    REFUSED,
    # Ids from the message alone: a value's text may hold an address, and workers of
    # pytest-xdist must all collect the same ids.
    ids=[f"{n}-{m.split(':')[0]}" for n, (_, _, m) in enumerate(REFUSED)],
)
def test_each_refusal_names_the_field_and_the_type(
    client: SchemaRegistryClient, path: str, value: Any, message: str, stamped: bool
) -> None:
    """The usual path (the model's own class, version stamped) and the checked path agree."""
    obj = tool_invocation()
    if not stamped and path != "metadata" and path != "metadata.schema_version":
        obj.metadata.schema_version = 7  # the serializer must stamp a copy: the general path
    obj = changed(obj, path, value)
    serializer = ContractSerializer(models.ToolInvocation, client)
    with pytest.raises(SerializationError) as caught:
        serializer(obj, CTX)
    assert str(caught.value) == f"tool.requests: {message}"


def test_a_subclass_of_the_model_is_checked_the_same_way(client: SchemaRegistryClient) -> None:
    class Traced(models.ToolInvocation):
        pass

    obj = Traced(**{f.name: getattr(tool_invocation(), f.name) for f in dataclasses.fields(Traced)})
    serializer = ContractSerializer(models.ToolInvocation, client)
    back = ContractDeserializer(models.ToolInvocation, client)(serializer(obj, CTX), CTX)
    assert back == tool_invocation()
    obj.task_id = "not-a-uuid"  # type: ignore[assignment]
    with pytest.raises(SerializationError, match=r"ToolInvocation.task_id: expected uuid.UUID"):
        serializer(obj, CTX)


def test_an_int_too_big_for_its_field_is_refused(client: SchemaRegistryClient) -> None:
    task = models.DelegatedTask(
        task_id=UUID,
        type="schedule:run",
        payload={},
        tenant_id="t",
        priority=2**31,
        metadata=models.DelegatedTaskMetadata(),
    )
    serializer = ContractSerializer(models.DelegatedTask, client)
    ctx = SerializationContext("task.delegated", MessageField.VALUE)
    with pytest.raises(
        SerializationError,
        match=r"DelegatedTask.priority: 2147483648 is out of the range of an Avro int",
    ):
        serializer(task, ctx)
    task.priority = True
    with pytest.raises(SerializationError, match=r"DelegatedTask.priority: expected int"):
        serializer(task, ctx)


# -- whatever is accepted reads back equal ----------------------------------------------


_ODD: list[Any] = [
    None,
    True,
    0,
    -1,
    2**31,
    2**63,
    1.5,
    float("nan"),
    "",
    "not-a-uuid",
    str(UUID),
    UUID,
    b"x",
    bytearray(b"x"),
    [],
    [1, "a"],
    (1,),
    {},
    {1: "a"},
    {"a": (1,)},
    {"a": UUID},
    {"a": float("inf")},
    {"a": [None, {"deep": [Level.HIGH]}]},
    NAIVE,
    NAIVE.replace(tzinfo=dt.UTC),
    dt.date(2025, 1, 1),
    dt.time(1, 2),
    decimal.Decimal("1.5"),
    object(),
    Color.RED,
    Level.HIGH,
    "\ud800",
    "success",
    "message",
]
odd_values = st.sampled_from(_ODD) | json_values | st.integers() | st.text(max_size=4)
odd_json = st.recursive(
    st.sampled_from(_ODD) | json_values,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner)
        | st.dictionaries(st.text(max_size=3) | st.integers(0, 2), inner, max_size=3)
    ),
    max_leaves=6,
)
"""JSON values with a value here and there that JSON cannot carry, or that would read back
as something else: a tuple, a UUID, an enum, NaN, a key that is not a string."""


def _paths(version: VersionModel) -> dict[str, bool]:
    """Every attribute path of the version's records, nested records included (not
    collections), each with whether it holds free-form JSON."""

    def walk(record: RecordModel, prefix: str) -> dict[str, bool]:
        found = {}
        for field in record.fields:
            path = f"{prefix}{field.attribute}"
            found[path] = field.type.kind == "json"
            if field.type.kind == "record" and field.type.named is not None:
                found |= walk(records[field.type.named], f"{path}.")
        return found

    records = {r.full_name: r for r in version.records}
    return walk(version.root, "")


def equivalent(left: Any, right: Any) -> bool:
    """Equal, and of the same kind all the way down.

    A bool is a bool, a list a list, a UUID a UUID; what reads back as its plain value
    counts as the same: an int for a float that equals it, a StrEnum member for its
    string, an IntEnum member for its int, a bytearray for its bytes.
    """
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if dataclasses.is_dataclass(left) and not isinstance(left, type):
        return type(left) is type(right) and all(
            equivalent(getattr(left, f.name), getattr(right, f.name))
            for f in dataclasses.fields(left)
        )
    if isinstance(left, list) or isinstance(right, list):
        return (
            isinstance(left, list)
            and isinstance(right, list)
            and len(left) == len(right)
            and all(map(equivalent, left, right))
        )
    if isinstance(left, dict) or isinstance(right, dict):
        return (
            isinstance(left, dict)
            and isinstance(right, dict)
            and list(left) == list(right)
            and all(equivalent(left[k], right[k]) for k in left)
        )
    if isinstance(left, (bytes, bytearray)) and isinstance(right, (bytes, bytearray)):
        return bytes(left) == bytes(right)
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        if isinstance(left, float) and math.isnan(left):
            return isinstance(right, float) and math.isnan(right)
        return bool(left == right)
    related = isinstance(left, type(right)) or isinstance(right, type(left))
    return related and bool(left == right)


def _class(contract: str, version: int) -> Any:
    module = importlib.import_module(f"somacontracts.models.{names.module_name(contract)}")
    return getattr(module, f"{names.class_base_name(contract)}V{version}")


BUNDLED = [v for c in sources.bundled().values() for v in c.versions]


@pytest.mark.parametrize("version", BUNDLED, ids=lambda v: f"{v.contract}-v{v.version}")
def test_whatever_is_written_reads_back_equal(
    version: sources.SchemaVersion, client: SchemaRegistryClient
) -> None:
    model = _class(version.contract, version.version)
    module = importlib.import_module(model.__module__)
    ctx = SerializationContext(model.SUBJECT.removesuffix("-value"), MessageField.VALUE)
    serializer = ContractSerializer(model, client)
    ours = ContractDeserializer(model, client)
    # confluent-kafka's reader, decrypting what the contract encrypts; a client of its own
    # (confluent-kafka's caches a lookup's answer as the version, without its rules)
    their_client = SchemaRegistryClient(client.config())  # type: ignore[no-untyped-call]
    executor = FieldEncryptionExecutor()
    rules = RuleRegistry()  # type: ignore[no-untyped-call]
    rules.register_executor(executor)
    secret = {"secret": os.environ["LOCAL_SECRET"]}
    theirs = AvroDeserializer(their_client, rule_conf=secret, rule_registry=rules)
    described = build_version(version)
    paths = _paths(described)
    json_paths = sorted(path for path, holds_json in paths.items() if holds_json)

    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        obj = data.draw(instances(described, module))
        if data.draw(st.booleans()):  # stamped: the codec's own path, else the checked one
            obj.metadata.schema_version = version.version
        # Mostly one change, half of them to free-form JSON: more changes are mostly refused.
        for _ in range(data.draw(st.sampled_from([1, 1, 1, 2, 3]))):
            path = data.draw(st.sampled_from(json_paths) | st.sampled_from(sorted(paths)))
            obj = changed(obj, path, data.draw(odd_json if paths[path] else odd_values))
        try:
            framed = serializer(obj, ctx)
        except SerializationError as err:
            text = str(err)
            assert "\n" not in text
            assert text.startswith(f"{ctx.topic}: {version.contract}")
            return
        expected = obj
        if obj.metadata.schema_version != version.version:
            expected = changed(obj, "metadata.schema_version", version.version)
        assert equivalent(ours(framed, ctx), expected)
        assert equivalent(model.from_avro(theirs(framed, ctx)), expected)

    try:
        check()
    finally:
        for closing in (serializer, ours, their_client):
            closing.close()
        executor.close()  # type: ignore[no-untyped-call]
