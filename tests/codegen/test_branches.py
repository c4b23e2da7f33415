"""Union branches: the one a value goes to, by the Avro type of its Python type, is the
branch fastavro picks; to_avro's datum reads back through from_avro; bytes another
writer chose differently read to the same value. And free-form JSON text, which the
readers agree on and which is written back compact."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from somacontracts import runtime
from somacontracts.tooling.codegen import render_contract
from somacontracts.tooling.sources import parse_version
from tests.generated import import_file


def generated(tmp_path: Path, fields: list[dict[str, Any]]) -> Any:
    """The class generated for a record ``Branches`` of ``fields``, imported."""
    schema = {"type": "record", "name": "Branches", "namespace": "t", "fields": fields}
    text = json.dumps(schema)
    path = tmp_path / "v1.avsc"
    path.write_text(text, encoding="utf-8")
    version = parse_version(text, path=path, contract="Branches", version=1)
    module_path = tmp_path / f"branches_{abs(hash(text))}.py"
    module_path.write_text(render_contract([version]), encoding="utf-8")
    return import_file(module_path).Branches


def fastavro_bytes(cls: Any, datum: Any) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, parse_schema(cls.SCHEMA), datum)
    return buffer.getvalue()


def encoded(obj: Any) -> bytes:
    out = bytearray()
    obj.write_avro(out)
    return bytes(out)


def round_trips(cls: Any, obj: Any) -> bytes:
    """``obj``'s bytes, checked: fastavro's of its datum, and every way back gives it."""
    data = encoded(obj)
    assert data == fastavro_bytes(cls, obj.to_avro())
    assert cls.read_avro(runtime.Reader(data)) == obj
    assert cls.from_avro(obj.to_avro()) == obj
    read = schemaless_reader(
        io.BytesIO(data), parse_schema(cls.SCHEMA), None, return_named_type=True
    )
    assert cls.from_avro(read) == obj
    return data


def test_a_bool_beside_int_is_a_boolean(tmp_path: Path) -> None:
    """The issue's example: an array of int-or-boolean holding True."""
    cls = generated(
        tmp_path, [{"name": "d", "type": {"type": "array", "items": ["int", "boolean"]}}]
    )
    obj = cls.from_avro({"d": [True, 7]})
    assert obj.d == [True, 7]
    assert round_trips(cls, obj) == fastavro_bytes(cls, {"d": [True, 7]})


@pytest.mark.parametrize(
    ("branches", "value", "index"),
    [
        (["int", "long"], 5, 0),
        (["int", "long"], 2**40, 1),
        (["long", "int"], 5, 0),
        (["int", "double"], 2**40, 1),  # no integer branch holds it: a double does, exactly
        (["float", "int"], 5, 1),  # an int is an int, though fastavro would try float first
        (["float", "double"], 0.1, 1),  # fastavro prefers double, which loses nothing
        (["double", "float"], 0.1, 0),
        (["boolean", "long", "double"], False, 0),
        ([{"type": "int", "logicalType": "date"}, "long"], 5, 1),
    ],
)
def test_numbers_go_to_the_branch_of_their_type_and_range(
    tmp_path: Path, branches: list[Any], value: object, index: int
) -> None:
    cls = generated(tmp_path, [{"name": "n", "type": branches}])
    data = round_trips(cls, cls(n=value))
    assert data[0] == index << 1


@pytest.mark.parametrize(("value", "index"), [(b"abcd", 0), (b"abcdefgh", 1), (b"abc", 2)])
def test_bytes_go_to_the_first_branch_of_their_length(
    tmp_path: Path, value: bytes, index: int
) -> None:
    four = {"type": "fixed", "name": "Four", "size": 4}
    eight = {"type": "fixed", "name": "Eight", "size": 8}
    cls = generated(tmp_path, [{"name": "b", "type": [four, eight, "bytes"]}])
    assert round_trips(cls, cls(b=value))[0] == index << 1


def test_a_uuid_goes_to_the_string_as_fastavro_writes_it(tmp_path: Path) -> None:
    fixed = {"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}
    cls = generated(
        tmp_path, [{"name": "u", "type": [fixed, {"type": "string", "logicalType": "uuid"}]}]
    )
    value = uuid.UUID(int=7)
    assert round_trips(cls, cls(u=value)) == fastavro_bytes(cls, {"u": value})
    assert round_trips(cls, cls(u=value))[0] == 2
    in_the_fixed = fastavro_bytes(cls, {"u": ("t.U", value.bytes)})
    assert cls.read_avro(runtime.Reader(in_the_fixed)) == cls(u=value)


def test_bytes_after_an_array_are_named_for_fastavro(tmp_path: Path) -> None:
    """fastavro takes bytes for an array (a sequence; empty ones always) that comes first."""
    cls = generated(tmp_path, [{"name": "b", "type": [{"type": "array", "items": "int"}, "bytes"]}])
    obj = cls(b=b"")
    assert obj.to_avro() == {"b": ("bytes", b"")}
    assert round_trips(cls, obj) == b"\x02\x00"
    assert fastavro_bytes(cls, {"b": b""}) == b"\x00\x00"  # what a plain datum would write


def test_two_branches_of_one_python_type_take_the_first_that_holds_the_value(
    tmp_path: Path,
) -> None:
    times = [
        {"type": "int", "logicalType": "time-millis"},
        {"type": "long", "logicalType": "time-micros"},
    ]
    uuids = [
        {"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"},
        {"type": "string", "logicalType": "uuid"},
    ]
    decimals = [
        {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2},
        {
            "type": "fixed",
            "name": "D",
            "size": 8,
            "logicalType": "decimal",
            "precision": 12,
            "scale": 0,
        },
    ]
    cls = generated(
        tmp_path,
        [
            {"name": "t", "type": times},
            {"name": "u", "type": uuids},
            {"name": "d", "type": decimals},
        ],
    )
    exact = cls(t=dt.time(1, 2, 3, 4000), u=uuid.UUID(int=1), d=decimal.Decimal("12.34"))
    finer = cls(t=dt.time(1, 2, 3, 4001), u=uuid.UUID(int=1), d=decimal.Decimal("123456"))
    assert round_trips(cls, exact)[0] == 0  # time-millis holds whole milliseconds
    assert round_trips(cls, finer)[0] == 2  # a microsecond more: time-micros
    # bytes another writer wrote in the other branch read to the same value
    written = {
        "t": ("long", dt.time(1, 2, 3, 4000)),
        "u": ("string", uuid.UUID(int=1)),
        "d": ("t.D", decimal.Decimal(12)),
    }
    read = cls.read_avro(runtime.Reader(fastavro_bytes(cls, written)))
    assert read == cls(t=dt.time(1, 2, 3, 4000), u=uuid.UUID(int=1), d=decimal.Decimal(12))
    assert encoded(read)[0] == 0  # and written again in the first branch that holds it


def test_json_text_of_another_writer_reads_alike_and_is_written_compact(tmp_path: Path) -> None:
    cls = generated(
        tmp_path,
        [
            {"name": "j", "type": {"type": "string", "logicalType": "json"}},
            {"name": "maybe", "type": ["null", {"type": "string", "logicalType": "json"}]},
        ],
    )
    text = '{ "z": [1.0e2, "caf\\u00e9"], "a" : {"k": 1, "k": 2}, "n": null }'
    theirs = fastavro_bytes(cls, {"j": text, "maybe": "null"})
    read = cls.read_avro(runtime.Reader(theirs))
    datum = schemaless_reader(io.BytesIO(theirs), parse_schema(cls.SCHEMA), None)
    assert read == cls.from_avro(datum)  # the readers agree
    assert read.j == {"z": [100.0, "caf\u00e9"], "a": {"k": 2}, "n": None}
    assert list(read.j) == ["z", "a", "n"]  # key order kept
    assert read.maybe is None  # JSON null in a union with null: the null branch
    compact = '{"z":[100.0,"caf\u00e9"],"a":{"k":2},"n":null}'
    assert encoded(read) == fastavro_bytes(cls, {"j": compact, "maybe": None})
    assert read.to_avro() == {"j": compact, "maybe": None}
