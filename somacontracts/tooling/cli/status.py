"""``somacontracts status``: each subject's local and registry versions, ids, level and drift,
and the consumer groups registered as its readers (``readers`` says which are live).

First, where the project has a local stack (``somacontracts dev up``), whether it runs:
its addresses and pids.

A registry version is drift when its schema (compared as JSON: the key order of a default
object does not matter) or its Data Contract parts are no local version's; each says why
(a local version's schema without its rule set, or where its schema differs).

Exit codes: 0 every subject matches the repository; 1 a subject lags behind or drifted;
2 bad usage, configuration, or a registry that cannot be reached.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from somacontracts.kafka.readers import list_readers
from somacontracts.tooling.cli.common import (
    add_config,
    add_format,
    add_registry,
    add_schemas,
    command_parser,
    plan_registry,
)
from somacontracts.tooling.configuration import find_config
from somacontracts.tooling.dev.stack import DevStack, state_folder
from somacontracts.tooling.registration import SubjectPlan

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "status", __doc__)
    add_schemas(parser)
    add_config(parser)
    add_registry(
        parser, help_url="registry URL (default: SCHEMA_REGISTRY_URL or http://localhost:8081)"
    )
    add_format(parser)
    parser.set_defaults(run=run)


def _row(plan: SubjectPlan) -> dict[str, Any]:
    local = sorted({*plan.registered, *(v.version for v in plan.to_register)})
    return {
        "subject": plan.subject,
        "contract": plan.contract,
        "local_versions": local,
        "registry_versions": [v.version for v in plan.registry_versions],
        "ids": {f"v{n}": i for n, i in sorted(plan.registered.items())},
        "level": plan.level.value,
        "level_set": not plan.set_level,
        "unregistered": [v.version for v in plan.to_register],
        "drift": [
            {"version": d.version, "id": d.schema_id, "reason": plan.reasons.get(d.version, "")}
            for d in plan.drift
        ],
    }


def run(args: argparse.Namespace) -> int:
    """Print whether the project's local stack runs, then one row per subject."""
    if args.format == "text":
        config = args.config if args.config is not None else find_config(Path.cwd())
        for line in DevStack(state_folder(config)).describe():
            print(line, flush=True)
    client, plans, _ = plan_registry(args)
    try:
        readers = list_readers(client, [p.subject for p in plans])
    finally:
        client.close()
    rows = [_row(p) for p in plans]
    for entry in rows:
        entry["readers"] = [
            {"group": r.group, "service": r.service, "version": r.version}
            for r in readers
            if r.subject == entry["subject"]
        ]
    behind = any(r["unregistered"] or r["drift"] or not r["level_set"] for r in rows)
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 1 if behind else 0
    header = ("SUBJECT", "LOCAL", "REGISTRY", "IDS", "LEVEL", "DRIFT")
    table = [header]
    for r in rows:
        drift = (
            "; ".join(f"version {d['version']} (id {d['id']}): {d['reason']}" for d in r["drift"])
            or "none"
        )
        if r["unregistered"]:
            drift += "; not registered: " + ",".join(f"v{n}" for n in r["unregistered"])
        table.append(
            (
                r["subject"],
                ",".join(f"v{n}" for n in r["local_versions"]),
                ",".join(str(n) for n in r["registry_versions"]) or "-",
                ",".join(f"{k}={v}" for k, v in r["ids"].items()) or "-",
                r["level"] + ("" if r["level_set"] else " (not set)"),
                drift,
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for r in rows:
        if r["readers"]:
            listed = ", ".join(
                reader.label() for reader in readers if reader.subject == r["subject"]
            )
            print(f"readers of {r['subject']}: {listed}")
    return 1 if behind else 0
