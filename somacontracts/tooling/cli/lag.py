"""``somacontracts lag``: how far a consumer group is behind, against the catalog's alerts.

Per topic and partition: the group's committed offset, the end offset and the lag, and
the topic's alert threshold (the catalog's: lag > 500 on ``tool.requests``; or
``--threshold N``). The group is ``--group`` (default: ``TOOL_EXECUTOR_GROUP``), the
topics ``--topic`` (repeatable; default: the catalog topics with a threshold, else, in a
catalog without one, the topics the group reads; with neither, it stops naming
``--topic`` and the groups of the catalog's consumers). Usable as a probe: the exit code says
whether a threshold is exceeded.

Exit codes: 0 every partition within its threshold; 1 a threshold exceeded; 2 bad usage,
configuration, or an unreachable cluster.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from somacontracts.catalog.environment import Settings
from somacontracts.errors import ConfigurationError
from somacontracts.tooling.cli.common import add_bootstrap, command_parser, settings_of
from somacontracts.tooling.console.offsets import group_lag

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "lag", __doc__)
    add_bootstrap(parser)
    parser.add_argument(
        "--group", metavar="G", help="consumer group (default: TOOL_EXECUTOR_GROUP)"
    )
    parser.add_argument(
        "--topic", action="append", default=[], metavar="T", help="a topic to report; repeatable"
    )
    parser.add_argument("--threshold", type=int, metavar="N", help="alert above N (all topics)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print each partition's lag; exit 1 if one exceeds its threshold."""
    if args.group is not None and not args.group.strip():
        raise ConfigurationError("--group", "must not be empty")
    if args.threshold is not None and args.threshold < 0:
        raise ConfigurationError("--threshold", "must be 0 or more")
    settings = settings_of(args)
    group = args.group or settings.tool_executor_group
    topics = list(dict.fromkeys(args.topic)) or _default_topics(settings, group)
    if not topics:
        groups = _catalog_groups(settings)
        hint = f", or a group with --group (the catalog's: {', '.join(groups)})" if groups else ""
        raise ConfigurationError(
            "--topic",
            f"no catalog topic has a lag alert or is read by group {group}: name one{hint}",
        )
    lags = group_lag(settings, group, topics, threshold=args.threshold)
    if lags and all(entry.committed is None for entry in lags):
        print(
            f"somacontracts lag: note: group {group} has committed no offset on "
            f"{', '.join(topics)} (a new group, or a misspelled name?); its lag counts every "
            "message held",
            file=sys.stderr,
        )
    alerting = [entry for entry in lags if entry.alerting]
    if args.format == "json":
        rows = [
            {
                "group": group,
                "topic": e.topic,
                "partition": e.partition,
                "committed": e.committed,
                "end": e.end,
                "lag": e.lag,
                "threshold": e.threshold,
                "alerting": e.alerting,
            }
            for e in lags
        ]
        print(json.dumps(rows, indent=2))
    else:
        print(f"group {group}")
        for e in lags:
            committed = "-" if e.committed is None else str(e.committed)
            limit = "" if e.threshold is None else f" (alert above {e.threshold})"
            flag = "  ALERT" if e.alerting else ""
            print(
                f"  {e.topic}[{e.partition}]  committed {committed}  end {e.end}  "
                f"lag {e.lag}{limit}{flag}"
            )
        total = sum(e.lag for e in lags)
        print(f"total lag {total}; {len(alerting)} of {len(lags)} partitions over threshold")
    return 1 if alerting else 0


def _default_topics(settings: Settings, group: str) -> list[str]:
    """The catalog topics with a lag alert; where none has one, those ``group`` reads."""
    topics = settings.catalog.topics
    alerting = [settings.topic_name(k) for k, spec in topics.items() if spec.lag_alert is not None]
    return alerting or [
        settings.topic_name(key)
        for key, spec in topics.items()
        if any(settings.group_of(service, key) == group for service in spec.consumers)
    ]


def _catalog_groups(settings: Settings) -> list[str]:
    """The groups the catalog's consuming services read its topics in, in catalog order."""
    groups = (
        settings.group_of(service, key)
        for key, spec in settings.catalog.topics.items()
        for service in spec.consumers
    )
    return list(dict.fromkeys(group for group in groups if group is not None))
