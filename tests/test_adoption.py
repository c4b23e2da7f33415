"""A second service adopts somacontracts: its own contracts and configuration, and every
trap a new user fell into, each with a test that would have caught it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from somacontracts import __version__
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS, main
from somacontracts.tooling.files import installed_packages
from tests.scratch import run

ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "shop.contracts",
    "doc": "An order placed in the shop.",
    "fields": [
        {"name": "order_id", "type": {"type": "string", "logicalType": "uuid"}, "doc": "Id."},
        {
            "name": "state",
            "type": {
                "type": "enum",
                "name": "OrderState",
                "doc": "Where the order is.",
                "symbols": ["NEW", "PAID", "UNKNOWN"],
                "default": "UNKNOWN",
            },
            "doc": "State.",
        },
        {"name": "note", "type": ["null", "string"], "default": None, "doc": "A note."},
        {"name": "tags", "type": {"type": "map", "values": "string"}, "doc": "Tags."},
        {
            "name": "lines",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "OrderLine",
                    "doc": "One line.",
                    "fields": [
                        {"name": "sku", "type": "string", "doc": "Article."},
                        {
                            "name": "price",
                            "type": {
                                "type": "bytes",
                                "logicalType": "decimal",
                                "precision": 12,
                                "scale": 2,
                            },
                            "doc": "Price.",
                        },
                    ],
                },
            },
            "doc": "Lines.",
        },
        {
            "name": "placed_at",
            "type": {"type": "long", "logicalType": "timestamp-micros"},
            "doc": "When.",
        },
    ],
}
CONFIG = """\
[project]
name = "shop"
version = "0.1.0"

[tool.somacontracts]
schemas = "avro"
models = "src/shop/contracts"
default-level = "FULL_TRANSITIVE"

[tool.somacontracts.subjects]
Order = ["orders-value"]
"""


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """A service with one contract of its own, configured in its pyproject.toml."""
    root = tmp_path / "shop"
    (root / "avro" / "Order").mkdir(parents=True)
    (root / "avro" / "Order" / "v1.avsc").write_text(json.dumps(ORDER, indent=2))
    (root / "pyproject.toml").write_text(CONFIG)
    return root


def test_every_command_reads_the_service_s_configuration(service: Path) -> None:
    validated = run(service, "validate")
    assert validated.returncode == EXIT_OK, validated.stderr
    assert "1 contract, 1 version: all valid" in validated.stdout
    assert "ToolInvocation" not in validated.stdout
    assert run(service, "lock").returncode == EXIT_OK
    generated = run(service, "codegen")
    assert generated.returncode == EXIT_OK, generated.stderr
    module = (service / "src" / "shop" / "contracts" / "order.py").read_text()
    assert 'SUBJECTS: typing.ClassVar[tuple[str, ...]] = ("orders-value",)' in module
    package_doc = (service / "src" / "shop" / "contracts" / "__init__.py").read_text()
    assert "(OrderV1)" in package_doc
    assert "ToolInvocation" not in package_doc
    checked = run(service, "check")
    assert checked.returncode == EXIT_OK, checked.stdout + checked.stderr
    assert checked.stdout == "1 contract checked: no problems found\n"
    # the service's generated models are part of check
    path = service / "src" / "shop" / "contracts" / "order.py"
    path.write_text(path.read_text().replace("An order placed", "An order taken"))
    init = path.parent / "__init__.py"
    init.write_text(init.read_text() + "\n")
    checked = run(service, "check")
    assert checked.returncode == EXIT_VIOLATIONS
    summary = checked.stdout.splitlines()[-1]
    assert summary == "2 problems in 1 of 1 contract, and in __init__.py"


def test_written_files_are_readable_by_all_as_open_makes_them(service: Path) -> None:
    """The lock and the generated models, written through temporary files (0600)."""
    old = os.umask(0o022)
    try:
        assert run(service, "lock").returncode == EXIT_OK
        assert run(service, "codegen").returncode == EXIT_OK
    finally:
        os.umask(old)
    written = [
        service / "somacontracts.lock",
        *(service / "src" / "shop" / "contracts").glob("*.py"),
    ]
    assert {oct(path.stat().st_mode & 0o777) for path in written} == {"0o644"}


def test_commands_find_the_configuration_from_a_subfolder(service: Path) -> None:
    below = service / "src"
    below.mkdir()
    validated = run(below, "validate")
    assert validated.returncode == EXIT_OK, validated.stderr
    assert "1 contract, 1 version" in validated.stdout


@pytest.mark.parametrize("command", ["check", "codegen", "validate", "lock", "diff"])
def test_a_configuration_that_does_not_exist_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    missing = tmp_path / "nope.toml"
    args = [command, "--config", str(missing)] + (
        ["--against", "HEAD"] if command == "diff" else []
    )
    assert main(args) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == f"somacontracts {command}: error: {missing}: does not exist\n"


def test_codegen_never_writes_into_the_installed_packages(
    service: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(service)
    for folder in installed_packages():
        target = folder / "somacontracts" / "models"
        before = sorted(target.glob("*")) if target.exists() else None
        assert main(["codegen", "--out", str(target)]) == EXIT_USAGE
        err = capsys.readouterr().err
        assert "is inside the installed packages" in err
        assert (sorted(target.glob("*")) if target.exists() else None) == before


def test_codegen_without_an_output_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.somacontracts]\nschemas = "avro"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["codegen"]) == EXIT_USAGE
    assert "--out: is needed" in capsys.readouterr().err


def test_the_demo_is_self_contained_wherever_it_runs(service: Path) -> None:
    """In a service's folder it registers this package's contracts, reads neither the
    service's configuration nor the environment's servers, and leaves no file."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "SCHEMA_REGISTRY_URL": "http://127.0.0.1:1",
    }
    before = sorted(p.relative_to(service) for p in service.rglob("*"))
    demo = run(service, "demo", env=env)
    assert demo.returncode == EXIT_OK, demo.stdout + demo.stderr
    assert "5 of 5 contracts went through Kafka and back" in demo.stdout
    assert "orders-value" not in demo.stdout
    assert "somacontracts.lock" not in demo.stdout
    assert sorted(p.relative_to(service) for p in service.rglob("*")) == before
    helped = run(service, "demo", "--help").stdout
    assert "KAFKA_BOOTSTRAP_SERVERS is not read" in " ".join(helped.split())


def test_an_unreachable_broker_is_one_line_and_its_log_is_shown_with_verbose(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functools import partial

    from somacontracts.kafka import open_admin
    from somacontracts.tooling.cli import topics

    monkeypatch.setattr(topics, "open_admin", partial(open_admin, timeout=1.5))
    assert main(["topics", "apply", "--bootstrap", "127.0.0.1:1"]) == EXIT_USAGE
    out, err = capfd.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("somacontracts topics apply: error: Kafka at 127.0.0.1:1 is unavailable")
    code = (
        "import functools, sys\n"
        "from somacontracts.tooling.cli import main, topics\n"
        "from somacontracts.kafka import open_admin\n"
        "topics.open_admin = functools.partial(open_admin, timeout=1.5)\n"
        "sys.exit(main(['-v', 'topics', 'apply', '--bootstrap', '127.0.0.1:1']))\n"
    )
    verbose = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert verbose.returncode == EXIT_USAGE
    assert "somacontracts.kafka.client: " in verbose.stderr
    assert "127.0.0.1:1" in verbose.stderr


def test_version_and_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--version", "-V"):
        assert main([flag]) == EXIT_OK
        assert capsys.readouterr().out == f"somacontracts {__version__}\n"
    assert main(["validate", "--help"]) == EXIT_OK
    assert "``" not in capsys.readouterr().out


def test_a_removed_field_is_located_in_the_older_version(service: Path) -> None:
    v2 = json.loads(json.dumps(ORDER))
    del v2["fields"][2]
    (service / "avro" / "Order" / "v2.avsc").write_text(json.dumps(v2))
    diffed = run(service, "diff", "Order")
    line = next(x for x in diffed.stdout.splitlines() if "FIELD_REMOVED" in x)
    assert line.split()[:2] == ["FIELD_REMOVED", "v1:/fields/2"]
    as_json = json.loads(run(service, "diff", "Order", "--format", "json").stdout)
    (change,) = as_json[0]["changes"]
    assert (change["location"], change["version"]) == ("/fields/2", 1)


def test_the_pii_rule_s_severity_is_configured(service: Path) -> None:
    schema = json.loads((service / "avro" / "Order" / "v1.avsc").read_text())
    schema["fields"].append(
        {"name": "email", "type": ["null", "string"], "default": None, "doc": "d"}
    )
    (service / "avro" / "Order" / "v1.avsc").write_text(json.dumps(schema))
    assert run(service, "lock").returncode == EXIT_OK
    assert run(service, "codegen").returncode == EXIT_OK
    warned = run(service, "check")
    assert warned.returncode == EXIT_OK, warned.stdout
    assert "PII_UNTAGGED (warning)" in warned.stdout
    config = service / "pyproject.toml"
    config.write_text(
        config.read_text() + '\n[tool.somacontracts.lint]\nseverity = {PII_UNTAGGED = "error"}\n'
    )
    failed = run(service, "check", "--format", "github")
    assert failed.returncode == EXIT_VIOLATIONS
    assert failed.stdout.startswith("::error file=avro/Order/v1.avsc,line=1,col=")
    assert ",title=Order PII_UNTAGGED::" in failed.stdout
    config.write_text(config.read_text().replace('"error"}', '"fatal"}'))
    refused = run(service, "check")
    assert refused.returncode == EXIT_USAGE
    assert 'must be "error" or "warning"' in refused.stderr


def test_data_contract_parts_are_registered_and_compared(service: Path) -> None:
    """``vN.contract.json`` beside a schema: checked, locked, registered with it, and a
    registry holding other rules for the same schema drifts."""
    from somacontracts.tooling.registry import LocalRegistry
    from tests.server.conftest import raw

    rules = {
        "metadata": {"properties": {"owner": "shop"}},
        "ruleSet": {
            "domainRules": [
                {
                    "name": "hasLines",
                    "kind": "CONDITION",
                    "mode": "WRITE",
                    "type": "CEL",
                    "expr": "size(message.lines) > 0",
                    "onFailure": "ERROR",
                }
            ]
        },
    }
    (service / "avro" / "Order" / "v1.contract.json").write_text(json.dumps(rules))
    assert run(service, "lock").returncode == EXIT_OK
    assert run(service, "codegen").returncode == EXIT_OK
    assert run(service, "check").returncode == EXIT_OK
    with LocalRegistry() as registry:
        url = registry.url
        registered = run(service, "register", "--registry", url)
        assert registered.returncode == EXIT_OK, registered.stdout + registered.stderr
        body = raw(url, "GET", "/subjects/orders-value/versions/1")[1]
        assert body["ruleSet"]["domainRules"][0]["expr"] == "size(message.lines) > 0"
        assert body["metadata"]["properties"] == {"owner": "shop"}
        again = run(service, "register", "--registry", url)
        assert "nothing to register" in again.stdout
        assert run(service, "status", "--registry", url).returncode == EXIT_OK
        other = dict(rules, metadata={"properties": {"owner": "someone else"}})
        status, _ = raw(
            url, "POST", "/subjects/orders-value/versions", {"schema": body["schema"], **other}
        )
        assert status == 200
        drifted = run(service, "status", "--registry", url)
        assert drifted.returncode == EXIT_VIOLATIONS, drifted.stdout
        assert "version 2 (id 2)" in drifted.stdout  # the DRIFT column
