"""``somacontracts topics``: provision the catalog's topics on a Kafka cluster.

``topics apply`` creates the project catalog's missing topics (names after the
environment's overrides, each with a ``<topic>.dlq`` dead-letter topic) and sets
``retention.ms`` and ``cleanup.policy`` where they differ; the retention is the catalog's
pinned ``retention``, else ``KAFKA_CFG_LOG_RETENTION_HOURS``, else the catalog's
``default-retention``, else left to the broker. Idempotent: a second run changes nothing
and says so. ``--dry-run`` prints the differences, and where each topic's retention comes
from. ``--wait SECONDS`` waits for a broker that is still starting (a boot script).
``--compact TOPIC`` gives a topic ``cleanup.policy=compact,delete``: only for audit topics
keyed by ``task_id``.

``topics scale TOPIC N`` grows a topic to N partitions; it refuses to shrink, which
Kafka cannot do. Growing changes which partition a key maps to, so per-tenant order
holds only for messages produced after the change.

Exit codes: 0 done (or nothing to do); 2 bad usage, configuration, unreachable cluster
or a refused operation.
"""

from __future__ import annotations

import argparse
from typing import Any

from somacontracts.errors import ConfigurationError
from somacontracts.kafka import apply_plans, catalog_topics, open_admin, plan_topics, scale_topic
from somacontracts.tooling.cli.common import add_bootstrap, command_parser, count, settings_of

__all__ = ["register", "run_apply", "run_scale"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "topics", __doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    apply = actions.add_parser("apply", help="create or update every catalog topic")
    add_bootstrap(apply)
    apply.add_argument(
        "--dry-run", action="store_true", help="print the differences; change nothing"
    )
    apply.add_argument(
        "--compact",
        action="append",
        default=[],
        metavar="TOPIC",
        help="use cleanup.policy=compact,delete for TOPIC (name or catalog key); repeatable",
    )
    apply.add_argument(
        "--no-dlq", action="store_true", help="do not provision the <topic>.dlq topics"
    )
    apply.add_argument(
        "--wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait up to SECONDS for the cluster to answer (a boot script's broker may be "
        "starting); default: 10",
    )
    apply.set_defaults(run=run_apply)
    scale = actions.add_parser("scale", help="grow a topic's partitions (never shrinks)")
    add_bootstrap(scale)
    scale.add_argument("topic", metavar="TOPIC")
    scale.add_argument("partitions", type=int, metavar="N")
    scale.set_defaults(run=run_scale)


def run_apply(args: argparse.Namespace) -> int:
    """Plan every catalog topic, print the differences, apply them unless ``--dry-run``."""
    settings = settings_of(args)
    specs = catalog_topics(settings, compact=args.compact, dlq=not args.no_dlq)
    if args.wait is not None and not 0 < args.wait <= 3600:
        raise ConfigurationError("--wait", "must be a number of seconds above 0, at most 3600")
    admin = open_admin(settings) if args.wait is None else open_admin(settings, timeout=args.wait)
    plans = plan_topics(admin, specs)
    pending = [p for p in plans if p.changed]
    for plan in plans:
        lines = plan.describe()
        if args.dry_run or plan.changed or not lines[0].startswith(f"{plan.spec.name}: up to"):
            for line in lines:
                print(line)
    if not pending:
        print(
            f"nothing to change: {count(len(plans), 'topic')} at {settings.bootstrap_servers} match"
        )
        return 0
    if args.dry_run:
        print(f"{len(pending)} of {count(len(plans), 'topic')} would change (dry run)")
        return 0
    changed = apply_plans(admin, plans)
    print(f"changed {changed} of {count(len(plans), 'topic')} at {settings.bootstrap_servers}")
    return 0


def run_scale(args: argparse.Namespace) -> int:
    """Grow one topic's partitions."""
    settings = settings_of(args)
    if scale_topic(open_admin(settings), args.topic, args.partitions):
        print(f"{args.topic}: now {args.partitions} partitions")
    else:
        print(f"{args.topic}: already has {args.partitions} partitions; nothing to change")
    return 0
