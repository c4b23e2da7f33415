"""``diff --against`` on a tree whose contracts share a named type: the payments service's
RefundIssued uses the LineItem that PaymentCaptured defines. A new version of either
contract is reported in every format, and with one contract named, with the breaks of
the generated classes' Python API under the version that brings them."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from somacontracts.tooling import sources
from somacontracts.tooling.codegen.surface import version_breaks
from tests.scratch import run

SERVICE = Path(__file__).parents[1] / "payments_service"


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """The payments service in a git repository of its own, tagged ``v1.0.0``."""
    root = tmp_path / "payments"
    shutil.copytree(SERVICE, root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", "Payments")
    _git(root, "config", "user.email", "payments@example.invalid")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "The payments contracts")
    _git(root, "tag", "v1.0.0")
    return root


def _without(root: Path, contract: str, field: str) -> None:
    """Commit ``contract``'s next version: its latest without ``field``."""
    folder = root / "avro" / contract
    latest = max(int(p.stem[1:]) for p in folder.glob("v*.avsc"))
    schema: dict[str, Any] = copy.deepcopy(json.loads((folder / f"v{latest}.avsc").read_text()))
    schema["fields"] = [f for f in schema["fields"] if f["name"] != field]
    (folder / f"v{latest + 1}.avsc").write_text(json.dumps(schema, indent=2) + "\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", f"{contract} without {field}")


def _diff(root: Path, *args: str) -> str:
    done = run(root, "diff", "--against", "v1.0.0", *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _broken(reports: list[dict[str, Any]]) -> dict[tuple[str, int], list[str]]:
    return {
        (r["contract"], r["new_version"]): [
            c["location"] for c in r["changes"] if c["kind"] == "PYTHON_API_BROKEN"
        ]
        for r in reports
    }


@pytest.mark.parametrize(
    ("contract", "field", "other"),
    [
        ("RefundIssued", "tenant_id", "PaymentCaptured"),  # the contract using LineItem
        ("PaymentCaptured", "currency", "RefundIssued"),  # the contract defining it
    ],
)
def test_a_new_version_beside_a_shared_type(
    service: Path, contract: str, field: str, other: str
) -> None:
    _without(service, contract, field)
    where = f"python:{contract}.{field}"

    text = _diff(service)
    assert f"{contract} v1 -> v2" in text
    assert f"PYTHON_API_BROKEN  {where}  " in text
    assert other not in text
    reports = json.loads(_diff(service, "--format", "json"))
    assert _broken(reports) == {(contract, 2): [where]}
    markdown = _diff(service, "--format", "markdown")
    assert f"| `PYTHON_API_BROKEN` | `{where}` |" in markdown
    named = json.loads(_diff(service, contract, "--format", "json"))
    assert _broken(named) == {(contract, 2): [where]}
    assert json.loads(_diff(service, other, "--format", "json")) == []


def test_both_contracts_new_each_break_under_its_own_version(service: Path) -> None:
    _without(service, "PaymentCaptured", "currency")
    _without(service, "RefundIssued", "reason")
    _without(service, "RefundIssued", "tenant_id")

    assert _broken(json.loads(_diff(service, "--format", "json"))) == {
        ("PaymentCaptured", 2): ["python:PaymentCaptured.currency"],
        ("RefundIssued", 2): ["python:RefundIssued.reason"],
        ("RefundIssued", 3): ["python:RefundIssued.tenant_id"],
    }
    # The same, whichever contract is asked about.
    assert _broken(json.loads(_diff(service, "RefundIssued", "--format", "json"))) == {
        ("RefundIssued", 2): ["python:RefundIssued.reason"],
        ("RefundIssued", 3): ["python:RefundIssued.tenant_id"],
    }


def test_version_breaks_reads_each_contract_with_the_types_of_the_whole_tree(
    service: Path,
) -> None:
    released = sources.load_tree(service / "avro")
    _without(service, "RefundIssued", "reason")
    tree = sources.load_tree(service / "avro")
    found = version_breaks(tree, released)
    assert [(key, [c.location for c in changes]) for key, changes in found.items()] == [
        (("RefundIssued", 2), ["python:RefundIssued.reason"])
    ]
    assert version_breaks(tree, tree) == {}
    # A contract not released yet: its versions are new, and adding classes breaks nothing.
    assert version_breaks(tree, {"PaymentCaptured": released["PaymentCaptured"]}) == {}
