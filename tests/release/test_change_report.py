"""The change report of a service of its own: ``diff --against`` names the version that
breaks the generated classes' Python API (PYTHON_API_BROKEN) unless an alias keeps the
old name, and a version the lock records as allowed by readers says so in ``diff`` and
in the release's changelog section."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.tooling import sources
from somacontracts.tooling.check.readers import decision_text
from somacontracts.tooling.release.bump import plan_release
from somacontracts.tooling.release.git import export_folder
from somacontracts.tooling.release.project import changelog_section
from tests.release.service import Service
from tests.scratch import run


@pytest.fixture
def service(tmp_path: Path) -> Service:
    return Service(tmp_path / "shop")


def diff(service: Service, *args: str) -> str:
    done = run(service.root, "diff", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def renamed(old: str, new: str, *, alias: bool) -> Any:
    def change(schema: dict[str, Any]) -> None:
        field = next(f for f in schema["fields"] if f["name"] == old)
        field["name"] = new
        if alias:
            field["aliases"] = [old]

    return change


def test_diff_against_names_the_version_that_breaks_the_python_api(service: Service) -> None:
    note = {"name": "note", "type": ["null", "string"], "default": None, "doc": "A note."}
    service.evolve(lambda s: s["fields"].append(note))  # v2: nothing breaks
    service.evolve(renamed("amount", "total_cents", alias=False))  # v3: amount is gone
    service.evolve(renamed("status", "state", alias=True))  # v4: status kept, deprecated
    service.commit("Order v2 to v4")

    reports = json.loads(diff(service, "--against", "v1.0.0", "--format", "json"))
    broken = {
        r["new_version"]: [c for c in r["changes"] if c["kind"] == "PYTHON_API_BROKEN"]
        for r in reports
    }
    assert broken == {
        2: [],
        3: [
            {
                "kind": "PYTHON_API_BROKEN",
                "location": "python:Order.amount",
                "version": 3,
                "message": 'Attribute "amount" of "Order" was removed.',
            }
        ],
        4: [],
    }
    text = diff(service, "--against", "v1.0.0")
    assert 'PYTHON_API_BROKEN  python:Order.amount  Attribute "amount" of "Order"' in text
    assert text.count("PYTHON_API_BROKEN") == 1
    markdown = diff(service, "--against", "v1.0.0", "--format", "markdown")
    assert '| `PYTHON_API_BROKEN` | `python:Order.amount` | Attribute "amount"' in markdown
    assert "PYTHON_API_BROKEN" not in diff(service, "Order", "v2", "v3")  # only --against

    # Against a ref that has v3 already, v4 breaks nothing and v3 is not reported.
    service.git("tag", "with-v3", "HEAD")
    assert "PYTHON_API_BROKEN" not in diff(service, "--against", "with-v3")


def test_a_decision_by_readers_shows_in_diff_and_in_the_changelog(service: Service) -> None:
    currency = {"name": "currency", "type": "string", "doc": "ISO 4217 code."}
    service.evolve(lambda s: s["fields"].append(currency))  # the level refuses it
    lock_path = service.root / "somacontracts.lock"
    lock = json.loads(lock_path.read_text())
    readers = [
        {"group": "billing-eu", "service": "billing", "version": 1},
        {"group": "mailer", "service": "mailer", "version": None},
    ]
    lock["by_readers"] = {
        "Order": {
            "2": {"level": "FULL_TRANSITIVE", "subject": "shop.orders-value", "readers": readers}
        }
    }
    lock_path.write_text(json.dumps(lock, indent=2) + "\n")
    service.commit("Order v2, allowed by its readers")
    words = (
        "allowed by readers (--by-readers): the FULL_TRANSITIVE level refuses it, and every live "
        "reader of shop.orders-value read it when the team decided: billing-eu (billing, "
        "v1), mailer (mailer, version unknown)"
    )

    text = diff(service, "Order")
    assert "Order v1 -> v2 (BACKWARD: NOT allowed; allowed by readers)" in text
    assert f"  {words} (recorded in " in text
    (report,) = json.loads(diff(service, "Order", "--format", "json"))
    assert report["by_readers"]["readers"] == readers
    assert report["by_readers"]["level"] == "FULL_TRANSITIVE"
    assert report["by_readers"]["text"].startswith(words)
    markdown = diff(service, "Order", "--format", "markdown")
    assert f"**Allowed by readers:** {words}" in markdown
    assert "by_readers" not in json.loads(diff(service, "Order", "v1", "v1", "--format", "json"))[0]

    tree = sources.load_tree(service.root / "avro")
    with tempfile.TemporaryDirectory() as scratch:
        released = sources.load_tree(export_folder(service.root / "avro", "v1.0.0", Path(scratch)))

    def section(by_readers: dict[str, dict[int, str]]) -> str:
        plan = plan_release(
            tree,
            released,
            previous=("v1.0.0", (1, 0, 0)),
            changed=["avro/Order/v2.avsc"],
            levels={"Order": CompatibilityLevel.FULL_TRANSITIVE},
            readers={},
            by_readers=by_readers,
        )
        return changelog_section(plan, "2025-01-01")

    decided = decision_text(lock["by_readers"]["Order"]["2"])
    assert f"    - A{words[1:]}." in section({"Order": {2: decided}}).splitlines()
    assert "readers" not in section({"Order": {7: "not a version of this release"}}).lower()
