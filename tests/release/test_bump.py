"""Which version ``release --dry-run`` proposes, and why, on a service of its own: each
bump rule, and PYTHON_API_BROKEN with and without the deprecated-property way out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.release.service import Service

MIGRATED = {
    "metadata": {"properties": {"application.major.version": "2"}},
    "ruleSet": {
        "migrationRules": [
            {
                "name": "upgradeTotal",
                "kind": "TRANSFORM",
                "mode": "UPGRADE",
                "type": "JSONATA",
                "expr": "$merge([$sift($, function($v, $k) {$k != 'amount'}), "
                "{'total_cents': amount}])",
            },
            {
                "name": "downgradeTotal",
                "kind": "TRANSFORM",
                "mode": "DOWNGRADE",
                "type": "JSONATA",
                "expr": "$merge([$sift($, function($v, $k) {$k != 'total_cents'}), "
                "{'amount': total_cents}])",
            },
        ]
    },
}


@pytest.fixture
def service(tmp_path: Path) -> Service:
    return Service(tmp_path / "shop")


def proposed(service: Service) -> list[str]:
    done = service.release("--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert service.git("tag", "--list") == "v1.0.0\n"  # a dry run tags nothing
    return done.stdout.splitlines()


def rename(schema: dict[str, Any], *, alias: bool) -> None:
    field = schema["fields"][1]
    field["name"] = "total_cents"
    if alias:
        field["aliases"] = ["amount"]


def test_docs_only_is_a_patch(service: Service) -> None:
    (service.root / "README.md").write_text("# shop-contracts\n\nBetter words.\n")
    service.commit("Docs")
    assert proposed(service) == [
        "1.0.1 (patch since v1.0.0)",
        "  1 file(s) changed and no contract version was added (docs, lint or tooling only)",
    ]


def test_a_new_contract_version_is_a_minor(service: Service) -> None:
    service.evolve(
        lambda s: s["fields"].append(
            {"name": "note", "type": ["null", "string"], "default": None, "doc": "A note."}
        )
    )
    service.commit("Order v2: a note")
    assert proposed(service) == ["1.1.0 (minor since v1.0.0)", "  Order v2 is a new version"]


def test_a_new_contract_is_a_minor(service: Service) -> None:
    refund = {
        "type": "record",
        "name": "Refund",
        "namespace": "shop.contracts",
        "doc": "Money given back.",
        "fields": [{"name": "order_id", "type": "string", "doc": "The order refunded."}],
    }
    service.write("Refund", 1, refund)
    with (service.root / "pyproject.toml").open("a") as config:
        config.write('\n[tool.somacontracts.topics."shop.refunds"]\ncontract = "Refund"\n')
        config.write('key = "order_id"\n')
    service.regenerate()
    service.commit("The Refund contract")
    assert proposed(service) == ["1.1.0 (minor since v1.0.0)", "  Refund is a new contract"]


def test_a_new_major_version_of_a_contract_is_a_major(service: Service) -> None:
    service.evolve(lambda s: rename(s, alias=False), parts=MIGRATED)
    service.commit("Order v2: major version 2")
    lines = proposed(service)
    assert lines[0] == "2.0.0 (major since v1.0.0)"
    assert "  Order v2 starts major version 2 (a new compatibility group)" in lines


def test_a_rename_without_alias_breaks_the_python_api(service: Service) -> None:
    # Avro reads both ways at BACKWARD (the new field has a default), the classes do not.
    service.evolve(lambda s: rename(s, alias=False))
    service.commit("Order v2: amount is total_cents")
    assert proposed(service) == [
        "2.0.0 (major since v1.0.0)",
        '  PYTHON_API_BROKEN: Attribute "amount" of "Order" was removed.',
    ]


def test_a_rename_with_alias_keeps_the_old_attribute_deprecated(service: Service) -> None:
    service.evolve(lambda s: rename(s, alias=True))
    service.commit("Order v2: amount is total_cents, alias kept")
    assert proposed(service) == ["1.1.0 (minor since v1.0.0)", "  Order v2 is a new version"]
    probe = (
        "import warnings\n"
        "from shop_contracts.models import Order\n"
        "order = Order(order_id='o-1', total_cents=250)\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    print(order.amount)\n"
        "    order.amount = 300\n"
        "print(order.total_cents, [str(w.message) for w in caught])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=service.root / "src",
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "250",
        "300 ['OrderV2.amount is deprecated: the field is total_cents', "
        "'OrderV2.amount is deprecated: the field is total_cents']",
    ]


def test_a_removed_enum_member_and_a_new_required_field_break_the_python_api(
    service: Service,
) -> None:
    def change(schema: dict[str, Any]) -> None:
        schema["fields"][2]["type"]["symbols"] = ["OPEN", "UNKNOWN"]
        schema["fields"].append({"name": "customer", "type": "string", "doc": "Who ordered."})

    with (service.root / "pyproject.toml").open("a") as config:
        config.write('\n[tool.somacontracts.levels]\nOrder = "FORWARD"\n')
        # A producer-first change: old readers ignore the new field; lint would ask a default.
        config.write('\n[tool.somacontracts.lint]\ndisable = ["FIELD_ADDED_WITH_DEFAULT"]\n')
    service.evolve(change)
    service.commit("Order v2")
    lines = proposed(service)
    assert lines[0] == "2.0.0 (major since v1.0.0)"
    assert '  PYTHON_API_BROKEN: Member "PAID" of "OrderStatus" was removed.' in lines
    assert (
        '  PYTHON_API_BROKEN: "Order" takes a new required argument "customer" (a field '
        "without a default)." in lines
    )
