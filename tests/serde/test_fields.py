"""Which fields a rule's tags select, walked over the one schema model's graph."""

from __future__ import annotations

from typing import Any

from somacontracts.schema import parse
from somacontracts.serde.fields import Leaf, inline_tags, tagged_walk


def _box(namespace: str, tags: list[str]) -> dict[str, Any]:
    secret = {"name": "secret", "type": "string", **({"confluent:tags": tags} if tags else {})}
    return {"type": "record", "name": "Box", "namespace": namespace, "fields": [secret]}


SCHEMA = {
    "type": "record",
    "name": "Parcel",
    "namespace": "shop",
    "fields": [
        {"name": "box", "type": ["null", _box("a", []), _box("b", ["PII"])]},
        {"name": "boxes", "type": {"type": "array", "items": "b.Box"}},
        {"name": "by_name", "type": {"type": "map", "values": ["null", "b.Box"]}},
    ],
}


def _upper(leaf: Leaf, value: Any) -> Any:
    assert (leaf.full_name, leaf.type) == ("b.Box.secret", "string")
    return value.upper()


def test_union_branches_are_told_apart_by_full_name() -> None:
    """``a.Box`` and ``b.Box`` share their short name; only ``b.Box.secret`` is tagged."""
    root = parse(SCHEMA).root
    tags = inline_tags(root)
    assert tags == {"b.Box.secret": frozenset({"PII"})}
    walk = tagged_walk(root, lambda name: tags.get(name, frozenset()), ["PII"])
    assert walk is not None
    datum = {
        "box": ("a.Box", {"secret": "keep"}),
        "boxes": [{"secret": "x"}],
        "by_name": {"k": ("b.Box", {"secret": "y"}), "n": None},
    }
    assert walk(datum, _upper) == {
        "box": ("a.Box", {"secret": "keep"}),
        "boxes": [{"secret": "X"}],
        "by_name": {"k": ("b.Box", {"secret": "Y"}), "n": None},
    }
    assert walk({"box": ("b.Box", {"secret": "z"}), "boxes": [], "by_name": {}}, _upper)["box"] == (
        "b.Box",
        {"secret": "Z"},
    )
    # A short name is no branch's name: left as it is, never matched to the first "Box".
    short = {"box": ("Box", {"secret": "keep"}), "boxes": [], "by_name": {}}
    assert walk(short, _upper)["box"] == ("Box", {"secret": "keep"})


def test_no_walk_when_no_field_carries_the_rule_s_tags() -> None:
    root = parse(SCHEMA).root
    assert tagged_walk(root, lambda name: frozenset(), ["PII"]) is None
