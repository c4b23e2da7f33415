"""Agreement with Apache Avro's Python port (``avro.compatibility``) where it is known right.

The port follows Java's algorithm but differs on three things, so the pairs compared
here avoid them:

* aliases: it compares a reader type's aliases as written with the writer's full name,
  where Java first resolves them against the reader type's namespace; and it takes the
  first writer field a reader field's aliases match, where Java fails on two matches.
  The drawn pairs have their aliases removed.
* locations: inside a writer union it reports ``/`` where Java reports the path to the
  branch, so locations are not compared.
* error types: it raises ``AvroRuntimeException`` on a pair of them, so they are
  drawn as records here.
* names: it does not resolve a reference to a type of no namespace from inside a
  namespace (Java tries the enclosing namespace, then none); such pairs are skipped.
* logical types: it warns on some it does not know (``duration``); as neither checker
  looks at them, they are removed.

The case ``NAME_ALIAS_RESOLVED_IN_NAMESPACE`` shows the first difference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from avro.errors import SchemaParseException
from avro.schema import parse as avro_parse
from hypothesis import assume, given

from somacontracts.compat import check_reader_writer
from tests.compat.strategies import schema_pairs


def port_verdict(reader: Any, writer: Any) -> tuple[bool, list[str]]:
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(
        avro_parse(json.dumps(reader)), avro_parse(json.dumps(writer))
    )
    types = [t.name.upper() for t in result.incompatibilities]
    return result.compatibility is SchemaCompatibilityType.compatible, types


def portable(schema: Any) -> Any:
    """``schema`` without aliases and logical types, its errors made records."""
    if isinstance(schema, list):
        return [portable(item) for item in schema]
    if isinstance(schema, dict):
        copied = {k: portable(v) for k, v in schema.items() if k not in ("aliases", "logicalType")}
        if copied.get("type") == "error":
            copied["type"] = "record"
        return copied
    return schema


@given(schema_pairs())
def test_same_verdict_and_types_as_the_python_port(pair: tuple[Any, Any]) -> None:
    reader, writer = (portable(schema) for schema in pair)
    ours = check_reader_writer(reader, writer)
    try:
        port = port_verdict(reader, writer)
    except SchemaParseException:
        assume(False)
    assert port == (ours.compatible, [str(t) for t in ours.types])


def test_the_port_differs_on_short_aliases() -> None:
    folder = Path(__file__).parent / "cases" / "NAME_ALIAS_RESOLVED_IN_NAMESPACE"
    reader = json.loads((folder / "reader.avsc").read_text())
    writer = json.loads((folder / "writer.avsc").read_text())
    assert check_reader_writer(reader, writer).compatible
    assert port_verdict(reader, writer) == (False, ["NAME_MISMATCH"])
