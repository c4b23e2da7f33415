"""Data Contracts on a schema: its ``metadata`` and ``ruleSet``, checked as Confluent Schema
Registry checks them, for the registry and for the contracts of a schema tree alike.

A schema registers with optional ``metadata`` (``properties``: string to string, ``tags``:
a field path to tags, ``sensitive``: names of sensitive properties) and an optional
``ruleSet`` (``domainRules``, ``migrationRules``, ``encodingRules``: lists of rules, each
with ``name``, ``kind``, ``mode``, ``type``, ``tags``, ``params``, ``expr``,
``onSuccess``, ``onFailure``, ``disabled``, ``doc``). Both are part of the schema's
identity: the same text with another rule set is another schema. Pure: JSON in, checked
JSON out, or :class:`~somacontracts.errors.InvalidSchemaError` naming what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from somacontracts.errors import InvalidSchemaError
from somacontracts.schema.wildcards import wildcard_match

__all__ = [
    "COMPATIBILITY_GROUP",
    "RULE_KINDS",
    "RULE_MODES",
    "canonical",
    "contract_key",
    "contract_parts",
    "describe_dropped",
    "dropped_parts",
    "encrypt_rules_on_write",
    "encrypted_tags",
    "major_version",
    "merge_metadata",
    "merge_rule_sets",
    "migrates",
    "rule_meets",
]

COMPATIBILITY_GROUP = "application.major.version"
"""The metadata property that names a version's major version (Confluent's convention):
versions are checked for compatibility only against those of the same major version."""
RULE_KINDS = frozenset({"TRANSFORM", "CONDITION"})
RULE_MODES = frozenset({"UPGRADE", "DOWNGRADE", "UPDOWN", "WRITE", "READ", "WRITEREAD"})
_MIGRATION_MODES = frozenset({"UPGRADE", "DOWNGRADE", "UPDOWN"})
_RULE_LISTS = ("migrationRules", "domainRules", "encodingRules")
_RULE_KEYS = frozenset(
    {"name", "doc", "kind", "mode", "type", "tags", "params", "expr", "onSuccess", "onFailure"}
    | {"disabled"}
)


def contract_parts(request: Mapping[str, Any]) -> tuple[Any, Any]:
    """The checked ``metadata`` and ``ruleSet`` of a request (None where absent)."""
    metadata = request.get("metadata")
    rule_set = request.get("ruleSet")
    return (
        None if metadata is None else _metadata(metadata),
        None if rule_set is None else _rule_set(rule_set),
    )


def _fail(reason: str) -> InvalidSchemaError:
    return InvalidSchemaError(reason)


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _fail(f"{where} must be an array of strings")
    return list(value)


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _fail(f"{where} must be an object of strings")
    return dict(value)


def _metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail('"metadata" must be an object')
    unknown = sorted(set(value) - {"properties", "tags", "sensitive"})
    if unknown:
        raise _fail(f'"metadata" has an unknown key {unknown[0]!r}')
    out: dict[str, Any] = {}
    if value.get("tags") is not None:
        tags = value["tags"]
        if not isinstance(tags, dict):
            raise _fail('"metadata.tags" must be an object of arrays of strings')
        out["tags"] = {path: _strings(t, f'"metadata.tags.{path}"') for path, t in tags.items()}
    if value.get("properties") is not None:
        out["properties"] = _string_map(value["properties"], '"metadata.properties"')
    if value.get("sensitive") is not None:
        out["sensitive"] = _strings(value["sensitive"], '"metadata.sensitive"')
    return out


def _rule_set(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail('"ruleSet" must be an object')
    unknown = sorted(set(value) - {*_RULE_LISTS, "enableAt"})
    if unknown:
        raise _fail(f'"ruleSet" has an unknown key {unknown[0]!r}')
    out: dict[str, Any] = {}
    names: set[str] = set()
    for key in _RULE_LISTS:
        rules = value.get(key)
        if rules is None:
            continue
        if not isinstance(rules, list):
            raise _fail(f'"ruleSet.{key}" must be an array of rules')
        checked = [_rule(rule, f"ruleSet.{key}[{i}]") for i, rule in enumerate(rules)]
        for rule in checked:
            migration = rule["mode"] in _MIGRATION_MODES
            if migration != (key == "migrationRules"):
                kinds = (
                    "UPGRADE, DOWNGRADE or UPDOWN"
                    if key == "migrationRules"
                    else "WRITE, READ or WRITEREAD"
                )
                raise _fail(f'rule "{rule["name"]}" in {key} must have the mode {kinds}')
            if rule["name"] in names:
                raise _fail(f'the rule name "{rule["name"]}" is used twice')
            names.add(rule["name"])
        out[key] = checked
    if value.get("enableAt") is not None:
        if not isinstance(value["enableAt"], str):
            raise _fail('"ruleSet.enableAt" must be a string')
        out["enableAt"] = value["enableAt"]
    return out


def _rule(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"{where} must be an object")
    unknown = sorted(set(value) - _RULE_KEYS)
    if unknown:
        raise _fail(f"{where} has an unknown key {unknown[0]!r}")
    name, kind, mode, type_ = (value.get(k) for k in ("name", "kind", "mode", "type"))
    if not isinstance(name, str) or not name:
        raise _fail(f'{where} needs a "name"')
    if kind not in RULE_KINDS:
        raise _fail(f'rule "{name}": "kind" must be TRANSFORM or CONDITION')
    if mode not in RULE_MODES:
        raise _fail(f'rule "{name}": "mode" must be one of {", ".join(sorted(RULE_MODES))}')
    if not isinstance(type_, str) or not type_:
        raise _fail(f'rule "{name}" needs a "type" (such as ENCRYPT or CEL)')
    out: dict[str, Any] = {"name": name, "kind": kind, "mode": mode, "type": type_}
    for key in ("doc", "expr"):
        if value.get(key) is not None:
            if not isinstance(value[key], str):
                raise _fail(f'rule "{name}": "{key}" must be a string')
            out[key] = value[key]
    if value.get("tags") is not None:
        out["tags"] = _strings(value["tags"], f'rule "{name}": "tags"')
    if value.get("params") is not None:
        out["params"] = _string_map(value["params"], f'rule "{name}": "params"')
    for key in ("onSuccess", "onFailure"):
        action = value.get(key)
        if action is None:
            continue
        if not isinstance(action, str) or not all(part.strip() for part in action.split(",")):
            raise _fail(f'rule "{name}": "{key}" must be an action such as NONE, ERROR or DLQ')
        out[key] = action
    if value.get("disabled") is not None:
        if not isinstance(value["disabled"], bool):
            raise _fail(f'rule "{name}": "disabled" must be true or false')
        out["disabled"] = value["disabled"]
    return out


def field_tags(metadata: Any, record: str, field: str, inline: Any = None) -> frozenset[str]:
    """The tags of field ``field`` of record ``record`` (a full name): its own
    ``confluent:tags`` (``inline``), and those the metadata's ``tags`` give to paths it
    matches (``namespace.Record.field``, wildcards as Confluent's rules read them)."""
    tags = {str(tag) for tag in inline} if isinstance(inline, list) else set()
    full_name = f"{record}.{field}"
    for pattern, more in ((metadata or {}).get("tags") or {}).items():
        if wildcard_match(full_name, pattern):
            tags.update(map(str, more))
    return frozenset(tags)


def encrypt_rules_on_write(rule_set: Any) -> list[Mapping[str, Any]]:
    """The enabled ``ENCRYPT`` domain rules of ``rule_set`` that run on write (mode
    ``WRITE`` or ``WRITEREAD``), in order."""
    return [
        rule
        for rule in (rule_set or {}).get("domainRules", [])
        if rule.get("type") == "ENCRYPT"
        and not rule.get("disabled")
        and rule.get("mode") in ("WRITE", "WRITEREAD")
    ]


def rule_meets(rule: Mapping[str, Any], tags: frozenset[str]) -> bool:
    """Whether ``rule`` applies to a field tagged ``tags``, as Confluent's field rule
    executors judge it: a rule without tags applies to every field."""
    return not rule.get("tags") or not tags.isdisjoint(rule["tags"])


def encrypted_tags(rule_set: Any) -> frozenset[str]:
    """The tags whose fields an enabled ``ENCRYPT`` domain rule of ``rule_set`` encrypts on
    write and read."""
    found: set[str] = set()
    for rule in (rule_set or {}).get("domainRules", []):
        if rule["type"] == "ENCRYPT" and not rule.get("disabled") and rule["mode"] == "WRITEREAD":
            found.update(rule.get("tags", []))
    return frozenset(found)


def canonical(metadata: Any, rule_set: Any) -> tuple[Any, Any]:
    """Checked Data Contract parts in the form identity is judged on, as Confluent judges
    it: tags and sensitive names as sorted sets, ``disabled: false`` and empty lists, maps
    and parts dropped (clients write them out or leave them out alike); rules keep their
    order, property values their text."""
    meta: dict[str, Any] = {}
    if metadata is not None:
        if metadata.get("properties"):
            meta["properties"] = dict(sorted(metadata["properties"].items()))
        tags = {path: sorted(set(t)) for path, t in metadata.get("tags", {}).items() if t}
        if tags:
            meta["tags"] = dict(sorted(tags.items()))
        if metadata.get("sensitive"):
            meta["sensitive"] = sorted(set(metadata["sensitive"]))
    rules: dict[str, Any] = {}
    for key in _RULE_LISTS:
        listed = [_canonical_rule(rule) for rule in (rule_set or {}).get(key, [])]
        if listed:
            rules[key] = listed
    if rule_set is not None and rule_set.get("enableAt"):
        rules["enableAt"] = rule_set["enableAt"]
    return (meta or None, rules or None)


def _canonical_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in rule.items() if value not in (None, [], {}, False)}
    if "tags" in out:
        out["tags"] = sorted(set(out["tags"]))
    return out


def contract_key(metadata: Any, rule_set: Any) -> str | None:
    """The Data Contract parts as one comparable text (:func:`canonical`, keys sorted);
    None when there are none. Raise :class:`InvalidSchemaError` for parts not valid."""
    meta, rules = canonical(*contract_parts({"metadata": metadata, "ruleSet": rule_set}))
    present = {key: value for key, value in (("metadata", meta), ("ruleSet", rules)) if value}
    return json.dumps(present, sort_keys=True, separators=(",", ":")) if present else None


def dropped_parts(sent: tuple[Any, Any], stored: tuple[Any, Any]) -> list[str]:
    """What of the Data Contract parts ``sent`` (metadata, rule set) the ``stored`` ones
    lack or hold otherwise, as phrases naming each part: ``rule set``, ``rule
    "encryptPII"``, ``rule "encryptPII" (changed)``, ``metadata``, ``metadata property
    "owner"``, ``tags of "app.Event.content"``. Empty when every part sent is stored
    as it was; what a registry adds (a subject's default rules, properties of its own)
    is not a difference.

    ``sent`` must be valid; stored parts that are not valid differ in every part."""
    sent_meta, sent_rules = canonical(*contract_parts({"metadata": sent[0], "ruleSet": sent[1]}))
    try:
        stored_meta, stored_rules = canonical(
            *contract_parts({"metadata": stored[0], "ruleSet": stored[1]})
        )
    except InvalidSchemaError:
        stored_meta, stored_rules = None, None
    found: list[str] = []
    if sent_meta is not None:
        found += _dropped_metadata(sent_meta, stored_meta)
    if sent_rules is not None:
        found += _dropped_rules(sent_rules, stored_rules)
    return found


def describe_dropped(parts: list[str]) -> str:
    """:func:`dropped_parts` in words: ``without its rule set``, ``with its rule "encryptPII"
    changed``, ``without its metadata, with its rule "check" changed``."""
    changed = [p.removesuffix(" (changed)") for p in parts if p.endswith(" (changed)")]
    missing = [p for p in parts if not p.endswith(" (changed)")]
    said = [f"without its {', '.join(missing)}"] if missing else []
    said += [f"with its {', '.join(changed)} changed"] if changed else []
    return ", ".join(said)


def _dropped_metadata(sent: Mapping[str, Any], stored: Mapping[str, Any] | None) -> list[str]:
    if stored is None:
        return ["metadata"]
    found = [
        f'metadata property "{key}"'
        for key, value in sent.get("properties", {}).items()
        if stored.get("properties", {}).get(key) != value
    ]
    found += [
        f'tags of "{path}"'
        for path, tags in sent.get("tags", {}).items()
        if not set(tags) <= set(stored.get("tags", {}).get(path, ()))
    ]
    found += [
        f'sensitive property "{name}"'
        for name in sent.get("sensitive", ())
        if name not in stored.get("sensitive", ())
    ]
    return found


def _dropped_rules(sent: Mapping[str, Any], stored: Mapping[str, Any] | None) -> list[str]:
    if stored is None:
        return ["rule set"]
    found = []
    for key in _RULE_LISTS:
        held = {rule["name"]: rule for rule in stored.get(key, [])}
        for rule in sent.get(key, []):
            if rule["name"] not in held:
                found.append(f'rule "{rule["name"]}"')
            elif held[rule["name"]] != rule:
                found.append(f'rule "{rule["name"]}" (changed)')
    if sent.get("enableAt") != stored.get("enableAt"):
        found.append("rule set's enableAt")
    return found


def merge_metadata(*parts: Any) -> Any:
    """Checked metadata parts merged, each over those before it, as Confluent merges a
    subject's ``defaultMetadata``, a version's metadata and ``overrideMetadata``:
    properties and tags by key, sensitive names as a union. None when every part is."""
    present = [part for part in parts if part is not None]
    if not present:
        return None
    merged: dict[str, Any] = {}
    for part in present:
        for key in ("properties", "tags"):
            if part.get(key):
                merged[key] = {**merged.get(key, {}), **part[key]}
        if part.get("sensitive"):
            merged["sensitive"] = sorted({*merged.get("sensitive", []), *part["sensitive"]})
    return merged


def merge_rule_sets(*parts: Any) -> Any:
    """Checked rule sets merged, each over those before it, as Confluent merges a
    subject's ``defaultRuleSet``, a version's rule set and ``overrideRuleSet``: a rule
    replaces the earlier one of its name, and comes after the rules it did not replace.
    None when every part is."""
    present = [part for part in parts if part is not None]
    if not present:
        return None
    merged: dict[str, Any] = {}
    for part in present:
        for key in _RULE_LISTS:
            if part.get(key):
                names = {rule["name"] for rule in part[key]}
                kept = [rule for rule in merged.get(key, []) if rule["name"] not in names]
                merged[key] = kept + list(part[key])
    return merged


def major_version(metadata: Any) -> str | None:
    """A version's major version: its :data:`COMPATIBILITY_GROUP` property, if any."""
    properties = (metadata or {}).get("properties") or {}
    value = properties.get(COMPATIBILITY_GROUP)
    return value if isinstance(value, str) else None


def migrates(rule_set: Any, mode: str) -> bool:
    """Whether ``rule_set`` has an enabled migration rule for ``mode`` (``UPGRADE`` or
    ``DOWNGRADE``; ``UPDOWN`` rules do both)."""
    return any(
        rule.get("mode") in (mode, "UPDOWN") and not rule.get("disabled")
        for rule in (rule_set or {}).get("migrationRules", [])
    )
