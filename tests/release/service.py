"""A second service that packages its contracts, in a git repository of its own: its
pyproject (hatchling, a static version, the catalog), an ``Order`` contract, its lock, its
generated models and a changelog; helpers to change it and commit."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.scratch import run

__all__ = ["ORDER_V1", "Service"]

PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "shop-contracts"
version = "1.0.0"
description = "The shop's data contracts."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["somacontracts"]

[tool.hatch.build.targets.wheel]
packages = ["src/shop_contracts"]

[tool.hatch.build.targets.wheel.force-include]
"avro" = "shop_contracts/avro"
"somacontracts.lock" = "shop_contracts/somacontracts.lock"

[tool.somacontracts]
schemas = "avro"
models = "src/shop_contracts/models"
default-level = "BACKWARD"

[tool.somacontracts.topics."shop.orders"]
contract = "Order"
key = "order_id"
consumers = ["billing", "mailer"]
"""

ORDER_V1: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "shop.contracts",
    "doc": "An order placed in the shop.",
    "fields": [
        {"name": "order_id", "type": "string", "doc": "Unique id of the order."},
        {"name": "amount", "type": "long", "default": 0, "doc": "Amount in cents."},
        {
            "name": "status",
            "doc": "Where the order is.",
            "type": {
                "type": "enum",
                "name": "OrderStatus",
                "doc": "States of an order.",
                "symbols": ["OPEN", "PAID", "UNKNOWN"],
                "default": "UNKNOWN",
            },
            "default": "OPEN",
        },
    ],
}


class Service:
    """The service's repository at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "avro" / "Order").mkdir(parents=True)
        package = root / "src" / "shop_contracts"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text('"""The shop\'s contracts."""\n')
        (package / "py.typed").write_text("")
        (root / "pyproject.toml").write_text(PYPROJECT)
        (root / "README.md").write_text("# shop-contracts\n\nThe shop's contracts.\n")
        (root / ".gitignore").write_text("dist/\n__pycache__/\n")
        (root / "CHANGELOG.md").write_text(
            "# Changelog\n\n## [Unreleased]\n\n### Added\n- The Order contract.\n"
        )
        self.write("Order", 1, ORDER_V1)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Shop Maintainers")
        self.git("config", "user.email", "shop@example.invalid")
        self.regenerate()
        self.commit("The Order contract")
        self.git("tag", "-a", "v1.0.0", "-m", "Release 1.0.0")

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, check=True
        )
        return done.stdout

    def write(self, contract: str, version: int, schema: dict[str, Any], parts: Any = None) -> None:
        folder = self.root / "avro" / contract
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"v{version}.avsc").write_text(json.dumps(schema, indent=2) + "\n")
        if parts is not None:
            (folder / f"v{version}.contract.json").write_text(json.dumps(parts) + "\n")

    def evolve(self, change: Callable[[dict[str, Any]], object], parts: Any = None) -> None:
        """Order's next version: its latest schema after ``change``, locked and generated."""
        folder = self.root / "avro" / "Order"
        latest = max(int(p.stem[1:]) for p in folder.glob("v*.avsc"))
        schema = copy.deepcopy(json.loads((folder / f"v{latest}.avsc").read_text()))
        change(schema)
        self.write("Order", latest + 1, schema, parts)
        self.regenerate()

    def regenerate(self) -> None:
        for command in ("lock", "codegen"):
            done = run(self.root, command)
            assert done.returncode == 0, done.stderr

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def release(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run(self.root, "release", *args)
