"""Whether the Data Contract rules of a version can run, judged before any message meets them.

The registry takes any well-formed rule; the serdes find out at the first message that a
CEL expression does not parse or an ENCRYPT rule names an algorithm nobody has. This
module finds it in CI: each problem is (JSON pointer into ``vN.contract.json``, message).
Expressions are parsed with the libraries the serdes run them with (cel-python and
jsonata-python, the ``rules`` extra); without them, expressions are not parsed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from somacontracts.tooling.sources import SchemaVersion

__all__ = ["rule_problems"]

ACTIONS = frozenset({"ERROR", "NONE", "DLQ"})
"""The actions the serdes take on a rule's success or failure."""
_TYPES = frozenset({"ENCRYPT", "CEL", "CEL_FIELD", "JSONATA"})
_ALGORITHMS = frozenset({"AES128_GCM", "AES256_GCM", "AES256_SIV"})
_TWO_WAY = frozenset({"WRITEREAD", "UPDOWN"})


def rule_problems(version: SchemaVersion) -> Iterator[tuple[str, str]]:
    """Every rule of ``version`` that cannot run as written, with where and why."""
    rule_set = version.rule_set or {}
    properties = (version.metadata or {}).get("properties") or {}
    for kind in ("domainRules", "migrationRules", "encodingRules"):
        for index, rule in enumerate(rule_set.get(kind, [])):
            where = f"/ruleSet/{kind}/{index}"
            label = f'Rule "{rule.get("name")}" of v{version.version}.contract.json'
            for reason in _problems(rule, properties):
                yield where, f"{label} cannot run: {reason}."


def _problems(rule: Mapping[str, Any], properties: Mapping[str, str]) -> Iterator[str]:
    mode = str(rule.get("mode"))
    for key in ("onSuccess", "onFailure"):
        value = rule.get(key)
        if not value:
            continue
        parts = [part.strip() for part in str(value).split(",")]
        if len(parts) > 1 and (len(parts) != 2 or mode not in _TWO_WAY):
            yield f'{key} "{value}" names two actions, which only a WRITEREAD or UPDOWN rule has'
        for part in parts:
            if part not in ACTIONS:
                yield f'{key} names the action "{part}"; the serdes take ERROR, NONE or DLQ'
    rule_type = str(rule.get("type", "")).upper()
    if rule_type not in _TYPES:
        known = ", ".join(sorted(_TYPES))
        yield f'its type "{rule.get("type")}" is none the serdes run ({known})'
        return
    if rule_type == "ENCRYPT":
        yield from _encrypt_problems({**properties, **(rule.get("params") or {})})
        return
    expr = rule.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        yield "it has no expression"
        return
    if rule_type == "JSONATA":
        yield from _jsonata_problems(expr)
    else:
        yield from _cel_problems(expr)


def _encrypt_problems(params: Mapping[str, str]) -> Iterator[str]:
    if not params.get("encrypt.kek.name"):
        yield "it names no KEK (encrypt.kek.name, in its params or the metadata properties)"
    algorithm = params.get("encrypt.dek.algorithm")
    if algorithm is not None and algorithm not in _ALGORITHMS:
        yield f'encrypt.dek.algorithm "{algorithm}" is not AES128_GCM, AES256_GCM or AES256_SIV'
    days = params.get("encrypt.dek.expiry.days")
    if days is not None and not (days.isascii() and days.isdigit()):
        yield f'encrypt.dek.expiry.days "{days}" is not a whole number of days'


def _cel_problems(expr: str) -> Iterator[str]:
    try:
        import celpy
    except ImportError:  # the rules extra is not installed: expressions go unparsed
        return
    environment = celpy.Environment()
    # confluent-kafka's form "guard; expression": each part is an expression of its own
    for part in (p for p in expr.split(";") if p.strip()):
        try:
            environment.compile(part)
        except Exception as err:  # cel-python raises its parse error types
            yield f"its CEL expression does not parse: {' '.join(str(err).split())[:200]}"
            return


def _jsonata_problems(expr: str) -> Iterator[str]:
    try:
        import jsonata
    except ImportError:  # the rules extra is not installed: expressions go unparsed
        return
    try:
        jsonata.Jsonata(expr)
    except Exception as err:  # jsonata-python raises its JException
        yield f"its JSONata expression does not parse: {' '.join(str(err).split())[:200]}"
