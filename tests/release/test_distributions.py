"""The distributions a release builds: this repository's wheel holds what a service needs;
a service's release builds, checks, installs and tags; two releases go through a local
package index (pypiserver, uploads with twine) and a second service upgrades from the
first to the second and reads a message written with it."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from somacontracts.errors import ReleaseError
from somacontracts.tooling import sources
from somacontracts.tooling.release import distributions
from tests.release.conftest import ROOT
from tests.release.service import Service


def this_repository() -> distributions.Expected:
    contracts = list(sources.load_tree(ROOT / "avro"))
    return distributions.Expected.of(
        ROOT,
        ROOT / "avro",
        ROOT / "somacontracts" / "models",
        ROOT / "somacontracts.lock",
        contracts,
    )


def test_the_wheel_holds_what_services_need(
    somacontracts_dists: distributions.Distributions,
) -> None:
    expected = this_repository()
    distributions.check(somacontracts_dists, expected)
    names = set(zipfile.ZipFile(somacontracts_dists.wheel).namelist())
    schemas = {
        f"somacontracts/avro/{p.relative_to(ROOT / 'avro')}" for p in (ROOT / "avro").rglob("v*.*")
    }
    assert len(schemas) == 7
    assert schemas <= names
    models = {
        f"somacontracts/models/{p.name}" for p in (ROOT / "somacontracts/models").glob("*.py")
    }
    assert len(models) == 6
    assert models <= names
    assert {"somacontracts/somacontracts.lock", "somacontracts/py.typed"} <= names
    (points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(somacontracts_dists.wheel).read(points).decode()
    assert "somacontracts = somacontracts.tooling.cli:main_exit" in text
    assert "somacontracts = somacontracts.tooling.testing.pytest_plugin" in text
    assert expected.entry_points == (
        ("console_scripts", "somacontracts"),
        ("pytest11", "somacontracts"),
    )


def test_a_wheel_without_the_lock_is_refused(
    somacontracts_dists: distributions.Distributions, tmp_path: Path
) -> None:
    damaged = tmp_path / somacontracts_dists.wheel.name
    with zipfile.ZipFile(somacontracts_dists.wheel) as source, zipfile.ZipFile(damaged, "w") as out:
        for item in source.infolist():
            if not item.filename.endswith(("somacontracts.lock", "py.typed")):
                out.writestr(item, source.read(item))
    with pytest.raises(ReleaseError) as caught:
        distributions.check(
            distributions.Distributions(somacontracts_dists.sdist, damaged), this_repository()
        )
    assert str(caught.value) == f"{damaged.name}: lacks somacontracts.lock, py.typed"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def index(tmp_path: Path) -> Iterator[str]:
    """A pypiserver on loopback taking uploads without authentication; its URL."""
    packages = tmp_path / "index"
    packages.mkdir()
    port = free_port()
    log = (tmp_path / "pypiserver.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pypiserver",
            "run",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-a",
            ".",
            "-P",
            ".",
            "--disable-fallback",
            str(packages),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/simple/", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "pypiserver.log").read_text()
                assert time.monotonic() < deadline, "pypiserver did not answer within 30 s"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def upload(url: str, *files: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--repository-url",
            f"{url}/",
            "-u",
            "shop",
            "-p",
            "unused",
            *map(str, files),
        ],
        check=True,
        capture_output=True,
    )


PROBE = """
import importlib.metadata, json, sys
from somacontracts.runtime import Reader
from shop_contracts.models import Order
report = {"version": importlib.metadata.version("shop-contracts"),
          "schema_version": Order.SCHEMA_VERSION}
if len(sys.argv) > 1:
    order = Order.read_avro(Reader(open(sys.argv[1], "rb").read()))
    report["order"] = [order.order_id, order.total_cents, str(order.status)]
print(json.dumps(report))
"""

WRITE = """
import sys
from shop_contracts.models import Order, OrderStatus
out = bytearray()
Order(order_id="o-7", total_cents=1250, status=OrderStatus.PAID).write_avro(out)
open(sys.argv[1], "wb").write(bytes(out))
"""


def rename_with_alias(schema: dict[str, Any]) -> None:
    schema["fields"][1].update(name="total_cents", aliases=["amount"])


@pytest.mark.slow
def test_two_releases_through_an_index(
    tmp_path: Path, wheelhouse: Path, somacontracts_dists: distributions.Distributions, index: str
) -> None:
    service = Service(tmp_path / "shop")
    first = distributions.build(service.root, tmp_path / "first", isolation=False)

    service.evolve(rename_with_alias)
    service.commit("Order v2: amount is total_cents")
    done = service.release("--no-build-isolation", "--no-index", f"--find-links={wheelhouse}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "1.1.0 (minor since v1.0.0)",
        "  Order v2 is a new version",
        "built dist/shop_contracts-1.1.0.tar.gz, dist/shop_contracts-1.1.0-py3-none-any.whl; "
        "twine check passed",
        "installed in a new environment: somacontracts 0.1.0; check: 1 contract checked: no "
        "problems found",
        "imported 2 model modules from the environment",
        "tagged v1.1.0",
    ]
    assert service.git("tag", "--list") == "v1.0.0\nv1.1.0\n"
    assert service.git("status", "--porcelain") == ""
    assert 'version = "1.1.0"' in (service.root / "pyproject.toml").read_text()
    changelog = (service.root / "CHANGELOG.md").read_text()
    section = changelog.split("## [1.1.0] - ", 1)[1]
    assert changelog.index("## [Unreleased]") < changelog.index("## [1.1.0]")
    assert "A minor release since v1.0.0: Order v2 is a new version." in section
    assert "- **Order** (changed)\n  - v1 → v2:\n    - `FIELD_RENAMED` " in section
    assert "    - Deploy: Deploy in any order" in section
    assert "  - Readers affected: billing, mailer." in section
    assert section.endswith("### Added\n- The Order contract.\n")  # Unreleased's entries

    upload(index, somacontracts_dists.wheel, first.sdist, first.wheel)
    upload(index, *sorted((service.root / "dist").iterdir()))

    consumer = tmp_path / "billing"
    venv.EnvBuilder(with_pip=True).create(consumer / "venv")
    python = consumer / "venv" / "bin" / "python"

    def pin(version: str) -> None:
        (consumer / "requirements.txt").write_text(f"shop-contracts=={version}\n")
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--index-url",
                f"{index}/simple/",
                "--find-links",
                str(wheelhouse),
                "-r",
                str(consumer / "requirements.txt"),
            ],
            check=True,
            capture_output=True,
        )

    def probe(*args: str) -> Any:
        done = subprocess.run(
            [str(python), "-c", PROBE, *args],
            cwd=consumer,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)

    pin("1.0.0")
    assert probe() == {"version": "1.0.0", "schema_version": 1}
    message = tmp_path / "order.avro"
    subprocess.run(
        [sys.executable, "-c", WRITE, str(message)], cwd=service.root / "src", check=True
    )
    pin("1.1.0")
    assert probe(str(message)) == {
        "version": "1.1.0",
        "schema_version": 2,
        "order": ["o-7", 1250, "PAID"],
    }
    shutil.rmtree(consumer / "venv")
