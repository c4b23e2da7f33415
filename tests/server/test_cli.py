"""``somacontracts registry serve`` in a child process: serves, stops cleanly on SIGTERM."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from somacontracts.errors import ConfigurationError
from somacontracts.tooling.cli import registry as cli
from tests.server.conftest import A_GUID, raw

_SERVE = (
    "import sys; from somacontracts.tooling.cli import registry as cli; import argparse; "
    "p = argparse.ArgumentParser(); s = p.add_subparsers(dest='command'); cli.register(s); "
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.run(a))"
)


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_options_and_defaults() -> None:
    args = _parse("registry", "serve")
    assert (args.host, args.port, args.db) == ("127.0.0.1", 8081, None)
    assert (args.allowed_host, args.allowed_origin) == ([], [])
    args = _parse("registry", "serve", "--port", "0", "--db", "x.db")
    assert (args.port, args.db) == (0, Path("x.db"))
    args = _parse(
        "registry", "serve", "--allowed-host", "a.test", "--allowed-host", "b.test",
        "--allowed-origin", "http://localhost:3000",
    )  # fmt: skip
    assert (args.allowed_host, args.allowed_origin) == (
        ["a.test", "b.test"],
        ["http://localhost:3000"],
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--allowed-host", "http://a.test"),
        ("--allowed-host", "a.test:80"),
        ("--allowed-origin", "a.test"),
    ],
)
def test_a_bad_name_is_a_configuration_error_naming_its_option(option: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^{option}: '{value}' is not"):
        cli.run(_parse("registry", "serve", "--port", "0", option, value))


def test_bad_port_and_credentials_are_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="--port"):
        cli.run(_parse("registry", "serve", "--port", "70000"))
    monkeypatch.setenv("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "no-colon")
    with pytest.raises(ConfigurationError, match="user:password"):
        cli.run(_parse("registry", "serve", "--port", "0"))


def test_serve_until_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    command = [sys.executable, "-c", _SERVE, "registry", "serve", "--port", "0", "--db", str(db)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split(" listening on ")[1].split()[0]
        assert raw(url, "POST", "/subjects/x/versions", {"schema": '"int"'}) == (
            200,
            {"id": 1, "guid": A_GUID},
        )
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "stopped" in err
    assert db.exists()


def test_serve_answers_the_names_and_origins_it_is_given() -> None:
    origin = "http://localhost:3000"
    command = [sys.executable, "-c", _SERVE, "registry", "serve", "--port", "0"]
    command += ["--allowed-host", "registry.test", "--allowed-origin", origin]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        url = process.stdout.readline().split(" listening on ")[1].split()[0]
        try:
            named = {"Host": "registry.test:8081"}
            assert (
                raw(url, "POST", "/subjects/x/versions", {"schema": '"int"'}, headers=named)[0]
                == 200
            )
            assert raw(url, "GET", "/subjects", headers={"Origin": origin}) == (200, ["x"])
            assert raw(url, "GET", "/subjects", headers={"Host": "other.test"})[0] == 403
            assert (
                raw(url, "GET", "/subjects", headers={"Origin": "http://localhost:3001"})[0] == 403
            )
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=10)
    assert process.returncode == 0
