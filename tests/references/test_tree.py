"""Shared types in a tree: loading, one definition, lock and check, codegen."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer

from somacontracts.errors import SchemaError
from somacontracts.tooling import sources
from somacontracts.tooling.cli import EXIT_OK, EXIT_VIOLATIONS
from tests.references.conftest import TREE
from tests.scratch import run

LINE_ITEM = "payments.contracts.LineItem"
UNIT = "payments.contracts.Unit"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_version_uses_the_types_another_file_defines() -> None:
    tree = sources.load_tree(TREE / "avro")
    refund = tree["RefundIssued"].latest
    assert list(refund.references) == [LINE_ITEM, UNIT]
    assert refund.references[LINE_ITEM] is tree["PaymentCaptured"].latest.parsed.named[LINE_ITEM]
    assert tree["PaymentCaptured"].latest.references == {}
    datum = {
        "refund_id": "7c0a4b1e-3f0e-4a53-9d5e-2f1f1c7d2b10",
        "payment_id": "7c0a4b1e-3f0e-4a53-9d5e-2f1f1c7d2b11",
        "merchant_id": "m-1",
        "items": [{"sku": "A", "quantity": 2, "unit": "KILOGRAM", "unit_price": b"\x01"}],
        "main_unit": "PIECE",
    }
    out = io.BytesIO()
    schemaless_writer(out, refund.fastavro, datum)
    out.seek(0)
    read: Any = schemaless_reader(out, refund.fastavro, refund.fastavro)
    assert read["items"][0]["unit"] == "KILOGRAM"


def test_folders_load_in_any_order(payments: Path) -> None:
    (payments / "avro" / "RefundIssued").rename(payments / "avro" / "ARefundIssued")
    _edit(payments / "avro" / "ARefundIssued" / "v1.avsc", '"RefundIssued"', '"ARefundIssued"')
    assert list(sources.load_tree(payments / "avro")["ARefundIssued"].latest.references) == [
        LINE_ITEM,
        UNIT,
    ]


def test_an_undefined_type_is_still_refused(payments: Path) -> None:
    _edit(payments / "avro" / "RefundIssued" / "v1.avsc", LINE_ITEM, "payments.contracts.Nope")
    with pytest.raises(SchemaError) as refused:
        sources.load_tree(payments / "avro")
    assert 'type "payments.contracts.Nope" is not defined' in str(refused.value)
    assert "RefundIssued/v1.avsc" in str(refused.value)


def test_types_that_use_each_other_across_files_are_one_clear_error(tmp_path: Path) -> None:
    def record(name: str, inner: str, other: str) -> dict[str, Any]:
        field = {"name": "other", "type": ["null", other], "default": None}
        nested = {"type": "record", "name": inner, "fields": [field]}
        return {"type": "record", "name": name, "namespace": "n", "fields": [
            {"name": "inner", "type": nested}]}  # fmt: skip

    for name, inner, other in (("A", "X", "n.Y"), ("B", "Y", "n.X")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "v1.avsc").write_text(json.dumps(record(name, inner, other)))
    with pytest.raises(SchemaError) as refused:
        sources.load_tree(tmp_path)
    message = str(refused.value)
    assert "\n" not in message
    assert "uses types of this file in turn" in message
    assert "must be defined in one file" in message


def test_a_shared_type_defined_two_ways_is_refused(payments: Path) -> None:
    folder = payments / "avro" / "PaymentCaptured"
    schema = json.loads((folder / "v1.avsc").read_text())
    line_item = schema["fields"][2]["type"]["items"]
    line_item["fields"].append({"name": "note", "type": "string", "default": "", "doc": "Note."})
    (folder / "v2.avsc").write_text(json.dumps(schema))
    with pytest.raises(SchemaError) as refused:
        sources.load_tree(payments / "avro")
    message = str(refused.value)
    assert message.startswith(str(payments / "avro" / "RefundIssued" / "v1.avsc"))
    assert f'"{LINE_ITEM}"' in message
    assert "PaymentCaptured/v2.avsc" in message
    assert "define differently" in message


def test_the_same_definition_in_two_versions_is_one_type(payments: Path) -> None:
    folder = payments / "avro" / "PaymentCaptured"
    schema = json.loads((folder / "v1.avsc").read_text())
    schema["fields"].append({"name": "note", "type": "string", "default": "", "doc": "Note."})
    (folder / "v2.avsc").write_text(json.dumps(schema))
    tree = sources.load_tree(payments / "avro")
    assert list(tree["RefundIssued"].latest.references) == [LINE_ITEM, UNIT]


def test_editing_a_shared_type_edits_every_version_using_it(payments: Path) -> None:
    assert run(payments, "check").returncode == EXIT_OK
    _edit(payments / "avro" / "PaymentCaptured" / "v1.avsc", '"How many."', '"How many of it."')
    checked = run(payments, "check", "--format", "json")
    assert checked.returncode == EXIT_VIOLATIONS
    edited = [f for f in json.loads(checked.stdout)["findings"] if f["rule"] == "VERSION_EDITED"]
    assert {(f["contract"], f["location"]) for f in edited} == {
        ("PaymentCaptured", "/fields/2/type/items/fields/1/doc"),
        ("RefundIssued", ""),
    }
    refund = next(f for f in edited if f["contract"] == "RefundIssued")
    assert f'shared type "{LINE_ITEM}"' in refund["message"]
    locked = run(payments, "lock")
    assert locked.returncode != EXIT_OK
    assert "PaymentCaptured/v1.avsc was released and has changed" in locked.stderr


def test_the_lock_records_the_shared_types_text() -> None:
    lock = json.loads((TREE / "somacontracts.lock").read_text())
    refund = lock["contracts"]["RefundIssued"]["versions"]["1"]
    shared = json.loads(refund["references"])
    assert sorted(shared) == [LINE_ITEM, UNIT]
    assert '{"type":"array","items":"payments.contracts.LineItem"}' in refund["schema"]
    assert "references" not in lock["contracts"]["PaymentCaptured"]["versions"]["1"]


def test_codegen_makes_one_class_per_named_type() -> None:
    models = TREE / "models"
    refund = (models / "refund_issued.py").read_text()
    captured = (models / "payment_captured.py").read_text()
    assert "from .payment_captured import LineItemV1, UnitV1" in refund
    assert "class LineItem" not in refund
    assert "class Unit" not in refund
    assert captured.count("class LineItemV1") == 1
    init = (models / "__init__.py").read_text()
    assert "# #" not in init
    from tests.references.payments.models import LineItem, RefundIssued

    assert RefundIssued.__dataclass_fields__["items"].type == "list[LineItemV1]"
    assert LineItem.__module__.endswith("payment_captured")
    assert list(RefundIssued.REFERENCES) == [UNIT, LINE_ITEM]


def test_the_models_in_the_tree_are_up_to_date() -> None:
    checked = run(TREE, "check")
    assert checked.returncode == EXIT_OK, checked.stdout + checked.stderr
