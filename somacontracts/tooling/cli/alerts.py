"""``somacontracts alerts``: Prometheus alerting rules for the platform's topics.

Generated from the catalog, with topic names after the environment's overrides
(``TOOL_REQUESTS_TOPIC``, ...): consumer lag above each topic's threshold (500 on
``tool.requests``), offline and under-replicated partitions, dead-letter topics
receiving messages, consumer groups making no progress, and the typed clients' serde
errors and delivery failures. Metric names are kafka-exporter's, the JMX exporter's
(Kafka example configuration) and the typed clients' own (``somacontracts_*``); the
rules file says which. Check the result with ``promtool check rules FILE``.

Exit codes: 0 rules written; 2 bad usage, configuration, or a file that cannot be
written.
"""

from __future__ import annotations

import argparse
from typing import Any

from somacontracts.catalog.environment import load_topic_settings
from somacontracts.tooling.cli.common import add_config, add_output, command_parser, config_of, emit
from somacontracts.tooling.monitoring import render_rules

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "alerts", __doc__)
    parser.add_argument(
        "--format", choices=("prometheus",), default="prometheus", help="rules file format"
    )
    add_config(parser, lock=False)
    add_output(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print or write the rules file."""
    emit(args, render_rules(load_topic_settings(catalog=config_of(args).catalog)))
    return 0
