"""``somacontracts registry serve``: run the local schema registry until interrupted.

Serves Confluent Schema Registry's REST API for Avro on HOST:PORT, with its state in
the SQLite file given by ``--db`` (in memory, lost on exit, without it). Prints the
URL once listening; SIGINT (Ctrl-C) or SIGTERM stops it cleanly, exit code 0. A
database that is corrupt or used by another registry, or a port already taken, stops
it at once with one line on stderr, exit code 2; so does a missing uvicorn (install
``somacontracts[local]``). Its limits (connections, deadlines, sizes) are in the
README's "The local registry".

Set ``SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO=user:password`` to require HTTP basic auth.

It answers requests addressed to localhost, 127.0.0.1, [::1] or the --host address,
and refuses others (403): a web page that points its own name at this machine (DNS
rebinding) cannot read or write it. Behind a proxy, or reached from other machines by
a name or address, give that name with --allowed-host. Requests from web pages are
refused unless the page is on an origin given with --allowed-origin, which also gets
CORS answers (a browser UI on http://localhost:3000, say).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from somacontracts.errors import ConfigurationError
from somacontracts.tooling.cli.common import command_parser
from somacontracts.tooling.registry.local import serve
from somacontracts.tooling.registry.origins import host_name, origin_name

__all__ = ["register", "run"]

_AUTH_VARIABLE = "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"


def register(sub: Any) -> None:
    """Add the ``registry`` subcommand (with ``serve``) to the parser's subcommands."""
    parser = command_parser(sub, "registry", __doc__)
    actions = parser.add_subparsers(dest="registry_command", required=True, metavar="ACTION")
    serve_parser = actions.add_parser(
        "serve", help="serve the registry until interrupted", description=__doc__
    )
    serve_parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve_parser.add_argument(
        "--port", type=int, default=8081, help="port to listen on (default: 8081; 0 picks one)"
    )
    serve_parser.add_argument(
        "--db", type=Path, metavar="PATH", help="SQLite file holding the state (default: memory)"
    )
    serve_parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests addressed to NAME (a proxy's or network name; repeatable)",
    )
    serve_parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="accept requests from web pages of ORIGIN, such as http://localhost:3000, "
        "with CORS answers (repeatable)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; return 0 once stopped."""
    if not 0 <= args.port <= 65535:
        raise ConfigurationError("--port", f"{args.port} is not a port number (0 to 65535)")
    basic_auth = _basic_auth(os.environ.get(_AUTH_VARIABLE))
    hosts = [host_name(name, "--allowed-host") for name in args.allowed_host]
    origins = [origin_name(origin, "--allowed-origin") for origin in args.allowed_origin]

    def ready(url: str) -> None:
        where = str(args.db) if args.db is not None else "memory"
        print(f"schema registry listening on {url} (state: {where}); Ctrl-C stops it", flush=True)

    serve(
        args.host,
        args.port,
        args.db,
        basic_auth=basic_auth,
        allowed_hosts=hosts,
        allowed_origins=origins,
        on_ready=ready,
    )
    print("schema registry stopped", file=sys.stderr)
    return 0


def _basic_auth(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise ConfigurationError(_AUTH_VARIABLE, "must be user:password")
    return user, password
