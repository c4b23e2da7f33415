"""``somacontracts readers [TOPIC]``: who reads each topic, with which reader version, and
whether the cluster still knows the group; ``readers retire GROUP``: forget a group.

Consumers register their reader schema in the schema registry at start-up
(``_readers.<subject>.<group>``, see :mod:`somacontracts.kafka.readers`); this lists them,
of TOPIC or of every topic: group, service, reader version, live or not (the group is on
the cluster or has committed offsets on the topic) and the group's lag. ``retire GROUP``
deletes the group's readers subjects (of ``--topic`` only, when given) for good, so that
a decommissioned group no longer constrains producers' changes.

Exit codes: 0 done; 1 ``retire`` found no reader of the group; 2 bad usage,
configuration, or a registry or cluster that cannot be reached.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from typing import Any

from somacontracts.errors import ConfigurationError
from somacontracts.tooling.cli.common import (
    add_bootstrap,
    add_format,
    add_registry,
    command_parser,
    settings_of,
)

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "readers", __doc__)
    parser.add_argument(
        "words", nargs="*", metavar="TOPIC | retire GROUP", help="a topic, or retire GROUP"
    )
    parser.add_argument("--topic", metavar="T", help="retire: only the group's reader of T")
    add_bootstrap(parser)
    add_registry(
        parser, help_url="registry URL (default: SCHEMA_REGISTRY_URL or http://localhost:8081)"
    )
    add_format(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """List the readers, or retire a group's."""
    from somacontracts.serde.registry_client import connect

    words = list(args.words)
    with connect(url=args.registry, ca_file=args.registry_ca) as client:
        if words[:1] == ["retire"]:
            if len(words) != 2 or not words[1].strip():
                raise ConfigurationError("retire", "name one consumer group: readers retire GROUP")
            return _retire(client, words[1], args.topic)
        if len(words) > 1:
            raise ConfigurationError("TOPIC", "give one topic, or none for every topic")
        if args.topic is not None:
            raise ConfigurationError("--topic", "is for retire; give the topic as TOPIC")
        return _list(args, client, words[0] if words else None)


def _retire(client: Any, group: str, topic: str | None) -> int:
    from somacontracts.kafka.readers import list_readers
    from somacontracts.serde.registry_client import call

    found = [r for r in list_readers(client) if r.group == group and topic in (None, r.topic)]
    if not found:
        where = f" on {topic}" if topic else ""
        print(
            f"somacontracts readers: no reader of group {group}{where} is registered",
            file=sys.stderr,
        )
        return 1
    for reader in found:
        name = reader.registry_subject
        call(client, functools.partial(client.delete_subject, name))
        call(client, functools.partial(client.delete_subject, name, permanent=True))
        print(f"retired {reader.label()} on {reader.topic} ({name})")
    return 0


def _list(args: argparse.Namespace, client: Any, topic: str | None) -> int:
    from somacontracts.tooling.check.readers import readers_of
    from somacontracts.tooling.console.offsets import group_lag

    settings = settings_of(args)
    readers = readers_of(client, settings, None if topic is None else [f"{topic}-value"])
    rows: list[dict[str, Any]] = []
    for entry in readers:
        reader, liveness = entry.reader, entry.liveness
        lag = None
        if liveness.live:
            lags = group_lag(settings, reader.group, [reader.topic])
            lag = sum(p.lag for p in lags)
        rows.append(
            {
                "topic": reader.topic,
                "group": reader.group,
                "service": reader.service,
                "reader_version": reader.version,
                "replaced": reader.replaced or None,
                "live": liveness.live,
                "why": liveness.reason(),
                "lag": lag,
                "subject": reader.registry_subject,
            }
        )
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no readers registered{f' for {topic}' if topic else ''}")
        return 0
    header = ("TOPIC", "GROUP", "SERVICE", "READER", "LIVE", "LAG")
    table: list[tuple[str, ...]] = [header] + [
        (
            r["topic"],
            r["group"],
            r["service"],
            (f"v{r['reader_version']}" if r["reader_version"] is not None else "?")
            + (f" (replaced at {r['replaced']})" if r["replaced"] else ""),
            "yes" if r["live"] else f"no ({r['why']})",
            "-" if r["lag"] is None else str(r["lag"]),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0
