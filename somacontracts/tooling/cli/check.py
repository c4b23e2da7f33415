"""``somacontracts check``: validate, check compatibility, lint and immutability of every contract.

For every contract: each version is a valid schema (as ``validate`` checks); each
version is compatible with the ones before it at the contract's level; lint rules
pass; every version is recorded in the lock file with an unchanged canonical
fingerprint; with ``--against REF``, every version present at that git revision is
still present and unchanged; with ``--registry URL``, the registry accepts each latest
version under the contract's subjects (authentication from ``SCHEMA_REGISTRY_*``
variables, see ``somacontracts.serde.registry_client``); with ``--readers`` (and
``--registry``, ``--bootstrap``), each new version (else the latest) is proven readable by
every live reader registered for its subjects: ``READER_BROKEN`` names a group that would
fail though the level accepts; ``READERS_ACCEPT`` a version the level refuses and every
live reader reads, which ``--by-readers`` allows (a decision the team takes; ``register
--by-readers`` records it in the lock file, after which its level findings are warnings).
Configuration: ``[tool.somacontracts]`` in
``pyproject.toml`` (see ``somacontracts.tooling.configuration``).

Exit codes: 0 no problems; 1 problems found; 2 usage, configuration or unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from somacontracts.errors import ConfigurationError, RegistryError
from somacontracts.tooling import sources
from somacontracts.tooling.check.findings import ERROR, WARNING, Category, Finding
from somacontracts.tooling.check.lock import compare, read_lock
from somacontracts.tooling.check.positions import locate
from somacontracts.tooling.check.project import project_findings
from somacontracts.tooling.check.readers import (
    allowed_by_readers,
    proof_findings,
    prove_tree,
    with_decisions,
)
from somacontracts.tooling.check.report import RENDERERS
from somacontracts.tooling.check.vcs import versions_at
from somacontracts.tooling.cli.common import (
    add_bootstrap,
    add_config,
    add_registry,
    add_schemas,
    command_parser,
    project_files,
    settings_of,
)
from somacontracts.tooling.configuration import ProjectConfig

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "check", __doc__)
    add_schemas(parser)
    add_config(parser)
    parser.add_argument(
        "--against",
        metavar="REF",
        help="git revision whose released versions must still exist unchanged",
    )
    add_registry(
        parser, help_url="also ask this schema registry whether it would accept each latest version"
    )
    parser.add_argument(
        "--readers",
        action="store_true",
        help="prove each new version against the live readers (needs --registry)",
    )
    parser.add_argument(
        "--by-readers",
        action="store_true",
        help="allow a version the level refuses when every live reader reads it",
    )
    add_bootstrap(parser, config=False)
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text", help="output format")
    parser.set_defaults(run=run)


def registry_findings(
    client: SchemaRegistryClient, tree: Mapping[str, sources.ContractSchemas], config: ProjectConfig
) -> list[Finding]:
    """Ask the registry whether it accepts each contract's latest version under its
    subjects, where the subject is at the contract's level: elsewhere ``register`` sets
    the contract's level first, so the registry's verdict at its own is not asked (the
    tree's checks judged the version at the contract's level) and a warning says so."""
    from somacontracts.serde import registry_client

    url = registry_client.url_of(client)
    findings = []
    for name, contract in tree.items():
        latest = contract.latest
        # with its shared types written out: the same schema to judge, and one any registry
        # reads whether or not it holds their subjects yet
        text = json.dumps(latest.whole, separators=(",", ":"))
        level = config.level_of(name).value

        for subject in config.subjects_of(name):
            try:
                held = registry_client.subject_level(client, subject)
                if held is not None and held != level:
                    findings.append(
                        _finding(
                            latest,
                            "REGISTRY_LEVEL",
                            f'subject "{subject}" is at {held} in {url}, {name} at {level}: '
                            "`register` sets it first, so the registry is not asked at its own",
                            WARNING,
                        )
                    )
                    continue
                compatible, messages = registry_client.compatibility_verbose(client, subject, text)
            except RegistryError as err:
                if err.error_code in (40401, 40402):
                    continue  # A subject without versions accepts any first version.
                raise
            if not compatible:
                findings += [
                    _finding(
                        latest,
                        "REGISTRY_INCOMPATIBLE",
                        f'Registry {url} would refuse v{latest.version} under subject "{subject}": '
                        + reason,
                    )
                    for reason in refusal_reasons(messages)
                ]
    return findings


def _finding(
    version: sources.SchemaVersion, rule: str, message: str, severity: str = ERROR
) -> Finding:
    return Finding(
        rule=rule,
        category=Category.COMPATIBILITY,
        contract=version.contract,
        version=version.version,
        path=str(version.path),
        location="",
        message=message,
        severity=severity,
    )


def refusal_reasons(messages: Sequence[str]) -> list[str]:
    """A registry's verbose refusal as one reason per error: Confluent's messages give each
    error (``{errorType:...}``) then context (``{oldSchemaVersion: 1}``, the whole old
    schema, ``{compatibility: ...}``); the context short enough to read joins each error,
    the old schema is left out. Another registry's plain messages are one reason each."""
    errors = [m for m in messages if m.startswith("{errorType")]
    context = [
        m for m in messages if m not in errors and not m.startswith("{oldSchema:") and len(m) < 80
    ]
    if not errors:
        return [m for m in messages if not m.startswith("{oldSchema:")] or [
            "the registry rejects it and gave no reason"
        ]
    suffix = f" ({', '.join(context)})" if context else ""
    return [error + suffix for error in errors]


def _text_of(path: str) -> str | None:
    """A reported file's text, or None (a deleted version, a git revision's file)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def run(args: argparse.Namespace) -> int:
    """Check the tree and print the findings in the chosen format."""
    config, root, lock_path = project_files(args)
    tree = sources.load_tree(root)
    findings = project_findings(tree, config, lock_path, root)
    if args.against:
        at_ref = versions_at(args.against, root)
        findings += compare(at_ref, tree, baseline=args.against, report_unrecorded=False)
    if (args.readers or args.by_readers) and not args.registry:
        # the readers are in a registry: the one the environment names, as register's
        args.registry = os.environ.get("SCHEMA_REGISTRY_URL") or None
        if not args.registry:
            raise ConfigurationError(
                "--readers", "needs --registry URL or SCHEMA_REGISTRY_URL (where the readers are)"
            )
    lock = read_lock(lock_path)
    if args.registry:
        from somacontracts.serde import registry_client  # only with --registry: it is slow to load

        with registry_client.connect(url=args.registry, ca_file=args.registry_ca) as client:
            findings += registry_findings(client, tree, config)
            if args.readers or args.by_readers:
                settings = settings_of(args, config.catalog)
                proofs = prove_tree(client, settings, tree, config)
                findings += proof_findings(proofs, by_readers=args.by_readers)
                if args.by_readers:
                    levels = {name: config.level_of(name).value for name in tree}
                    lock = with_decisions(lock, proofs, levels)
    findings = allowed_by_readers(findings, lock, str(lock_path))
    findings = locate(findings, _text_of)
    print(RENDERERS[args.format](findings, list(tree)), end="")
    return 1 if any(f.severity == ERROR for f in findings) else 0
