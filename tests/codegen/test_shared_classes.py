"""One class per named type and definition, across versions and contracts.

The tree of a service: ``StockReserved`` defines the record ``inventory.contracts.StockLine``
and ``StockReleased`` uses it (a shared type); ``StockReserved`` v2 adds an optional field
to its root and leaves ``StockLine`` as it was. ``StockLineV2`` is then ``StockLineV1``,
the plain ``StockLine`` too, and a line read from a v2 reservation goes into a release
(through the serializer, ``write_avro`` and ``mypy --strict``). Where ``StockLine``
changes in v2, the classes differ and the older versions keep theirs; ``release`` reports
a plain name whose objects an exported model no longer takes.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.errors import SchemaError, SerializationError
from somacontracts.runtime import Reader
from somacontracts.serde import ContractDeserializer, ContractSerializer
from somacontracts.tooling import sources
from somacontracts.tooling.codegen.surface import api_breaks, python_surface
from somacontracts.tooling.registry import LocalRegistry
from tests.codegen.fuzz import LINT_IGNORE, LINT_SELECT, tools
from tests.generated import generated

LINE: dict[str, Any] = {
    "type": "record",
    "name": "StockLine",
    "doc": "A quantity of one article.",
    "fields": [
        {"name": "sku", "type": "string", "doc": "Article number."},
        {"name": "quantity", "type": "int", "doc": "How many."},
    ],
}
NOTE = {"name": "note", "type": ["null", "string"], "default": None, "doc": "A remark."}


def reserved(line: Any = LINE, *extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "StockReserved",
        "namespace": "inventory.contracts",
        "doc": "Stock reserved for an order.",
        "fields": [
            {"name": "reservation_id", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "line", "type": line},
            *extra,
        ],
    }


RELEASED = {
    "type": "record",
    "name": "StockReleased",
    "namespace": "inventory.contracts",
    "doc": "Reserved stock given back.",
    "fields": [
        {"name": "reservation_id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "line", "type": "inventory.contracts.StockLine"},
        {"name": "reason", "type": "string"},
    ],
}


def changed_line() -> dict[str, Any]:
    line = copy.deepcopy(LINE)
    line["fields"].append(NOTE)
    return line


def write_tree(root: Path, contracts: dict[str, list[dict[str, Any]]]) -> Path:
    for contract, versions in contracts.items():
        folder = root / contract
        folder.mkdir(parents=True)
        for number, schema in enumerate(versions, 1):
            (folder / f"v{number}.avsc").write_text(json.dumps(schema), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The service's models after v2: the package, imported."""
    root = tmp_path_factory.mktemp("shared-classes")
    tree = write_tree(
        root / "avro",
        {"StockReleased": [RELEASED], "StockReserved": [reserved(), reserved(LINE, NOTE)]},
    )
    with generated(tree, root / "inventory_models", "stock_reserved") as module:
        yield sys.modules[module.__package__ or ""]


def test_an_unchanged_type_is_one_class_in_every_version_and_contract(
    inventory: ModuleType,
) -> None:
    assert inventory.StockLineV2 is inventory.StockLineV1
    assert inventory.StockLine is inventory.StockLineV1
    for model in (inventory.StockReservedV1, inventory.StockReservedV2, inventory.StockReleased):
        assert typing.get_type_hints(model)["line"] is inventory.StockLine
    assert inventory.StockReservedV2 is not inventory.StockReservedV1  # a root: its own version
    assert inventory.StockReservedV2.SCHEMA_VERSION == 2


def test_a_line_of_a_v2_reservation_goes_into_a_release(inventory: ModuleType) -> None:
    line = inventory.StockLine(sku="A-1", quantity=2)
    reservation = inventory.StockReserved(reservation_id=uuid.uuid4(), line=line, note="urgent")
    read_back = inventory.StockReserved.from_avro(reservation.to_avro())
    release = inventory.StockReleased(
        reservation_id=reservation.reservation_id, line=read_back.line, reason="cancelled"
    )
    context = SerializationContext("inventory.releases", MessageField.VALUE)
    with (
        LocalRegistry(host="127.0.0.1", port=0) as registry,
        ContractSerializer(inventory.StockReleased, registry.url, auto_register=True) as write,
        ContractDeserializer(inventory.StockReleased, registry.url) as read,
    ):
        framed = write(release, context)
        got = read(framed, context)
    assert got == release
    assert type(got.line) is inventory.StockLineV2
    out = bytearray()
    release.write_avro(out)
    assert inventory.StockReleased.read_avro(Reader(bytes(out))) == release


USER_MODULE = """\
import uuid

from inventory_models import StockLine, StockLineV1, StockReleased, StockReserved


def release(reservation: StockReserved) -> StockReleased:
    line: StockLineV1 = reservation.line
    return StockReleased(reservation_id=reservation.reservation_id, line=line, reason="x")


def reserve() -> StockReserved:
    line = StockLine(sku="A-1", quantity=1)
    return StockReserved(reservation_id=uuid.uuid4(), line=line, note=None)
"""


def mypy_strict(folder: Path, module: str) -> subprocess.CompletedProcess[str]:
    _, mypy = tools()
    return subprocess.run(
        [mypy, "--strict", "--no-incremental", "--cache-dir", "/dev/null", module],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )


def test_user_code_passing_lines_between_contracts_is_mypy_strict_clean(
    inventory: ModuleType,
) -> None:
    folder = Path(inventory.__file__ or "").parent.parent
    (folder / "user.py").write_text(USER_MODULE, encoding="utf-8")
    typed = mypy_strict(folder, "user.py")
    assert typed.returncode == 0, typed.stdout


def test_the_trees_of_1_0_and_1_1_break_no_python_api(tmp_path: Path) -> None:
    before = write_tree(
        tmp_path / "v1.0", {"StockReleased": [RELEASED], "StockReserved": [reserved()]}
    )
    after = write_tree(
        tmp_path / "v1.1",
        {"StockReleased": [RELEASED], "StockReserved": [reserved(), reserved(LINE, NOTE)]},
    )
    surface = python_surface(sources.load_tree(after))
    assert api_breaks(python_surface(sources.load_tree(before)), surface) == {}
    assert surface["StockReleased"].attributes["line"] == "StockLine"
    assert surface["StockReservedV2"].attributes["line"] == "StockLineV1"


# -- a type that changes -----------------------------------------------------------------


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """``StockReserved`` alone, whose v2 adds a field to ``StockLine``."""
    root = tmp_path_factory.mktemp("changed-classes")
    tree = write_tree(root / "avro", {"StockReserved": [reserved(), reserved(changed_line())]})
    with generated(tree, root / "changed_models", "stock_reserved") as module:
        yield module


def test_a_changed_type_is_a_new_class_and_older_versions_keep_theirs(
    changed: ModuleType,
) -> None:
    assert changed.StockLineV2 is not changed.StockLineV1
    assert changed.StockLine is changed.StockLineV2
    assert typing.get_type_hints(changed.StockReservedV1)["line"] is changed.StockLineV1
    assert typing.get_type_hints(changed.StockReservedV2)["line"] is changed.StockLineV2
    assert "note" in {f.name for f in dataclasses.fields(changed.StockLine)}


def test_an_older_version_refuses_the_new_class_naming_the_one_it_takes(
    changed: ModuleType,
) -> None:
    wrong = changed.StockReservedV1(
        reservation_id=uuid.uuid4(), line=changed.StockLine(sku="A-1", quantity=1)
    )
    context = SerializationContext("inventory.reservations", MessageField.VALUE)
    with (
        LocalRegistry(host="127.0.0.1", port=0) as registry,
        ContractSerializer(changed.StockReservedV1, registry.url, auto_register=True) as write,
        pytest.raises(SerializationError, match=r"StockReserved\.line: expected StockLineV1"),
    ):
        write(wrong, context)


def test_mypy_strict_catches_the_new_class_where_the_old_one_is_taken(
    changed: ModuleType,
) -> None:
    folder = Path(changed.__file__ or "").parent.parent
    (folder / "old_user.py").write_text(
        "import uuid\n\n"
        "from changed_models import StockLine, StockReservedV1\n\n"
        "StockReservedV1(reservation_id=uuid.uuid4(), line=StockLine(sku='A', quantity=1))\n",
        encoding="utf-8",
    )
    typed = mypy_strict(folder, "old_user.py")
    assert typed.returncode == 1
    assert 'has incompatible type "StockLineV2"; expected "StockLineV1"' in typed.stdout


def test_a_shared_type_that_changes_under_its_name_is_refused(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path,
        {"StockReleased": [RELEASED], "StockReserved": [reserved(), reserved(changed_line())]},
    )
    with pytest.raises(SchemaError, match="define differently") as refused:
        sources.load_tree(tree)
    assert "StockReserved/v1.avsc" in str(refused.value)
    assert "StockReserved/v2.avsc" in str(refused.value)


def inline(name: str) -> dict[str, Any]:
    """A contract ``name`` that defines ``StockLine`` itself, as ``StockReserved`` does."""
    return {
        "type": "record",
        "name": name,
        "namespace": "inventory.contracts",
        "fields": [{"name": "line", "type": copy.deepcopy(LINE)}],
    }


def test_release_reports_a_plain_name_an_exported_model_no_longer_takes(tmp_path: Path) -> None:
    # Audit defines StockLine alike: one class. StockReserved v2 changes it, so
    # StockReserved's plain StockLine is a new class that Audit.line does not take, and
    # the package's StockLine would be two classes: code importing it, or passing one to
    # Audit, breaks.
    before = write_tree(
        tmp_path / "v1.0", {"Audit": [inline("Audit")], "StockReserved": [reserved()]}
    )
    after = write_tree(
        tmp_path / "v1.1",
        {"Audit": [inline("Audit")], "StockReserved": [reserved(), reserved(changed_line())]},
    )
    old, new = (python_surface(sources.load_tree(t)) for t in (before, after))
    assert old["Audit"].attributes["line"] == "StockLine"
    assert "StockLine" not in new  # two classes: the package exports neither
    breaks = api_breaks(old, new)
    assert sorted(c.message for c in breaks["Audit"]) == [
        'Attribute "line" of "Audit" was StockLine and is now StockLineV1.',
        'Class "StockLine" is no longer generated.',
    ]


def test_a_type_two_contracts_define_alike_is_one_class_and_lints(tmp_path: Path) -> None:
    # Audit defines StockLine first in its v2, StockReserved in its v1: one class,
    # imported by stock_reserved under its own versioned name.
    first = {"type": "record", "name": "Audit", "namespace": "inventory.contracts", "fields": []}
    tree = write_tree(
        tmp_path / "avro", {"Audit": [first, inline("Audit")], "StockReserved": [reserved()]}
    )
    package = tmp_path / "models" / "alike_models"
    with generated(tree, package, "stock_reserved") as module:
        audit = sys.modules["alike_models.audit"]
        assert module.StockLineV1 is audit.StockLineV2
        assert typing.get_type_hints(module.StockReserved)["line"] is audit.StockLine
    ruff, _ = tools()
    common = ["--isolated", "--no-cache", "--line-length", "88"]
    select = ["--select", LINT_SELECT, "--ignore", LINT_IGNORE]
    for command in (
        [ruff, "check", *common, *select, "."],
        [ruff, "format", "--check", *common, "."],
    ):
        run = subprocess.run(command, capture_output=True, text=True, cwd=package, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
    typed = mypy_strict(package.parent, "alike_models")
    assert typed.returncode == 0, typed.stdout


def test_one_contract_that_uses_a_shared_type_is_not_rendered_alone() -> None:
    from somacontracts.tooling.codegen import CodegenError, render_contract

    tree = sources.load_tree(Path(__file__).parents[1] / "payments_service" / "avro")
    with pytest.raises(CodegenError) as refused:
        render_contract(tree["RefundIssued"].versions)
    assert str(refused.value).startswith(str(tree["RefundIssued"].versions[0].path))
    assert "uses payments.contracts.LineItem, a type another contract defines" in str(refused.value)
    assert "class LineItem" in render_contract(tree["PaymentCaptured"].versions)
