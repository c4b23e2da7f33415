"""The Data Contract parts of a version travel with its generated model (``DATA_CONTRACT``)."""

from __future__ import annotations

import dataclasses
import json
import sys
import types
from typing import Any

from somacontracts.models import ConversationEventV1, ConversationEventV2
from somacontracts.tooling import sources
from somacontracts.tooling.codegen import render_contract

CONVERSATIONS = sources.bundled()["ConversationEvent"]


def _namespace(source: str) -> dict[str, Any]:
    """The names the generated ``source`` defines, run as a module (dataclasses reads the
    annotations' ``typing.ClassVar`` in the module it finds in ``sys.modules``)."""
    module = types.ModuleType("generated_conversation_event")
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, "<generated>", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


def test_a_version_with_rules_carries_them_and_one_without_carries_nothing() -> None:
    v2 = CONVERSATIONS.version(2)
    assert {"ruleSet": v2.rule_set} == ConversationEventV2.DATA_CONTRACT
    assert not hasattr(ConversationEventV1, "DATA_CONTRACT")
    assert "DATA_CONTRACT" not in {f.name for f in dataclasses.fields(ConversationEventV2)}


def test_metadata_and_rules_are_rendered_as_the_files_give_them() -> None:
    metadata = {"properties": {"owner": "conversations"}, "tags": {"**.content": ["PII"]}}
    v2 = dataclasses.replace(CONVERSATIONS.version(2), metadata=metadata)
    module = _namespace(render_contract([CONVERSATIONS.version(1), v2]))
    assert {
        "metadata": metadata,
        "ruleSet": v2.rule_set,
    } == module["ConversationEventV2"].DATA_CONTRACT


def test_a_field_named_like_the_constant_does_not_replace_it() -> None:
    v2 = CONVERSATIONS.version(2)
    schema = {**v2.schema, "fields": [*v2.schema["fields"], _field("DATA_CONTRACT")]}
    changed = sources.parse_version(
        json.dumps(schema), path=v2.path, contract=v2.contract, version=v2.version
    )
    changed = dataclasses.replace(changed, rule_set=v2.rule_set)
    model = _namespace(render_contract([changed]))["ConversationEventV2"]
    assert {"ruleSet": v2.rule_set} == model.DATA_CONTRACT
    assert "DATA_CONTRACT_" in {f.name for f in dataclasses.fields(model)}


def _field(name: str) -> dict[str, Any]:
    return {"name": name, "type": "string", "default": "", "doc": "A field named like a constant."}
