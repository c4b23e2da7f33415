"""Every released contract version: parses everywhere, follows the contract rules, round-trips."""

from __future__ import annotations

import io
import json
import warnings
from typing import Any

import avro.errors
import avro.schema
import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from somacontracts import catalog
from somacontracts.schema import forms
from somacontracts.tooling import sources
from somacontracts.tooling.testing import datums

VERSIONS = [v for c in sources.bundled().values() for v in c.versions]
IDS = [f"{v.contract}-v{v.version}" for v in VERSIONS]


def _walk_records(schema: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, list):
        for index, branch in enumerate(schema):
            found += _walk_records(branch, f"{path}/{index}")
    elif isinstance(schema, dict):
        if schema.get("type") == "record":
            found.append((path, schema))
            for index, field in enumerate(schema["fields"]):
                found += _walk_records(field["type"], f"{path}/fields/{index}/type")
        elif isinstance(schema.get("type"), (dict, list)):
            found += _walk_records(schema["type"], f"{path}/type")
        for key in ("items", "values"):
            if key in schema:
                found += _walk_records(schema[key], f"{path}/{key}")
    return found


def test_every_catalog_contract_has_versions() -> None:
    assert set(sources.bundled()) == set(catalog.CONTRACTS)
    assert all(c.versions for c in sources.bundled().values())


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_parses_with_apache_avro(version: sources.SchemaVersion) -> None:
    with warnings.catch_warnings():
        # The "json" logical type is ours; Apache Avro reads it as a plain string.
        warnings.simplefilter("ignore", avro.errors.IgnoredLogicalType)
        parsed = avro.schema.parse(json.dumps(version.schema))
    assert isinstance(parsed, avro.schema.RecordSchema)
    assert parsed.fullname == version.full_name
    assert json.loads(str(parsed))["name"].endswith(version.contract)


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_parses_with_fastavro_and_fingerprint_is_stable(version: sources.SchemaVersion) -> None:
    again = fastavro.parse_schema(json.loads(version.path.read_text()))
    assert fastavro.schema.to_parsing_canonical_form(again) == version.canonical_form
    assert forms.fingerprint(version.schema) == version.fingerprint


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_records_have_namespace_and_docs(version: sources.SchemaVersion) -> None:
    assert version.schema["namespace"] == "somastack.contracts"
    for path, record in _walk_records(version.schema):
        assert record.get("doc"), f"record at {path or '/'} has no doc"
        for field in record["fields"]:
            assert field.get("doc"), f'field "{field["name"]}" of {record["name"]} has no doc'


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_metadata_carries_schema_version(version: sources.SchemaVersion) -> None:
    fields = {f["name"]: f for f in version.schema["fields"]}
    metadata = {f["name"]: f for f in fields["metadata"]["type"]["fields"]}
    assert metadata["schema_version"]["type"] == "int"
    assert metadata["schema_version"]["default"] == version.version


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_enums_have_a_default_symbol(version: sources.SchemaVersion) -> None:
    text = version.path.read_text()
    enums = [
        s
        for _, r in _walk_records(version.schema)
        for f in r["fields"]
        for s in [f["type"]]
        if isinstance(s, dict) and s.get("type") == "enum"
    ]
    assert text.count('"type": "enum"') == len(enums)
    for enum in enums:
        assert enum.get("default") in enum["symbols"]


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_key_field_is_a_string(version: sources.SchemaVersion) -> None:
    schema: Any = version.schema
    for part in catalog.CONTRACTS[version.contract].key_field.split("."):
        field = next(f for f in schema["fields"] if f["name"] == part)
        schema = field["type"]
    assert schema == "string"


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
@given(data=st.data())
def test_random_datums_round_trip(version: sources.SchemaVersion, data: st.DataObject) -> None:
    datum = data.draw(datums(version.parsed))
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, version.fastavro, datum)
    buffer.seek(0)
    assert fastavro.schemaless_reader(buffer, version.fastavro, version.fastavro) == datum
