"""``somacontracts consume TOPIC``: a topic's messages as the platform's plain JSON.

Each message is decoded through the registry into the contract's typed class (the
catalog's topic names after the environment's overrides; a ``.dlq`` topic is read as
its topic's contract, with its ``dlq.*`` headers) and printed with its partition,
offset, key, timestamp, how it names its schema (``schema``: the id in Confluent's
prefix, or the GUID in the ``__value_schema_id`` header) and the writer's schema
version: one JSON object per line (``--format jsonl``), or a table. A message that does
not decode is printed as such (schema id, length, reason) and reading goes on. Without
``--group`` nothing is committed; with it, reading starts at the group's committed
offsets and commits (the partitions are assigned: a console joins no rebalance of the
group's members). It stops at the end of the partitions, or follows them with
``--follow`` until Ctrl-C.

Encrypted fields are decrypted with the local KMS secret ``LOCAL_SECRET`` where the
contract's rules need it; without the key they are shown as their ciphertext.

Exit codes: 0 done (also on Ctrl-C); 2 bad usage, configuration, or an unreachable
cluster or registry (reading stops at once; with ``--group``, nothing it could not
decode is committed).
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from somacontracts.serde import ContractDeserializer
from somacontracts.tooling.cli.common import add_console, command_parser, config_of, settings_of
from somacontracts.tooling.console.classes import model_of
from somacontracts.tooling.console.display import contract_of_topic, describe, read

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "consume", __doc__)
    add_console(parser)
    parser.add_argument("--format", choices=("jsonl", "table"), default="jsonl")
    parser.add_argument("--from-beginning", action="store_true", help="start at the oldest message")
    parser.add_argument("--offset", type=int, metavar="N", help="start at offset N")
    parser.add_argument("--partition", type=int, metavar="P", help="read partition P only")
    parser.add_argument("--key", metavar="K", help="print only messages with key K")
    parser.add_argument("--max", type=int, metavar="N", help="stop after N messages")
    parser.add_argument("--follow", action="store_true", help="wait for new messages")
    parser.add_argument(
        "--group", metavar="G", help="start at group G's committed offsets and commit"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Read and print until the end, ``--max`` or Ctrl-C."""
    from somacontracts.errors import ConfigurationError

    if args.max is not None and args.max < 1:
        raise ConfigurationError("--max", "must be at least 1")
    settings = settings_of(args)
    model = model_of(config_of(args), contract_of_topic(settings, args.topic))
    printed = 0
    rows: list[dict[str, Any]] = []
    from somacontracts.serde.registry_client import connect

    with (
        connect(url=args.registry, ca_file=args.registry_ca) as client,
        ContractDeserializer(model, client, warm_up=False) as reader,
    ):
        messages = read(
            settings,
            args.topic,
            partition=args.partition,
            offset=args.offset,
            from_beginning=args.from_beginning,
            follow=args.follow,
            group=args.group,
        )
        try:
            for msg, done in messages:
                record = describe(msg, reader)
                done()  # described (printed below): committed with --group
                if args.key is not None and record["key"] != args.key:
                    continue
                if args.format == "jsonl":
                    print(json.dumps(record, ensure_ascii=False), flush=True)
                else:
                    rows.append(record)
                printed += 1
                if args.max is not None and printed >= args.max:
                    break
        except KeyboardInterrupt:
            pass
        finally:
            messages.close()
    if args.format == "table":
        _table(rows)
    return 0


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _cell(value: object) -> str:
    """``value`` as one table cell: control characters (a key or value could hold
    terminal escapes or line breaks) shown as escapes, never sent to the terminal."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), str(value))


def _schema_cell(named: dict[str, Any] | None) -> str:
    """How a message names its schema, in a table cell: ``id 7``, ``guid 4102d5ca in
    __value_schema_id``."""
    if not named:
        return ""
    cell = f"id {named['id']}" if "id" in named else f"guid {named['guid'][:8]}"
    return cell if named["in"] == "prefix" else f"{cell} in {named['in']}"


def _table(rows: list[dict[str, Any]]) -> None:
    header = ("partition", "offset", "key", "timestamp", "schema", "version", "value")
    lines = [header]
    for row in rows:
        shown = row.get("value") if "error" not in row else f"undecodable: {row['error']['reason']}"
        text = json.dumps(shown, ensure_ascii=False) if not isinstance(shown, str) else shown
        text = _cell(text)
        lines.append(
            (
                str(row["partition"]),
                str(row["offset"]),
                _cell(row["key"]),
                str(row["timestamp"]),
                _schema_cell(row.get("schema")),
                str(row.get("schema_version", "")),
                text if len(text) <= 80 else text[:77] + "...",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
