"""``somacontracts diff``: what changed between versions of a contract, and how to roll it out.

``diff CONTRACT`` compares the latest version with the one before; ``diff CONTRACT vA vB``
compares two given versions; ``diff --against REF`` reports every version that is new
since the git revision REF, each against its predecessor, for a pull-request review.
Each change has a kind (``FIELD_ADDED``, ``ENUM_SYMBOL_ADDED``, ``TYPE_PROMOTED``, ...),
the JSON pointer in the newer file and a sentence; the report ends with which way data
can flow and which side, producers or consumers, must deploy first. With ``--against``,
a version that breaks the generated classes' Python API (an attribute gone or retyped, a
new required argument, a class or enum member gone; a renamed field with its old name as
an alias keeps it) carries ``PYTHON_API_BROKEN``, at ``python:Class.attribute``.

A version the lock file records as allowed by readers (``register --by-readers``) says
so, with the level it breaks and the readers that read it. With ``--registry URL``,
each version lists the consumer groups registered as readers of the contract's subjects
(every catalog topic it is on): whether each can read the new version (by the engine of
the levels), the field and problem where it cannot, and, when a cluster is given
(``--bootstrap`` or KAFKA_BOOTSTRAP_SERVERS) and answers, whether the group is live.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from somacontracts.compat.changes import diff_versions
from somacontracts.compat.report import ChangeReport
from somacontracts.errors import ConfigurationError
from somacontracts.tooling import sources
from somacontracts.tooling.check.lock import read_lock
from somacontracts.tooling.check.readers import decision_text, decisions, writer_location
from somacontracts.tooling.check.vcs import versions_at
from somacontracts.tooling.cli.common import (
    add_bootstrap,
    add_config,
    add_registry,
    add_schemas,
    command_parser,
    project_files,
    registered_readers,
)
from somacontracts.tooling.codegen.surface import version_breaks
from somacontracts.tooling.configuration import ProjectConfig

if TYPE_CHECKING:
    from somacontracts.kafka.liveness import Liveness
    from somacontracts.kafka.readers import Reader

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
    add_registry(
        parser, help_url="registry URL whose readers of each contract are listed (default: none)"
    )
    add_bootstrap(parser, config=False)
    parser.set_defaults(run=run)


@dataclass(frozen=True, slots=True)
class ReaderVerdict:
    """Whether a registered reader can read a new version."""

    reader: Reader
    live: bool | None
    """Whether its group is live; None when unknown."""
    problem: str | None
    """Why it cannot read the version; None when it can."""
    location: str = ""
    """Where in the new version's file it trips."""


@dataclass(frozen=True, slots=True)
class Reviewed:
    """One pair of versions of a contract, with what the lock and the registry say of it."""

    contract: str
    report: ChangeReport
    decision: str | None = None
    """The ``--by-readers`` decision the lock records for the new version, in words."""
    decided: Mapping[str, Any] | None = None
    """That decision as the lock records it."""
    readers: tuple[ReaderVerdict, ...] | None = None
    """The readers of its subjects; None without ``--registry``."""


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
    config, root, lock = project_files(args)
    args.root = root
    tree = sources.load_tree(root)
    pairs = _pairs(args, tree)
    breaks = _api_breaks(args, tree, pairs) if args.against else {}
    allowed = decisions(read_lock(lock))
    reviewed = []
    for name, old, new in pairs:
        before, after = tree[name].version(old), tree[name].version(new)
        report = diff_versions(
            before.parsed,
            after.parsed,
            old_version=old,
            new_version=new,
            level=config.level_of(name),
            old_contract=(before.metadata, before.rule_set),
            new_contract=(after.metadata, after.rule_set),
        )
        extra = tuple(breaks.get((name, new), ()))
        decision = allowed.get(name, {}).get(new)
        reviewed.append(
            Reviewed(
                name,
                dataclasses.replace(report, changes=report.changes + extra) if extra else report,
                f"{decision_text(decision)} (recorded in {lock})" if decision else None,
                decision,
            )
        )
    unknown = None
    if args.registry is not None:
        reviewed, unknown = _with_readers(args, config, tree, reviewed)
    print(_RENDER[args.format](reviewed, unknown), end="")
    return 0


def _api_breaks(
    args: argparse.Namespace,
    tree: Mapping[str, sources.ContractSchemas],
    pairs: list[tuple[str, int, int]],
) -> dict[tuple[str, int], list[Any]]:
    """(contract, version) -> the PYTHON_API_BROKEN changes the version brings to the
    generated classes of the tree at ``--against``: every new version of the whole tree
    is weighed, whichever contracts are shown, as a contract's classes may take the types
    of another."""
    from somacontracts.tooling.release.git import export_folder

    if not pairs:
        return {}
    with tempfile.TemporaryDirectory() as scratch:
        then = export_folder(args.root, args.against, Path(scratch))
        released = sources.load_tree(then) if then.is_dir() else {}
    return version_breaks(tree, released)


def _with_readers(
    args: argparse.Namespace,
    config: ProjectConfig,
    tree: Mapping[str, sources.ContractSchemas],
    reviewed: list[Reviewed],
) -> tuple[list[Reviewed], str | None]:
    """``reviewed`` with the readers of each contract's subjects, and why their liveness
    is unknown, when it is."""
    from somacontracts.kafka.writer_check import unreadable_by
    from somacontracts.serde.registry_client import connect

    subjects = {r.contract: _subjects(config, r.contract) for r in reviewed}
    with connect(url=args.registry, ca_file=args.registry_ca) as client:
        found, unknown = registered_readers(
            args, client, sorted({s for names in subjects.values() for s in names}), "diff"
        )
    out = []
    for item in reviewed:
        mine: list[tuple[Reader, Liveness | None]] = [
            (reader, state) for reader, state in found if reader.subject in subjects[item.contract]
        ]
        after = tree[item.contract].version(item.report.new_version)
        broken = {
            reader.registry_subject: result
            for reader, result in unreadable_by(after.parsed, [r for r, _ in mine])
        }
        verdicts = []
        for reader, state in mine:
            result = broken.get(reader.registry_subject)
            problem = None if result is None else result.problems[0]
            verdicts.append(
                ReaderVerdict(
                    reader,
                    None if state is None else state.live,
                    None if problem is None else problem.message,
                    ""
                    if problem is None
                    else writer_location(reader.schema, after.schema, problem.location),
                )
            )
        out.append(dataclasses.replace(item, readers=tuple(verdicts)))
    return out, unknown


def _subjects(config: ProjectConfig, contract: str) -> tuple[str, ...]:
    """The subjects of ``contract``; none for a contract on no topic."""
    try:
        return config.subjects_of(contract)
    except ConfigurationError:
        return ()


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _version_of(reader: Reader) -> str:
    return f"v{reader.version}" if reader.version is not None else "version unknown"


def _live(verdict: ReaderVerdict) -> str:
    return {None: "liveness unknown", True: "live", False: "not live"}[verdict.live]


def _reads(verdict: ReaderVerdict, new: int) -> str:
    if verdict.problem is None:
        return f"reads v{new}"
    problem = (verdict.problem or "").rstrip(".")
    return f"cannot read v{new}: {problem} (at v{new}:{verdict.location or '/'})"


def _verdict(item: Reviewed, allowed: str, refused: str) -> str:
    r = item.report
    if r.allowed:
        return allowed
    return refused + ("; allowed by readers" if item.decision else "")


def _text(reviewed: list[Reviewed], unknown: str | None) -> str:
    if not reviewed:
        return "no new versions to compare\n"
    lines = []
    for item in reviewed:
        name, r = item.contract, item.report
        verdict = _verdict(item, "allowed", "NOT allowed")
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
        if item.decision:
            lines.append(f"  {item.decision}")
        if item.readers is not None:
            note = f" (liveness unknown: {unknown})" if unknown else ""
            lines.append(f"  readers{note}:" if item.readers else "  readers: none registered")
            lines += [
                f"    {v.reader.group} ({v.reader.service}, {_version_of(v.reader)}) on "
                f"{v.reader.topic}: {_reads(v, r.new_version)}; {_live(v)}"
                for v in item.readers
            ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """``text`` as one cell of a Markdown table."""
    return " ".join(text.split()).replace("|", "\\|")


def _markdown(reviewed: list[Reviewed], unknown: str | None) -> str:
    if not reviewed:
        return "No new contract versions.\n"
    parts = []
    for item in reviewed:
        name, r = item.contract, item.report
        verdict = _verdict(item, "allowed", "**not allowed**")
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
        if item.decision:
            parts.append(f"**Allowed by readers:** {item.decision}\n")
        if item.readers is not None:
            parts.append(_readers_markdown(item, unknown))
    return "\n".join(parts)


def _readers_markdown(item: Reviewed, unknown: str | None) -> str:
    new = item.report.new_version
    if not item.readers:
        return "**Readers:** none registered.\n"
    note = f" (liveness unknown: {unknown})" if unknown else ""
    rows = [
        f"**Readers**{note}:\n",
        f"| group | service | reader | topic | v{new} | live |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    rows += [
        f"| `{_cell(v.reader.group)}` | {_cell(v.reader.service)} | {_version_of(v.reader)} | "
        f"`{_cell(v.reader.topic)}` | {_cell(_reads(v, new))} | {_live(v)} |"
        for v in item.readers
    ]
    return "\n".join(rows) + "\n"


def _json(reviewed: list[Reviewed], unknown: str | None) -> str:
    out = []
    for item in reviewed:
        r = item.report
        entry: dict[str, Any] = {
            "contract": item.contract,
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
        if item.decided is not None:
            entry["by_readers"] = {**item.decided, "text": item.decision}
        if item.readers is not None:
            entry["liveness_unknown"] = unknown
            entry["readers"] = [
                {
                    "group": v.reader.group,
                    "service": v.reader.service,
                    "reader_version": v.reader.version,
                    "topic": v.reader.topic,
                    "reads": v.problem is None,
                    "problem": v.problem,
                    "location": v.location if v.problem is not None else None,
                    "live": v.live,
                }
                for v in item.readers
            ]
        out.append(entry)
    return json.dumps(out, indent=2) + "\n"


_RENDER = {"text": _text, "json": _json, "markdown": _markdown}
