"""``release`` refuses, with one line and nothing written, what must not be released: a
dirty tree, a project ``check`` fails (models not regenerated included), nothing new."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.release.service import Service


@pytest.fixture
def service(tmp_path: Path) -> Service:
    return Service(tmp_path / "shop")


def refused(service: Service, *args: str) -> tuple[str, str]:
    before = (service.root / "pyproject.toml").read_text()
    changelog = (service.root / "CHANGELOG.md").read_text()
    done = service.release(*args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert service.git("tag", "--list") == "v1.0.0\n"
    assert (service.root / "pyproject.toml").read_text() == before
    assert (service.root / "CHANGELOG.md").read_text() == changelog
    assert not (service.root / "dist").exists()
    return done.stdout, done.stderr


@pytest.mark.parametrize("args", [(), ("--dry-run",)])
def test_a_dirty_tree(service: Service, args: tuple[str, ...]) -> None:
    (service.root / "README.md").write_text("# shop-contracts\n\nNot committed.\n")
    _, stderr = refused(service, *args)
    assert stderr == (
        "somacontracts release: refused: work tree: 1 file not committed: README.md\n"
    )


def test_an_untracked_file(service: Service) -> None:
    (service.root / "notes.txt").write_text("would go into the sdist\n")
    _, stderr = refused(service)
    assert stderr.endswith("1 file not committed: notes.txt\n")
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        (service.root / name).write_text("more\n")
    _, stderr = refused(service)
    assert stderr.endswith("5 files not committed: a.txt, b.txt, c.txt and 2 more\n")


def test_a_failing_check(service: Service) -> None:
    service.evolve(  # a field without a default: v2 cannot read v1's orders, not BACKWARD
        lambda s: s["fields"].append({"name": "currency", "type": "string", "doc": "ISO 4217."})
    )
    service.commit("Order v2 with a currency and no default")
    stdout, stderr = refused(service)
    assert "v2 READER_FIELD_MISSING_DEFAULT_VALUE" in stdout
    assert "v2 FIELD_ADDED_WITH_DEFAULT" in stdout  # the lint rule says it too
    assert stderr == "somacontracts release: refused: check: 2 errors; fix them first\n"


def test_models_not_regenerated(service: Service) -> None:
    service.evolve(
        lambda s: s["fields"].append(
            {"name": "note", "type": "string", "default": "", "doc": "A note."}
        )
    )
    models = service.root / "src" / "shop_contracts" / "models" / "order.py"
    service.git("checkout", "--", str(models))
    service.commit("Order v2, models forgotten")
    stdout, stderr = refused(service)
    assert "MODELS_UP_TO_DATE" in stdout
    assert 'Generated module "order.py" is' in stdout
    assert stderr == "somacontracts release: refused: check: 1 error; fix them first\n"


def test_nothing_since_the_last_release(service: Service) -> None:
    _, stderr = refused(service, "--dry-run")
    assert stderr == "somacontracts release: refused: contracts: nothing changed since v1.0.0\n"
