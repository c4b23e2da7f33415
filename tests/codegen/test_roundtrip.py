"""Generated classes round-trip through fastavro: object -> datum -> bytes -> datum -> object."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
from types import ModuleType
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from fastavro.validation import validate
from hypothesis import given, settings
from hypothesis import strategies as st

from somacontracts import models
from somacontracts.schema import registry_text
from somacontracts.tooling import sources
from somacontracts.tooling.codegen import names
from somacontracts.tooling.codegen.declarations import build_version
from somacontracts.tooling.testing import datums
from tests.codegen.objects import instances, same

BUNDLED = [v for c in sources.bundled().values() for v in c.versions]

# fastavro.validation.validate matches tuple notation ("name", datum) only against records
# and branches written as a plain name; an inline enum or a logical type written in tuple
# notation (needed where fastavro's first match would pick another branch) fails it,
# though fastavro's writer takes it.
_VALIDATE_SKIPPED = {"TupleUnions", "Unions"}
# Unions of an enum and a string: read without return_named_type=True, an enum's symbol
# is a plain string, which from_avro takes for the string branch.
_ENUM_BESIDE_STRING = {"TupleUnions", "Unions"}


def _write_read(
    parsed: dict[str, Any],
    datum: Any,
    *,
    return_named_type: bool = False,
    return_record_name: bool = False,
) -> Any:
    buffer = io.BytesIO()
    schemaless_writer(buffer, parsed, datum)
    buffer.seek(0)
    return schemaless_reader(
        buffer,
        parsed,
        None,
        return_named_type=return_named_type,
        return_record_name=return_record_name,
    )


def _check_round_trip(
    obj: Any, cls: Any, version: sources.SchemaVersion, *, validated: bool = True
) -> None:
    datum = obj.to_avro()
    if validated:
        assert validate(datum, version.fastavro, raise_errors=True)
    back = cls.from_avro(_write_read(version.fastavro, datum, return_named_type=True))
    assert back == obj
    assert same(back, obj), (back, obj)


def _version_class(module: ModuleType, version: sources.SchemaVersion) -> Any:
    return getattr(module, f"{names.class_base_name(version.contract)}V{version.version}")


@pytest.mark.parametrize("version", BUNDLED, ids=lambda v: f"{v.contract}-v{v.version}")
def test_bundled_contracts_round_trip(version: sources.SchemaVersion) -> None:
    module = importlib.import_module(f"somacontracts.models.{names.module_name(version.contract)}")
    cls = _version_class(module, version)

    @given(instances(build_version(version), module))
    @settings(max_examples=60)
    def check(obj: Any) -> None:
        _check_round_trip(obj, cls, version)
        # These contracts have no union of named types: a plain reader works too.
        plain = cls.from_avro(_write_read(version.fastavro, obj.to_avro()))
        assert same(plain, obj)

    check()


@pytest.mark.parametrize("version", BUNDLED, ids=lambda v: f"{v.contract}-v{v.version}")
def test_bundled_datums_survive_from_avro_to_avro(version: sources.SchemaVersion) -> None:
    module = importlib.import_module(f"somacontracts.models.{names.module_name(version.contract)}")
    cls = _version_class(module, version)

    @given(datums(version.parsed))
    @settings(max_examples=60)
    def check(datum: dict[str, Any]) -> None:
        assert cls.from_avro(datum).to_avro() == datum

    check()


def test_latest_classes_have_plain_names_and_constants() -> None:
    for contract in sources.bundled().values():
        latest = contract.latest
        cls = getattr(models, contract.name)
        assert cls is getattr(models, f"{contract.name}V{latest.version}")
        assert json.loads(registry_text(latest.schema, normalize=True)) == cls.SCHEMA
        assert latest.fingerprint == cls.FINGERPRINT
        assert latest.version == cls.SCHEMA_VERSION
        assert latest.full_name == cls.FULL_NAME
    assert models.ConversationEvent.SUBJECTS == (
        "conversation.inbound-value",
        "conversation.outbound-value",
    )
    assert models.ConversationEvent.SUBJECT == "conversation.inbound-value"
    assert models.ToolInvocation.SUBJECT == "tool.requests-value"


def test_free_form_json_is_compact_text() -> None:
    meta = models.ToolInvocationMetadata(
        requested_by="gateway",
        timestamp=dt.datetime(2025, 10, 9, tzinfo=dt.UTC),
        extra={"caf\u00e9": [1, 2.5, None]},
    )
    assert meta.to_avro()["extra"] == '{"caf\u00e9":[1,2.5,null]}'
    with pytest.raises(ValueError, match=r"^nan is not a JSON number$"):
        models.ToolInvocationMetadata(
            requested_by="g", timestamp=meta.timestamp, extra=float("nan")
        ).to_avro()


def _corpus_versions() -> list[sources.SchemaVersion]:
    from tests.codegen.conftest import CORPUS

    return [v for c in sources.load_tree(CORPUS).values() for v in c.versions]


@pytest.mark.parametrize("version", _corpus_versions(), ids=lambda v: f"{v.contract}-v{v.version}")
def test_corpus_round_trips(version: sources.SchemaVersion, corpus_package: ModuleType) -> None:
    module = importlib.import_module(
        f"{corpus_package.__name__}.{names.module_name(version.contract)}"
    )
    cls = _version_class(module, version)
    validated = version.contract not in _VALIDATE_SKIPPED

    @given(st.data())
    @settings(max_examples=25)
    def check(data: st.DataObject) -> None:
        obj = data.draw(instances(build_version(version), module))
        _check_round_trip(obj, cls, version, validated=validated)
        # return_record_name=True names records (not inline enums): records still resolve.
        if version.contract not in _ENUM_BESIDE_STRING:
            named = _write_read(version.fastavro, obj.to_avro(), return_record_name=True)
            assert same(cls.from_avro(named), obj)

    check()


def test_tuple_notation_picks_the_branch_fastavro_would_miss(
    corpus_package: ModuleType, corpus_tree: dict[str, sources.ContractSchemas]
) -> None:
    module = importlib.import_module(f"{corpus_package.__name__}.tuple_unions")
    version = corpus_tree["TupleUnions"].latest
    moment = dt.datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    obj = module.TupleUnions(
        string_or_enum=module.Light.red,
        two_enums=module.Colour.red,
        uuid_or_enum=module.Colour.blue,
        temporal=moment,
    )
    datum = obj.to_avro()
    assert datum["string_or_enum"] == ("corpus.tuples.Light", module.Light.red)
    assert datum["two_enums"] == ("corpus.tuples.Colour", module.Colour.red)
    assert datum["temporal"] == ("long", moment)
    # Without the names, fastavro writes the first branch that accepts the value.
    plain = {**datum, "string_or_enum": "red", "two_enums": "red", "temporal": moment}
    assert _write_read(version.fastavro, plain, return_named_type=True)["temporal"] != moment
    assert not validate(datum, version.fastavro, raise_errors=False)  # see _VALIDATE_SKIPPED
    read = _write_read(version.fastavro, datum, return_named_type=True)
    back = module.TupleUnions.from_avro(read)
    assert same(back, obj)
