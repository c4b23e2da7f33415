"""Plain JSON (the platform document's form) <-> Avro datums, including the document's examples."""

from __future__ import annotations

import copy
import io
import json
import uuid
from typing import Any

import fastavro
import pytest
from hypothesis import given

from somacontracts.errors import SchemaError
from somacontracts.tooling import sources
from somacontracts.tooling.plainjson import dump_json_value, from_plain_json, to_plain_json
from somacontracts.tooling.testing import json_values

# The payload examples of the event-streams document, verbatim, except that its
# placeholder "uuid" for task_id is not a UUID and is replaced by a real one.
TASK_ID = "0b6f7c7e-9d0e-4c8f-8a3e-51a2c1e9d4f0"
DOCUMENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "ToolInvocation": {
        "task_id": TASK_ID,
        "tenant_id": "default",
        "persona": "agent0",
        "tool_name": "shell",
        "payload": {"command": "ls"},
        "metadata": {"requested_by": "gateway", "timestamp": "2025-10-09T16:59:00Z"},
    },
    "ToolResult": {
        "task_id": TASK_ID,
        "status": "success",
        "output": {"stdout": "...", "stderr": ""},
        "metrics": {"duration_ms": 4500},
        "metadata": {"tenant_id": "default", "correlation_id": "conversation-uuid"},
    },
    "DelegatedTask": {
        "task_id": TASK_ID,
        "type": "schedule:run",
        "payload": {"cron": "0 9 * * *", "job": "daily_report"},
        "tenant_id": "default",
        "priority": 5,
    },
}


def _encode_decode(version: sources.SchemaVersion, datum: Any) -> Any:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, version.fastavro, datum)
    buffer.seek(0)
    return fastavro.schemaless_reader(buffer, version.fastavro, version.fastavro)


def _project(full: Any, shape: Any) -> Any:
    """The part of ``full`` with the keys of ``shape``, recursively through objects."""
    if isinstance(shape, dict) and isinstance(full, dict):
        return {k: _project(full[k], v) for k, v in shape.items()}
    return full


@pytest.mark.parametrize("name", sorted(DOCUMENT_EXAMPLES))
def test_document_examples_become_records_and_back(name: str) -> None:
    example = DOCUMENT_EXAMPLES[name]
    version = sources.bundled()[name].latest
    datum = from_plain_json(version.schema, copy.deepcopy(example))
    assert fastavro.validation.validate(datum, version.fastavro, raise_errors=False)
    back = to_plain_json(version.schema, _encode_decode(version, datum))
    assert _project(back, example) == example
    assert back["metadata"]["schema_version"] == version.version


def test_defaults_fill_what_the_example_leaves_out() -> None:
    version = sources.bundled()["DelegatedTask"].latest
    back = to_plain_json(
        version.schema, from_plain_json(version.schema, DOCUMENT_EXAMPLES["DelegatedTask"])
    )
    assert back["metadata"] == {
        "schema_version": 1,
        "requested_by": None,
        "timestamp": None,
        "correlation_id": None,
        "extra": {},
    }


@given(value=json_values)
def test_free_form_json_round_trips_losslessly(value: Any) -> None:
    version = sources.bundled()["ToolInvocation"].latest
    example = dict(DOCUMENT_EXAMPLES["ToolInvocation"], payload=value)
    back = to_plain_json(
        version.schema, _encode_decode(version, from_plain_json(version.schema, example))
    )
    assert back["payload"] == value
    assert json.dumps(back["payload"]) == json.dumps(value)  # also int vs float and key order


def test_big_integers_and_unicode_survive() -> None:
    value = {
        "big": 2**100,
        "neg": -(2**70),
        "float": 1.0,
        "text": "日本語 \u0000",
        "nested": [[{}], []],
    }
    text = dump_json_value(value)
    assert json.loads(text) == value
    assert isinstance(json.loads(text)["float"], float)


@pytest.mark.parametrize(
    ("change", "location", "words"),
    [
        ({"task_id": "uuid"}, "/task_id", "not a UUID"),
        ({"tenant_id": 3}, "/tenant_id", "expected a string"),
        ({"payload": {"x": float("nan")}}, "/payload", "not JSON"),
        (
            {"metadata": {"requested_by": "g", "timestamp": "2025-10-09T16:59:00"}},
            "/metadata/timestamp",
            "no time zone",
        ),
        (
            {"metadata": {"requested_by": "g", "timestamp": "yesterday"}},
            "/metadata/timestamp",
            "ISO 8601",
        ),
        ({"metadata": {"timestamp": "2025-10-09T16:59:00Z"}}, "/metadata/requested_by", "missing"),
        ({"surprise": 1}, "/", "unknown field 'surprise'"),
    ],
)
def test_bad_plain_json_names_the_location(
    change: dict[str, Any], location: str, words: str
) -> None:
    version = sources.bundled()["ToolInvocation"].latest
    with pytest.raises(SchemaError) as caught:
        from_plain_json(version.schema, {**DOCUMENT_EXAMPLES["ToolInvocation"], **change})
    assert caught.value.location == location
    assert words in str(caught.value)


def test_enum_and_union_mapping() -> None:
    version = sources.bundled()["ToolResult"].latest
    example = copy.deepcopy(DOCUMENT_EXAMPLES["ToolResult"])
    example["metadata"]["timestamp"] = "2025-10-09T16:59:00.123456+02:00"
    datum = from_plain_json(version.schema, example)
    assert isinstance(datum["task_id"], uuid.UUID)
    back = to_plain_json(version.schema, _encode_decode(version, datum))
    assert back["metadata"]["timestamp"] == "2025-10-09T14:59:00.123456Z"
    with pytest.raises(SchemaError, match="'done' is not one of success"):
        from_plain_json(version.schema, {**example, "status": "done"})
