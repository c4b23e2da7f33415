"""Name resolution lives in one place and every tool agrees with it.

The case the tools used to disagree on: a reference to a type of the null namespace,
written inside a namespace. Apache Avro Java resolves it (it falls back to the null
namespace); fastavro and the specification do not. The schema model resolves it as Java
does, for the registry, and contracts refuse it with a clear reason, since the serdes
read with fastavro; codegen, the change report and the registry's text agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastavro
import pytest

from somacontracts.compat import check_reader_writer
from somacontracts.errors import SchemaError
from somacontracts.schema import RecordNode, parse, registry_text
from somacontracts.schema.names import full_name, resolve
from somacontracts.tooling.sources import parse_version

FALLBACK: dict[str, Any] = {
    "type": "record",
    "name": "Outer",
    "namespace": "ns",
    "fields": [
        {"name": "b", "type": {"type": "record", "name": "B", "namespace": "", "fields": []}},
        {"name": "c", "type": "B"},
    ],
}


def test_resolution_rules() -> None:
    assert full_name("B", "ns") == "ns.B"
    assert full_name("other.B", "ns") == "other.B"
    assert full_name("B", "") == "B"
    found = resolve("B", "ns", {"ns.B", "B"})
    assert found is not None
    assert found == ("ns.B", False)
    assert resolve("B", "ns", {"B"}) == ("B", True)
    assert resolve("B", "ns", {"other.B"}) is None
    assert resolve("other.B", "ns", {"other.B"}) == ("other.B", False)


def test_the_registry_resolves_as_java_and_fastavro_refuses() -> None:
    parsed = parse(FALLBACK)
    root = parsed.root
    assert isinstance(root, RecordNode)
    assert root.fields[1].node is root.fields[0].node  # "B" is the null-namespace B
    assert root.fields[1].node.json["name"] == "B"
    # Java's Schema.toString() prints the reference as "B", which parses back the same way.
    text = registry_text(parsed)
    assert json.loads(text)["fields"][1]["type"] == "B"
    assert registry_text(parse(text)) == text
    assert check_reader_writer(parsed, parsed).compatible
    with pytest.raises(fastavro.schema.UnknownType, match=r"ns\.B"):
        fastavro.parse_schema(FALLBACK)


def test_contracts_refuse_what_only_java_resolves(tmp_path: Path) -> None:
    with pytest.raises(SchemaError) as caught:
        parse(FALLBACK, portable=True)
    assert caught.value.location == "/fields/1/type"
    assert "falls back" in caught.value.reason
    path = tmp_path / "Outer" / "v1.avsc"
    with pytest.raises(SchemaError) as loading:
        parse_version(json.dumps(FALLBACK), path=path, contract="Outer", version=1)
    assert loading.value.location == "/fields/1/type"
    assert "fastavro rejects it" not in str(loading.value)


@pytest.mark.parametrize(
    ("reference", "resolves_to"),
    [("Inner", "ns.Inner"), ("ns.Inner", "ns.Inner"), ("other.Inner", "other.Inner")],
)
def test_every_reader_of_schemas_resolves_the_same_way(reference: str, resolves_to: str) -> None:
    """The parser, fastavro and the registry text agree wherever fastavro resolves."""
    schema = {
        "type": "record",
        "name": "Outer",
        "namespace": "ns",
        "fields": [
            {"name": "a", "type": {"type": "record", "name": "Inner", "fields": []}},
            {
                "name": "b",
                "type": {"type": "record", "name": "Inner", "namespace": "other", "fields": []},
            },
            {"name": "c", "type": reference},
        ],
    }
    root = parse(schema, portable=True).root
    assert isinstance(root, RecordNode)
    assert root.fields[2].node.full_name == resolves_to  # type: ignore[attr-defined]
    read_by_fastavro: Any = fastavro.parse_schema(schema)
    assert read_by_fastavro["fields"][2]["type"] == resolves_to
    normalized = json.loads(registry_text(schema, normalize=True))
    assert normalized["fields"][2]["type"] == resolves_to
