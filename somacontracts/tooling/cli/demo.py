"""``somacontracts demo``: one message of every contract through Kafka and back.

Starts a local schema registry and a local Kafka-protocol broker (Tansu, from the
``local`` extra), registers the contracts, provisions the topics, sends one message of
each contract with the typed serializers, consumes them back, prints where each went,
and stops what it started. ``--bootstrap`` and ``--registry`` use running servers
instead (topics and subjects are then created there); the environment's
``KAFKA_BOOTSTRAP_SERVERS`` and ``SCHEMA_REGISTRY_URL`` are not read, so that the demo
never writes to a real cluster by accident. It registers this package's own contracts,
whatever project it runs in, and writes no lock file: the KEKs of their ENCRYPT rules
first, in the local KMS, then each version, read back. A registry without a DEK registry,
or one that drops the rules (as Karapace does), stops it before anything is sent.

Exit codes: 0 every message came back; 1 some did not; 2 a server could not be
started or reached.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from somacontracts.catalog.environment import Settings
from somacontracts.catalog.platform import CONTRACTS, PLATFORM
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.kafka import (
    ContractConsumer,
    ContractProducer,
    Delivered,
    Received,
    apply_plans,
    catalog_topics,
    open_admin,
    plan_topics,
)
from somacontracts.kafka.routing import contract_name
from somacontracts.serde import ContractModel, RuleOptions
from somacontracts.serde.registry_client import connect
from somacontracts.tooling import sources
from somacontracts.tooling.cli.common import command_parser, count, settings_of
from somacontracts.tooling.dev.broker import LocalBroker
from somacontracts.tooling.dev.samples import samples
from somacontracts.tooling.keks import create_keks, kek_names
from somacontracts.tooling.registration import register_tree
from somacontracts.tooling.registry import LocalRegistry

__all__ = ["register", "run"]

_LOCAL_KMS_KEY = "local-kms://somacontracts-demo"
_LOCAL_KMS_SECRET = "somacontracts-demo"  # a laptop's local KMS, never a real one

_FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "demo", __doc__)
    parser.add_argument(
        "--bootstrap",
        metavar="SERVERS",
        help="use these Kafka bootstrap servers (default: a local broker started for the "
        "run; KAFKA_BOOTSTRAP_SERVERS is not read, so the demo never writes to a cluster "
        "by accident)",
    )
    parser.add_argument(
        "--registry",
        metavar="URL",
        help="use this schema registry (default: a local one started for the run; "
        "SCHEMA_REGISTRY_URL is not read)",
    )
    parser.set_defaults(run=run)


@contextlib.contextmanager
def _servers(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """(bootstrap servers, registry URL): the given ones, or local ones started here."""
    with contextlib.ExitStack() as stack:
        bootstrap = args.bootstrap
        if not bootstrap:
            broker = stack.enter_context(LocalBroker())
            bootstrap = broker.bootstrap_servers
            print(f"started Kafka-protocol broker (Tansu) at {bootstrap}")
        registry = args.registry
        if not registry:
            registry = stack.enter_context(LocalRegistry(host="127.0.0.1", port=0)).url
            print(f"started schema registry at {registry}")
        yield bootstrap, registry


def run(args: argparse.Namespace) -> int:
    """Start or reach the servers, then run the round trip."""
    with _servers(args) as (bootstrap, registry):
        args.bootstrap = bootstrap
        settings = settings_of(args, PLATFORM)  # the platform's contracts, in any project
        _register_contracts(registry, settings)
        admin = open_admin(settings)
        changed = apply_plans(admin, plan_topics(admin, catalog_topics(settings)))
        print(f"provisioned topics: {changed} created or updated")
        return _round_trip(settings, registry)


def _register_contracts(registry: str, settings: Settings) -> None:
    """Register this package's contracts under the catalog's subjects and levels, as
    ``register`` would, whatever project the demo runs in; no lock file is written."""
    tree = sources.bundled()
    with connect(url=registry) as client:
        # KEKs first: a registry without a DEK registry is found out before any version
        # is registered (and versions are read back: one stored without its rules stops
        # the demo before anything is sent).
        keks = create_keks(client, kek_names(tree), _LOCAL_KMS_KEY)
        plans = register_tree(
            client,
            tree,
            settings.subjects_of,
            lambda name: CONTRACTS[name].compatibility or CompatibilityLevel.FULL_TRANSITIVE,
        )
    versions = sum(len(plan.to_register) for plan in plans)
    print(f"registered {count(versions, 'version')} under {count(len(plans), 'subject')}")
    if keks:
        print(f"created {count(len(keks), 'KEK')} in the local KMS: {', '.join(keks)}")


def _round_trip(settings: Settings, registry: str) -> int:
    # Fields tagged PII travel encrypted, in the local KMS: LOCAL_SECRET, else the demo's
    # own secret (the same each run, so a second run reads the keys the first one made).
    rules = RuleOptions(kms={"secret": os.environ.get("LOCAL_SECRET") or _LOCAL_KMS_SECRET})
    sent: list[tuple[ContractModel, Delivered]] = []
    for obj in samples():
        model = type(obj)
        topic = settings.topics_of(contract_name(model))[0]
        with ContractProducer(
            model, registry, settings=settings, topic=topic, rules=rules
        ) as producer:
            sent.append((obj, producer.send(obj).result(timeout=30)))
    rows: list[tuple[str, ...]] = []
    for obj, delivered in sent:
        model = type(obj)
        got: list[Received[Any]] = []
        keep = _keeper(got, delivered.offset)
        with ContractConsumer(
            model,
            registry,
            settings=settings,
            topics=[delivered.topic],
            partitions=[(delivered.topic, delivered.partition)],
            group_id="somacontracts-demo",
            config=_FAST_GROUP,
            rules=rules,
        ) as consumer:
            consumer.run(
                keep,
                idle_timeout=5,
                max_messages=delivered.offset + 1,
            )
        back = any(r.value == obj for r in got)
        rows.append(
            (
                contract_name(model),
                delivered.topic,
                str(delivered.partition),
                str(delivered.offset),
                (delivered.key or b"").decode(),
                "yes" if back else "NO",
            )
        )
    _print_table(("contract", "topic", "partition", "offset", "key", "read back"), rows)
    missing = sum(1 for row in rows if row[-1] != "yes")
    print(
        f"{len(rows) - missing} of {count(len(CONTRACTS), 'contract')} went through Kafka and back"
    )
    return 1 if missing else 0


def _keeper(into: list[Received[Any]], offset: int) -> Callable[[Received[Any]], None]:
    """A handler keeping the message at ``offset``."""

    def keep(received: Received[Any]) -> None:
        if received.offset == offset:
            into.append(received)

    return keep


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
