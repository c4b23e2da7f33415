"""The built wheel carries every schema and template: a non-editable install lists and
loads all contracts and builds the docs site."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.scratch import run

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, somacontracts
settings = somacontracts.load_settings({})
print(json.dumps({
    "file": somacontracts.__file__,
    "contracts": {
        name: {
            "versions": [v.version for v in somacontracts.bundled()[name].versions],
            "fingerprints": [v.fingerprint for v in somacontracts.bundled()[name].versions],
            "subjects": list(settings.subjects_of(name)),
            "topics": list(settings.topics_of(name)),
        }
        for name in somacontracts.CONTRACTS
    },
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("somacontracts-*.whl")
    return built


def test_wheel_contains_every_schema_version(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    expected = {
        f"somacontracts/avro/{p.relative_to(ROOT / 'avro')}"
        for p in (ROOT / "avro").rglob("*.avsc")
    }
    assert expected
    assert expected <= set(names)
    assert "somacontracts/py.typed" in names
    assert not [n for n in names if n.startswith("tests/")]


def test_installed_wheel_lists_and_loads_all_contracts(wheel: Path, tmp_path: Path) -> None:
    import json

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    # Run from an empty folder so that nothing of the checkout can be imported.
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout)
    assert Path(report["file"]).is_relative_to(target)
    contracts = report["contracts"]
    assert set(contracts) == {
        "ToolInvocation",
        "ToolResult",
        "DelegatedTask",
        "ConversationEvent",
        "SettingsPayload",
    }
    for name, info in contracts.items():
        on_disk = sorted((ROOT / "avro" / name).glob("v*.avsc"))
        assert info["versions"] == list(range(1, len(on_disk) + 1))
        assert info["subjects"] == [f"{t}-value" for t in info["topics"]]
    assert contracts["ConversationEvent"]["topics"] == [
        "conversation.inbound",
        "conversation.outbound",
    ]
    assert str(target) in run(tmp_path, "validate", env=env).stdout
    site = run(tmp_path, "docs", "--out", "site", env=env)  # its templates are in the wheel
    assert site.stdout.startswith("wrote 12 pages"), site.stderr
    assert "ToolInvocation" in (tmp_path / "site" / "index.html").read_text()
