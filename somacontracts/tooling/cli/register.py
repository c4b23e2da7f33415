"""``somacontracts register``: put every contract version into a schema registry, in order.

For each contract and each of its subjects: set the subject's compatibility level to
the contract's, register the versions the registry lacks from the oldest on, and read
each back: its id, its schema (as JSON, so the key order of a default object does not
matter), its metadata and its rules must be what was sent. Idempotent: a second run
registers nothing and says so. Before writing anything it reads every subject, and stops
with exit code 1 if a registry holds a version the repository does not (drift, with the
reason). With ``--create-keks KMS_KEY_URL`` it first creates, in the registry's DEK
registry, the KEKs the contracts' ENCRYPT rules name and the registry lacks (an existing
KEK is never changed); without it, a KEK that a version to register needs must exist.
Before the first version is registered it also refuses (exit code 1) a registry without
a DEK registry where rules encrypt fields, and one that does not keep the compatibility
group of major versions. A version the registry refuses as incompatible stops the run
with exit code 1; the versions registered before it stay, so a rerun resumes. A version
stored without what was sent (a registry that drops rules, as Karapace does) stops it
with exit code 1, naming the subject, version and part, and the lock file is not
written. The ids are recorded in the lock file under the environment name (default: the
URL).

Before writing, each version to register is proven against the live readers the registry
holds for its subject (consumers register them; the cluster at ``--bootstrap``, else
``KAFKA_BOOTSTRAP_SERVERS``, says which are live; no Kafka is asked where no reader is
registered): a version a live reader cannot read stops the run with exit code 1
(``READER_BROKEN``, naming the group to upgrade first), nothing registered. With
``--by-readers``, a version the level refuses and every live reader reads is registered
anyway (its subject at level ``NONE`` for that registration, then back), a decision
recorded in the lock file under ``by_readers``.

Then it associates each catalog topic with its subject (Confluent Platform 8's
``/associations``, which confluent-kafka's ``AssociatedNameStrategy`` reads) in the
Kafka cluster ``--kafka-cluster-id`` names, else the cluster at
``KAFKA_BOOTSTRAP_SERVERS`` (its id asked from it). With neither, or a registry without
associations, it says so on stderr and leaves them out: the subjects are what matters.

Exit codes: 0 done (or nothing to do); 1 drift, a refused version, or a registry that
cannot keep what the contracts need; 2 bad usage, configuration, or a registry that
cannot be reached.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from somacontracts.errors import RegistryError, RegistryFeatureError, RegistryUnavailableError
from somacontracts.serde.registry_client import url_of
from somacontracts.tooling import sources
from somacontracts.tooling.check.lock import read_lock, with_registry_ids, write_lock
from somacontracts.tooling.check.readers import (
    Proof,
    proof_findings,
    prove_plans,
    with_decisions,
)
from somacontracts.tooling.cli.common import (
    add_bootstrap,
    add_config,
    add_registry,
    add_schemas,
    command_parser,
    count,
    plan_registry,
    project_files,
    settings_of,
)
from somacontracts.tooling.files import check_writable
from somacontracts.tooling.keks import create_keks, kek_names, require_keks
from somacontracts.tooling.registration import (
    SubjectPlan,
    apply_plan,
    associate_topics,
    configure_subjects,
    keks_needed,
)

if TYPE_CHECKING:
    from somacontracts.catalog.environment import Settings
    from somacontracts.tooling.sources import ContractSchemas

__all__ = ["prove_pending", "register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "register", __doc__)
    add_schemas(parser)
    add_config(parser)
    add_registry(
        parser, help_url="registry URL (default: SCHEMA_REGISTRY_URL or http://localhost:8081)"
    )
    parser.add_argument(
        "--environment",
        metavar="NAME",
        help="name under which the lock file records ids (default: URL)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    parser.add_argument(
        "--create-keks",
        metavar="KMS_KEY_URL",
        help="create the KEKs the contracts' ENCRYPT rules name that the registry lacks, "
        "wrapped by this KMS key (local-kms://somastack for a laptop; aws-kms://ARN, ...)",
    )
    parser.add_argument(
        "--kafka-cluster-id",
        metavar="ID",
        help="the Kafka cluster whose topics to associate with their subjects (default: "
        "asked from the cluster at KAFKA_BOOTSTRAP_SERVERS)",
    )
    parser.add_argument(
        "--by-readers",
        action="store_true",
        help="register a version the level refuses when every live reader reads it "
        "(a decision the team takes; recorded in the lock file)",
    )
    add_bootstrap(parser, config=False)
    parser.set_defaults(run=run)


def _report_inconsistent(plans: list[SubjectPlan]) -> bool:
    bad = False
    for plan in plans:
        for held in plan.drift:
            bad = True
            print(
                f"{plan.subject}: registry version {held.version} (id {held.schema_id}) "
                f"is no version of {plan.contract} in this repository (drift): it holds "
                f"{plan.reasons.get(held.version, 'another schema')}",
                file=sys.stderr,
            )
        if plan.out_of_order:
            bad = True
            listed = ", ".join(f"v{n}" for n in plan.out_of_order)
            print(
                f"{plan.subject}: the registry holds {listed} of {plan.contract} but not every "
                "version before it; versions must be registered in order",
                file=sys.stderr,
            )
    return bad


def run(args: argparse.Namespace) -> int:
    """Plan, check for drift, then register (unless ``--dry-run``)."""
    client, plans, lock_path = plan_registry(args)
    with client:
        code = _register(args, client, plans, lock_path)
        if code == 0 and not args.dry_run:
            _associate(args, client, {p.contract for p in plans})
        return code


def _associate(args: argparse.Namespace, client: Any, contracts: set[str]) -> None:
    """Associate the catalog's topics of ``contracts`` with their subjects, or say why not."""
    from somacontracts.catalog.entries import subject_for_topic
    from somacontracts.kafka import BrokerUnavailableError
    from somacontracts.kafka.topics import cluster_id

    config, _, _ = project_files(args)
    settings = config.settings()
    subjects = {
        topic: subject_for_topic(topic)
        for name in sorted(contracts)
        if name in config.catalog.contracts and name not in config.subjects
        for topic in settings.topics_of(name)
    }
    if not subjects:
        return
    cluster = args.kafka_cluster_id
    if cluster is None:
        try:
            cluster = cluster_id(settings)
        except BrokerUnavailableError as err:
            print(f"somacontracts register: topics not associated: {err}", file=sys.stderr)
            return
    if not cluster:
        print(
            "somacontracts register: topics not associated with their subjects: no Kafka "
            f"cluster answers at {settings.bootstrap_servers}; give --kafka-cluster-id",
            file=sys.stderr,
        )
        return
    try:
        created = associate_topics(client, subjects, cluster)
    except RegistryUnavailableError:
        raise
    except RegistryError as err:
        print(f"somacontracts register: topics not associated: {err}", file=sys.stderr)
        return
    if created:
        print(f"associated {count(len(created), 'topic')} with their subjects in cluster {cluster}")


def _create_keks(args: argparse.Namespace, client: Any) -> None:
    """``--create-keks``: the KEKs the contracts' rules name, created where missing."""
    _, root, _ = project_files(args)
    names = kek_names(sources.load_tree(root))
    created = create_keks(client, names, args.create_keks)
    where = args.create_keks.partition("://")[0]
    for name in names:
        print(f"created KEK {name} in {where}" if name in created else f"KEK {name}: present")


def _register(
    args: argparse.Namespace, client: Any, plans: list[SubjectPlan], lock_path: Any
) -> int:
    url = url_of(client)
    if _report_inconsistent(plans):
        return 1
    if not args.dry_run:
        check_writable(lock_path)  # refused before the registry changes, not after
    try:
        if args.create_keks is not None and not args.dry_run:
            _create_keks(args, client)
        pending = [p for p in plans if p.to_register or p.set_level]
        if not pending:
            total = sum(len(p.registered) for p in plans)
            print(
                f"nothing to register: {url} holds all {count(total, 'version')} of "
                f"{count(len(plans), 'subject')}"
            )
            if not args.dry_run:
                _record(
                    lock_path,
                    args.environment or url,
                    url,
                    {p.subject: p.registered for p in plans},
                )
            return 0
        for plan in pending:
            verb = "would register" if args.dry_run else "registering"
            versions = ", ".join(f"v{v.version}" for v in plan.to_register) or "nothing"
            level = f"; set level {plan.level.value}" if plan.set_level else ""
            print(f"{plan.subject} ({plan.contract}): {verb} {versions}{level}")
        proofs = _prove(args, client, pending)
        if proofs is None:
            return 1
        if args.dry_run:
            return 0
        # What the registry cannot hold is found out before the first version goes in.
        require_keks(client, keks_needed(pending))
        configure_subjects(client, pending)
    except RegistryFeatureError as err:
        print(f"somacontracts register: {err}", file=sys.stderr)
        return 1
    done: dict[str, dict[int, int]] = {p.subject: p.registered for p in plans}
    accepted = {p.subject for p in proofs if p.readers_accept} if args.by_readers else set()
    try:
        for plan in pending:
            done[plan.subject] = (
                _apply_by_readers(client, plan)
                if plan.subject in accepted
                else apply_plan(client, plan)
            )
    except RegistryUnavailableError:
        _record(lock_path, args.environment or url, url, done)
        raise
    except RegistryFeatureError as err:
        # A version stored without what was sent is not recorded as registered.
        print(f"somacontracts register: {err}; the lock file is not written", file=sys.stderr)
        return 1
    except RegistryError as err:
        _record(lock_path, args.environment or url, url, done)
        print(f"somacontracts register: {err}", file=sys.stderr)
        return 1
    decided = [p for p in proofs if p.subject in accepted]
    levels = {p.contract: p.level.value for p in pending}
    _record(lock_path, args.environment or url, url, done, decided, levels)
    added = sum(len(p.to_register) for p in pending)
    print(
        f"registered {count(added, 'version')} under {count(len(pending), 'subject')} at {url}; "
        f"ids recorded in {lock_path}"
    )
    return 0


def _apply_by_readers(client: Any, plan: SubjectPlan) -> dict[int, int]:
    """:func:`apply_plan` with the subject at level ``NONE``, then back at the plan's: the
    registry would refuse what the readers proved readable."""
    from somacontracts.serde.registry_client import call

    call(client, lambda: client.set_compatibility(plan.subject, "NONE"))
    try:
        return apply_plan(client, dataclasses.replace(plan, set_level=False))
    finally:
        call(client, lambda: client.set_compatibility(plan.subject, plan.level.value))


def _prove(args: argparse.Namespace, client: Any, pending: list[SubjectPlan]) -> list[Proof] | None:
    """The proofs of the versions to register against the live readers; None (after
    printing why) when a live reader cannot read one."""
    config, root, _ = project_files(args)
    tree = sources.load_tree(root)
    settings = settings_of(args, config.catalog)
    proofs = prove_pending(client, settings, tree, pending, by_readers=args.by_readers)
    if any(p.broken for p in proofs):
        print(
            "somacontracts register: a live reader cannot read a version; nothing registered",
            file=sys.stderr,
        )
        return None
    return proofs


def prove_pending(
    client: Any,
    settings: Settings,
    tree: Mapping[str, ContractSchemas],
    pending: Sequence[SubjectPlan],
    *,
    by_readers: bool = False,
) -> list[Proof]:
    """Prove the versions ``pending`` registers against the live readers of their
    subjects, printing each finding on stderr (``register``, ``dev up``)."""
    proofs = prove_plans(client, settings, tree, pending)
    for finding in proof_findings(proofs, by_readers=by_readers):
        print(f"{finding.where()}: {finding.rule}: {finding.message}", file=sys.stderr)
    return proofs


def _record(
    lock_path: Any,
    name: str,
    url: str,
    ids: dict[str, dict[int, int]],
    decided: list[Proof] | None = None,
    levels: dict[str, str] | None = None,
) -> None:
    lock = read_lock(lock_path)
    updated = with_registry_ids(lock, name, url, {s: i for s, i in ids.items() if i})
    if decided:
        updated = with_decisions(updated, decided, levels or {})
    if updated != lock:
        write_lock(lock_path, updated)
