"""Nesting: the deepest schema the parser accepts goes through every tool that walks the
schema graph; one level more is refused with its location, never a RecursionError. A
contract nests at most as deep as generated code can: validation refuses one level more."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import pytest

from somacontracts.compat import CompatibilityLevel, check_level, check_reader_writer
from somacontracts.compat.changes import diff_versions
from somacontracts.errors import InvalidSchemaError, SchemaError
from somacontracts.schema import MAX_NESTING, canonical_form, fingerprint, parse, registry_text
from somacontracts.tooling.check.lint import lint
from somacontracts.tooling.codegen import MAX_NESTING as CODEGEN_NESTING
from somacontracts.tooling.codegen import render_contract
from somacontracts.tooling.sources import SchemaVersion, parse_version
from tests.generated import import_file


def arrays(levels: int, leaf: Any) -> Any:
    for _ in range(levels):
        leaf = {"type": "array", "items": leaf}
    return leaf


def maps(levels: int, leaf: Any) -> Any:
    for _ in range(levels):
        leaf = {"type": "map", "values": leaf}
    return leaf


def unions(levels: int, leaf: Any) -> Any:
    """A union in an array in a union ...: each union and each array is a level."""
    for level in range(levels):
        leaf = ["null", leaf] if level % 2 == 0 else {"type": "array", "items": leaf}
    return leaf


def records(levels: int, leaf: Any) -> Any:
    for level in range(levels):
        leaf = {"type": "record", "name": f"N{level}", "fields": [{"name": "f", "type": leaf}]}
    return leaf


SHAPES: dict[str, Callable[[int, Any], Any]] = {
    "arrays": arrays,
    "maps": maps,
    "unions": unions,
    "records": records,
}


def contract(shape: str, levels: int, leaf: Any) -> dict[str, Any]:
    """A contract record whose one field nests ``levels`` levels below it."""
    inner = SHAPES[shape](levels, leaf)
    return {
        "type": "record",
        "name": "Deep",
        "namespace": "test",
        "fields": [{"name": "d", "type": inner}],
    }


def version(tmp_path: Path, schema: dict[str, Any], number: int) -> SchemaVersion:
    path = tmp_path / f"v{number}.avsc"
    text = json.dumps(schema)
    path.write_text(text, encoding="utf-8")
    return parse_version(text, path=path, contract="Deep", version=number)


@pytest.mark.parametrize("shape", SHAPES)
def test_the_deepest_schema_goes_through_every_tool(tmp_path: Path, shape: str) -> None:
    levels = MAX_NESTING - 2  # the record is the first level and the leaf the last
    old = contract(shape, levels, "int")
    new = contract(shape, levels, "long")  # int promotes to long: backward only
    parsed_old, parsed_new = parse(old), parse(new)

    assert canonical_form(parsed_old).count("int") >= 1
    assert fingerprint(parsed_old) != fingerprint(parsed_new)
    assert json.loads(registry_text(parsed_new)) is not None

    assert check_reader_writer(parsed_new, parsed_old).compatible
    forward = check_reader_writer(parsed_old, parsed_new)
    assert not forward.compatible
    assert forward.problems[0].location.startswith("/fields/0/type")
    result = check_level(CompatibilityLevel.FULL_TRANSITIVE, new, [old, old])
    assert not result.compatible

    report = diff_versions(
        old, new, old_version=1, new_version=2, level=CompatibilityLevel.BACKWARD
    )
    assert report.backward
    assert not report.forward
    assert report.changes

    # a contract becomes generated classes, which nest fewer levels: validation says so
    with pytest.raises(SchemaError, match=f"more than {CODEGEN_NESTING} levels") as refused:
        version(tmp_path, old, 1)
    assert refused.value.location.startswith("/fields/0/type")


@pytest.mark.parametrize("shape", SHAPES)
def test_one_level_more_is_refused_with_its_location(shape: str) -> None:
    schema = contract(shape, MAX_NESTING - 1, "int")
    with pytest.raises(InvalidSchemaError, match=f"more than {MAX_NESTING} levels") as refused:
        parse(json.dumps(schema))
    assert refused.value.location is not None
    assert refused.value.location.startswith("/fields/0/type")


@pytest.mark.parametrize(
    ("opening", "closing"),
    [('{"type":"array","items":', "}"), ("[", "]"), ('{"type":"map","values":', "}")],
)
def test_text_nested_10000_deep_is_refused(opening: str, closing: str) -> None:
    text = opening * 10_000 + '"int"' + closing * 10_000
    with pytest.raises(InvalidSchemaError, match="deep"):
        parse(text)


@pytest.mark.parametrize("shape", SHAPES)
def test_codegen_generates_code_for_its_deepest_schema(tmp_path: Path, shape: str) -> None:
    levels = CODEGEN_NESTING - 2
    old, new = contract(shape, levels, "int"), contract(shape, levels, "long")
    versions = [version(tmp_path, old, 1), version(tmp_path, new, 2)]
    lint(versions)
    path = tmp_path / f"deep_{shape}.py"
    path.write_text(render_contract(versions), encoding="utf-8")
    module = import_file(path)
    deep = module.Deep
    datum: Any = 7
    for level in range(levels):  # the deepest value, written and read back
        if shape == "arrays" or (shape == "unions" and level % 2 == 1):
            datum = [datum]
        elif shape == "maps":
            datum = {"k": datum}
        elif shape == "records":
            datum = {"f": datum}
    message = deep.from_avro({"d": datum})
    out = bytearray()
    message.write_avro(out)
    assert bytes(out) == fastavro_bytes(old, {"d": datum})
    assert deep.from_avro(message.to_avro()) == message
    with pytest.raises(SchemaError, match=f"more than {CODEGEN_NESTING} levels"):
        version(tmp_path, contract(shape, levels + 1, "int"), 1)


def fastavro_bytes(schema: dict[str, Any], datum: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), datum)
    return buffer.getvalue()
