"""``somacontracts diff``: what changed between versions of a contract, and how to roll it out.

``diff CONTRACT`` compares the latest version with the one before; ``diff CONTRACT vA vB``
compares two given versions; ``diff --against REF`` reports every version that is new
since the git revision REF, each against its predecessor, for a pull-request review.
Each change has a kind (``FIELD_ADDED``, ``ENUM_SYMBOL_ADDED``, ``TYPE_PROMOTED``, ...),
the JSON pointer in the newer file and a sentence; the report ends with which way data
can flow and which side, producers or consumers, must deploy first.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from somacontracts.compat.changes import diff_versions
from somacontracts.compat.report import ChangeReport
from somacontracts.errors import ConfigurationError
from somacontracts.tooling import sources
from somacontracts.tooling.check.vcs import versions_at
from somacontracts.tooling.cli.common import add_config, add_schemas, command_parser, project_files

__all__ = ["register", "run"]

_VERSION = re.compile(r"v?([1-9][0-9]*)\Z")


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "diff", __doc__)
    parser.add_argument("contract", nargs="?", help="contract name (all contracts with --against)")
    parser.add_argument("versions", nargs="*", metavar="VERSION", help="two versions, e.g. v1 v3")
    parser.add_argument(
        "--against", metavar="REF", help="report versions new since this git revision"
    )
    parser.add_argument(
        "--format", choices=("text", "json", "markdown"), default="text", help="output format"
    )
    add_schemas(parser)
    add_config(parser)
    parser.set_defaults(run=run)


def _number(text: str, contract: sources.ContractSchemas) -> int:
    match = _VERSION.match(text)
    if not match:
        raise ConfigurationError("VERSION", f"{text!r} is not a version such as v2")
    number = int(match.group(1))
    contract.version(number)
    return number


def _pairs(
    args: argparse.Namespace, tree: dict[str, sources.ContractSchemas]
) -> list[tuple[str, int, int]]:
    if args.against:
        if args.versions:
            raise ConfigurationError("--against", "takes no versions")
        released = versions_at(args.against, args.root)
        names = [args.contract] if args.contract else list(tree)
        pairs = []
        for name in names:
            contract = sources.lookup(tree, name)
            pairs += [
                (name, v.version - 1, v.version)
                for v in contract.versions[1:]
                if v.version not in released.get(name, {})
            ]
        return pairs
    if not args.contract:
        raise ConfigurationError("CONTRACT", "name a contract, or use --against REF")
    contract = sources.lookup(tree, args.contract)
    if len(args.versions) == 2:
        return [
            (
                contract.name,
                _number(args.versions[0], contract),
                _number(args.versions[1], contract),
            )
        ]
    if args.versions:
        raise ConfigurationError("VERSION", "give two versions (for example v1 v3) or none")
    if len(contract.versions) < 2:
        return []
    return [(contract.name, contract.latest.version - 1, contract.latest.version)]


def run(args: argparse.Namespace) -> int:
    """Print the change report of each selected pair of versions."""
    config, root, _ = project_files(args)
    args.root = root
    tree = sources.load_tree(root)
    reports = []
    for name, old, new in _pairs(args, tree):
        before, after = tree[name].version(old), tree[name].version(new)
        reports.append(
            (
                name,
                diff_versions(
                    before.parsed,
                    after.parsed,
                    old_version=old,
                    new_version=new,
                    level=config.level_of(name),
                    old_contract=(before.metadata, before.rule_set),
                    new_contract=(after.metadata, after.rule_set),
                ),
            )
        )
    print(_RENDER[args.format](reports), end="")
    return 0


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _text(reports: list[tuple[str, ChangeReport]]) -> str:
    if not reports:
        return "no new versions to compare\n"
    lines = []
    for name, r in reports:
        verdict = "allowed" if r.allowed else "NOT allowed"
        lines.append(f"{name} v{r.old_version} -> v{r.new_version} ({r.level.value}: {verdict})")
        for change in r.changes:
            where = change.where(r.old_version, r.new_version)
            lines.append(f"  {change.kind.value}  {where}  {change.message}")
        if not r.changes:
            lines.append("  no changes to the schema")
        backward, forward = _yes(r.backward), _yes(r.forward)
        lines.append(
            f"  backward (v{r.new_version} reads v{r.old_version} data): {backward}; "
            f"forward (v{r.old_version} reads v{r.new_version} data): {forward}"
        )
        lines.append(f"  rollout: {r.rollout}")
    return "\n".join(lines) + "\n"


def _markdown(reports: list[tuple[str, ChangeReport]]) -> str:
    if not reports:
        return "No new contract versions.\n"
    parts = []
    for name, r in reports:
        verdict = "allowed" if r.allowed else "**not allowed**"
        parts.append(
            f"### {name} v{r.old_version} → v{r.new_version} ({r.level.value}: {verdict})\n"
        )
        parts.append("| change | where | what |\n| --- | --- | --- |")
        parts += [
            f"| `{c.kind.value}` | `{c.where(r.old_version, r.new_version)}` | {c.message} |"
            for c in r.changes
        ]
        parts.append(
            f"\nBackward: {_yes(r.backward)} · Forward: {_yes(r.forward)}\n\n"
            f"**Rollout:** {r.rollout}\n"
        )
    return "\n".join(parts)


def _json(reports: list[tuple[str, ChangeReport]]) -> str:
    return (
        json.dumps(
            [
                {
                    "contract": name,
                    "old_version": r.old_version,
                    "new_version": r.new_version,
                    "level": r.level.value,
                    "allowed": r.allowed,
                    "backward": r.backward,
                    "forward": r.forward,
                    "rollout": r.rollout,
                    "changes": [
                        {
                            "kind": c.kind.value,
                            "location": c.location,
                            "version": r.old_version if c.in_old else r.new_version,
                            "message": c.message,
                        }
                        for c in r.changes
                    ],
                }
                for name, r in reports
            ],
            indent=2,
        )
        + "\n"
    )


_RENDER = {"text": _text, "json": _json, "markdown": _markdown}
