"""``somacontracts docs --out DIR``: a static site of the contracts, readable offline.

An index with the topic flow (services, topics, services) drawn as an inline SVG, a
search box over contracts and fields, and tables of contracts and topics; a page per
contract (topics and subjects, key field, compatibility level, a table per record and
enum with types, defaults, docs and tags such as PII, every version with the change
report from the one before and its deploy advice, an example message in plain JSON
with its Avro size); a page per catalog topic (producers, consumers and their groups,
partitions, retention, lag alert, environment override; with ``--registry URL``, the
consumer groups registered there as its readers: service, reader version, and whether
each is live when a cluster is given, ``--bootstrap`` or KAFKA_BOOTSTRAP_SERVERS, and
answers). Built from the schema tree
of ``--schemas`` or the configuration (any service's, as ``codegen``), the same bytes
every run (for the same schemas and topic names; the readers change the pages only when
``--registry`` is given), from templates that escape every
text a contract carries; it needs the ``docs`` extra (Jinja2). DIR's pages are
replaced; pages an earlier run wrote there for contracts or topics no longer in the
tree are removed (the run lists what it wrote in DIR/.somacontracts-docs; other files
are never touched).
Only regular files inside DIR, reached without a symbolic link and ending in .html,
.svg, .css, .js or .json, are ever removed: any other entry of the list (an absolute
path, a "..", a link, a folder) is left alone with a warning on stderr. A page that is
a link leading out of DIR stops the run before any file is written.

Exit codes: 0 site written; 2 bad usage, configuration, unreadable schemas, a folder
that cannot be written (or is inside the installed packages), or no Jinja2 (the ``docs``
extra).
"""

from __future__ import annotations

import argparse
import stat
import sys
from pathlib import Path
from typing import Any

from somacontracts.catalog.entries import subject_for_topic
from somacontracts.catalog.environment import Settings, load_topic_settings
from somacontracts.errors import FileWriteError, count
from somacontracts.tooling import sources
from somacontracts.tooling.check.project import catalog_findings
from somacontracts.tooling.cli.common import (
    add_bootstrap,
    add_config,
    add_registry,
    add_schemas,
    command_parser,
    project_files,
    registered_readers,
    warn,
)
from somacontracts.tooling.docs.site import SUFFIXES, SiteReaders, TopicReader, build_site
from somacontracts.tooling.files import check_folder, check_writable, remove_files, replace_text

__all__ = ["register", "run"]

MANIFEST = ".somacontracts-docs"
"""The list of files the last run wrote, one relative path a line."""


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "docs", __doc__)
    parser.add_argument(
        "--out", type=_folder, required=True, metavar="DIR", help="folder of the site"
    )
    add_schemas(parser)
    add_config(parser, lock=False)
    add_registry(parser, help_url="registry URL whose readers the topic pages list (default: none)")
    add_bootstrap(parser, config=False)
    parser.set_defaults(run=run)


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("names no folder")
    return Path(text)


def run(args: argparse.Namespace) -> int:
    """Build the site in memory, check that every file may be written, then write it."""
    config, root, _ = project_files(args)
    tree = sources.load_tree(root)
    for finding in catalog_findings(tree, root, config):
        print(f"somacontracts docs: warning: {finding.message}", file=sys.stderr)
    settings = load_topic_settings(catalog=config.catalog)
    readers = None if args.registry is None else _readers(args, settings)
    files = build_site(tree, config, settings, readers)
    out: Path = args.out
    manifest = out / MANIFEST
    check_folder(out)
    for relative in [*sorted(files), MANIFEST]:
        check_writable(out / relative, folder=out)
    before = _listed(manifest)
    try:
        for folder in sorted({(out / relative).parent for relative in files}):
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FileWriteError(str(out), err.strerror or str(err)) from err
    for relative, text in sorted(files.items()):
        replace_text(out / relative, text, folder=out)
    removed, kept = remove_files(out, sorted(set(before) - set(files)), suffixes=SUFFIXES)
    for entry in kept:
        warn("docs", f"{manifest}: {entry}")
    replace_text(manifest, "".join(f"{relative}\n" for relative in sorted(files)), folder=out)
    pages = sum(1 for relative in files if relative.endswith(".html"))
    gone = f"; removed {count(len(removed), 'stale page')}" if removed else ""
    print(f"wrote {count(pages, 'page')} to {out}{gone}")
    return 0


def _readers(args: argparse.Namespace, settings: Settings) -> SiteReaders:
    """The readers of every catalog topic the registry of ``--registry`` holds."""
    from somacontracts.serde.registry_client import connect

    subjects = [subject_for_topic(settings.topic_name(key)) for key in settings.catalog.topics]
    with connect(url=args.registry, ca_file=args.registry_ca) as client:
        found, unknown = registered_readers(args, client, subjects, "docs")
    by_subject: dict[str, tuple[TopicReader, ...]] = {}
    for reader, liveness in found:
        row = TopicReader(
            group=reader.group,
            service=reader.service,
            version=reader.version,
            live=None if liveness is None else liveness.live,
            why="" if liveness is None else liveness.reason(),
            replaced=reader.replaced,
        )
        by_subject[reader.subject] = (*by_subject.get(reader.subject, ()), row)
    return SiteReaders(by_subject, unknown)


def _listed(manifest: Path) -> list[str]:
    """The files an earlier run wrote, as its manifest lists them; none, with a warning,
    from a manifest that is not UTF-8 text."""
    try:
        if not stat.S_ISREG(manifest.stat().st_mode):
            raise FileWriteError(str(manifest), "is not a regular file")
        text = manifest.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return []
    except OSError as err:
        raise FileWriteError(str(manifest), err.strerror or str(err)) from err
    except UnicodeDecodeError:
        warn("docs", f"{manifest}: is not UTF-8 text; no stale page removed")
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]
