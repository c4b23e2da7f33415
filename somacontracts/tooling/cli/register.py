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
import sys
from typing import Any

from somacontracts.errors import RegistryError, RegistryFeatureError, RegistryUnavailableError
from somacontracts.serde.registry_client import url_of
from somacontracts.tooling import sources
from somacontracts.tooling.check.lock import read_lock, with_registry_ids, write_lock
from somacontracts.tooling.cli.common import (
    add_config,
    add_registry,
    add_schemas,
    command_parser,
    count,
    plan_registry,
    project_files,
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

__all__ = ["register", "run"]


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
        if args.dry_run:
            return 0
        # What the registry cannot hold is found out before the first version goes in.
        require_keks(client, keks_needed(pending))
        configure_subjects(client, pending)
    except RegistryFeatureError as err:
        print(f"somacontracts register: {err}", file=sys.stderr)
        return 1
    done: dict[str, dict[int, int]] = {p.subject: p.registered for p in plans}
    try:
        for plan in pending:
            done[plan.subject] = apply_plan(client, plan)
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
    _record(lock_path, args.environment or url, url, done)
    added = sum(len(p.to_register) for p in pending)
    print(
        f"registered {count(added, 'version')} under {count(len(pending), 'subject')} at {url}; "
        f"ids recorded in {lock_path}"
    )
    return 0


def _record(lock_path: Any, name: str, url: str, ids: dict[str, dict[int, int]]) -> None:
    lock = read_lock(lock_path)
    updated = with_registry_ids(lock, name, url, {s: i for s, i in ids.items() if i})
    if updated != lock:
        write_lock(lock_path, updated)
