"""What ``dev up`` says it registered: the versions and the subjects that got them, the
levels it set, from the plans register_tree applied to a local registry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from somacontracts.serde.registry_client import connect
from somacontracts.tooling import sources
from somacontracts.tooling.cli.dev import registered_text
from somacontracts.tooling.configuration import read_config
from somacontracts.tooling.registration import register_tree
from somacontracts.tooling.registry import LocalRegistry

SERVICE = Path(__file__).parents[1] / "payments_service"


def test_only_the_subjects_that_changed_are_counted(tmp_path: Path) -> None:
    root = tmp_path / "payments"
    shutil.copytree(SERVICE, root)
    config = read_config(start=root)

    def registered() -> str:
        tree = sources.load_tree(root / "avro")
        plans = register_tree(client, tree, config.subjects_of, config.level_of)
        return registered_text(plans)

    with LocalRegistry() as registry, connect(url=registry.url) as client:
        assert registered() == (
            "registered 2 versions under 2 subjects; set the compatibility level of 2 subjects"
        )
        assert registered() == "registered 0 versions: 2 subjects up to date"
        v1 = json.loads((root / "avro" / "PaymentCaptured" / "v1.avsc").read_text())
        note = {"name": "note", "type": ["null", "string"], "default": None, "doc": "A note."}
        v2 = {**v1, "fields": [*v1["fields"], note]}
        (root / "avro" / "PaymentCaptured" / "v2.avsc").write_text(json.dumps(v2))
        assert registered() == "registered 1 version under 1 subject"
