"""Reading a catalog: the ``topics`` tables of a TOML file, and which file a process uses.

A catalog file holds one table per topic, keyed by the topic's name, and optionally one
per contract::

    [topics."payments.captured"]
    contract = "PaymentCaptured"
    key = "tenant_id"
    partitions = 3

    [contracts.PaymentCaptured]
    description = "A payment the gateway captured."

In a ``pyproject.toml`` the same tables sit under ``[tool.somacontracts]``
(``[tool.somacontracts.topics."payments.captured"]``), or its ``catalog`` key names a
catalog file. :func:`catalog_of_table` reads those tables (pure);
:func:`catalog_of_project` applies the rule every command and client follows to pick the
catalog of a project; :func:`find_catalog` finds the project of a running process
(``SOMACONTRACTS_CATALOG``, else the nearest ``pyproject.toml`` with a
``[tool.somacontracts]`` table, else this package's own catalog). A bad entry is a
:class:`~somacontracts.errors.ConfigurationError` naming the file and the key.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from somacontracts.catalog.entries import Catalog, Contract, Topic
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import ConfigurationError

__all__ = [
    "CATALOG_VARIABLE",
    "PLATFORM_FILE",
    "TOPIC_KEYS",
    "TOPIC_NAME",
    "catalog_of_project",
    "catalog_of_table",
    "find_catalog",
    "parse_duration",
    "read_catalog_file",
]

CATALOG_VARIABLE = "SOMACONTRACTS_CATALOG"
"""Environment variable naming the catalog file (or ``pyproject.toml``) a process uses."""

TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}\Z")
"""A legal Kafka topic name (besides ``.`` and ``..``)."""

TOPIC_KEYS = (
    "contract",
    "key",
    "partitions",
    "retention",
    "default-retention",
    "cleanup-policy",
    "name-env",
    "producers",
    "consumers",
    "lag-alert",
    "every-instance",
    "in-source-document",
    "id",
)
"""The keys of a topic's table."""

_CONTRACT_KEYS = ("description", "compatibility")
_CLEANUP_POLICIES = ("delete", "compact", "compact,delete", "delete,compact")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FIELD_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d)\Z")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_MAX_MS = 2**63 - 1
PLATFORM_FILE = Path(__file__).with_name("platform.toml")
"""This package's own catalog file: the platform's topics."""


def parse_duration(text: object, where: str) -> int:
    """Milliseconds of a duration such as ``7d``, ``36h``, ``90m``, ``45s``, ``500ms``;
    ``infinite`` is Kafka's -1 (kept for ever)."""
    if text == "infinite":
        return -1
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or not 0 < int(match[1]) * _UNIT_MS[match[2]] <= _MAX_MS:
        raise ConfigurationError(
            where,
            f"{text!r} is not a duration: a whole number above 0 with a unit (ms, s, m, h, d), "
            'such as "7d", at most Kafka\'s longest (a long of milliseconds), or "infinite"',
        )
    return int(match[1]) * _UNIT_MS[match[2]]


def catalog_of_table(table: Mapping[str, Any], *, source: str, prefix: str = "") -> Catalog:
    """The catalog of the ``topics`` and ``contracts`` tables of ``table``, read from
    ``source``; ``prefix`` is where those tables sit (``tool.somacontracts.``), for
    messages."""
    topics_table = table.get("topics", {})
    if not isinstance(topics_table, dict):
        raise ConfigurationError(f"{source}: [{prefix}topics]", "must be a table of topics")
    topics: dict[str, Topic] = {}
    names: dict[str, str] = {}
    for name, entry in topics_table.items():
        topic = _topic(name, entry, f'{source}: [{prefix}topics."{name}"]')
        if topic.key in topics:
            raise ConfigurationError(
                f'{source}: [{prefix}topics."{name}"] id',
                f"{topic.key!r} is also the id of topic {topics[topic.key].default_name!r}",
            )
        topics[topic.key] = topic
        names[name] = topic.key
    contracts = _contracts(table, topics, source, prefix)
    legacy = table.get("legacy-names", {})
    if not isinstance(legacy, dict) or any(v not in names for v in legacy.values()):
        raise ConfigurationError(
            f"{source}: [{prefix}legacy-names]", "must map names to topics of the catalog"
        )
    return Catalog(
        topics=MappingProxyType(topics),
        contracts=MappingProxyType(contracts),
        source=source,
        legacy_names=MappingProxyType({k: names[v] for k, v in legacy.items()}),
    )


def _topic(name: str, entry: object, where: str) -> Topic:
    if name in (".", "..") or not TOPIC_NAME.match(name):
        raise ConfigurationError(
            where,
            f"{name!r} is not a legal Kafka topic name "
            "(1-249 characters of A-Z a-z 0-9 . _ -, and not . or ..)",
        )
    if not isinstance(entry, dict):
        raise ConfigurationError(where, "must be a table")
    unknown = sorted(set(entry) - set(TOPIC_KEYS))
    if unknown:
        raise ConfigurationError(
            f"{where} {unknown[0]}", f"is not a topic key; known: {', '.join(TOPIC_KEYS)}"
        )
    if "contract" not in entry:
        raise ConfigurationError(f"{where} contract", "is missing: name the contract it carries")
    if "key" not in entry:
        raise ConfigurationError(
            f"{where} key", "is missing: name the payload field that keys its messages"
        )
    key = _text(entry, "id", where, _IDENTIFIER, re.sub(r"[^A-Za-z0-9_]", "_", name))
    if key[0].isdigit():
        key = f"t_{key}"
    return Topic(
        key=key,
        default_name=name,
        contract=_text(entry, "contract", where, _IDENTIFIER, ""),
        key_field=_text(entry, "key", where, _FIELD_PATH, ""),
        producers=_names(entry, "producers", where),
        consumers=_names(entry, "consumers", where),
        retention_ms=_duration(entry, "retention", where),
        default_retention_ms=_duration(entry, "default-retention", where),
        partitions=_whole(entry, "partitions", where, minimum=1) or 3,
        cleanup_policy=_choice(entry, "cleanup-policy", where, _CLEANUP_POLICIES, "delete"),
        env_var=_text(entry, "name-env", where, _VARIABLE, "") or None,
        lag_alert=_whole(entry, "lag-alert", where, minimum=1),
        every_instance=_flag(entry, "every-instance", where, default=False),
        in_source_document=_flag(entry, "in-source-document", where, default=True),
    )


def _contracts(
    table: Mapping[str, Any], topics: Mapping[str, Topic], source: str, prefix: str
) -> dict[str, Contract]:
    declared = table.get("contracts", {})
    if not isinstance(declared, dict):
        raise ConfigurationError(f"{source}: [{prefix}contracts]", "must be a table of contracts")
    carried: dict[str, list[Topic]] = {}
    for topic in topics.values():
        carried.setdefault(topic.contract, []).append(topic)
    contracts = {}
    for name, entry in declared.items():
        where = f"{source}: [{prefix}contracts.{name}]"
        if name not in carried:
            raise ConfigurationError(where, "no topic of the catalog carries this contract")
        if not isinstance(entry, dict) or set(entry) - set(_CONTRACT_KEYS):
            raise ConfigurationError(where, f"must be a table of {', '.join(_CONTRACT_KEYS)}")
    for name, on in carried.items():
        keys = {topic.key_field for topic in on}
        if len(keys) > 1:
            raise ConfigurationError(
                f'{source}: [{prefix}topics."{on[-1].default_name}"] key',
                f"{on[-1].key_field!r} differs from the key of {on[0].default_name!r} "
                f"({on[0].key_field!r}), which carries {name} too",
            )
        description = declared.get(name, {}).get("description", "")
        if not isinstance(description, str):
            raise ConfigurationError(
                f"{source}: [{prefix}contracts.{name}] description", "must be a string"
            )
        contracts[name] = Contract(
            name=name,
            topics=tuple(topic.key for topic in on),
            key_field=on[0].key_field,
            compatibility=_level(declared.get(name, {}), f"{source}: [{prefix}contracts.{name}]"),
            description=description,
        )
    return contracts


def _level(entry: Mapping[str, Any], where: str) -> CompatibilityLevel | None:
    """The compatibility level a contract's table pins (``compatibility``), if it does."""
    given = entry.get("compatibility")
    if given is None:
        return None
    try:
        return CompatibilityLevel(given)
    except ValueError:
        levels = ", ".join(level.value for level in CompatibilityLevel)
        raise ConfigurationError(
            f"{where} compatibility", f"{given!r} is not a level ({levels})"
        ) from None


def _text(
    entry: Mapping[str, Any], key: str, where: str, pattern: re.Pattern[str], default: str
) -> str:
    if key not in entry:
        return default
    value = entry[key]
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigurationError(f"{where} {key}", f"{value!r} is not a valid {key}")
    return value


def _names(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigurationError(f"{where} {key}", "must be a list of service names")
    return tuple(value)


def _duration(entry: Mapping[str, Any], key: str, where: str) -> int | None:
    return parse_duration(entry[key], f"{where} {key}") if key in entry else None


def _whole(entry: Mapping[str, Any], key: str, where: str, *, minimum: int) -> int | None:
    if key not in entry:
        return None
    value = entry[key]
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= 2**31 - 1:
        raise ConfigurationError(
            f"{where} {key}", f"{value!r} is not a whole number from {minimum} to 2147483647"
        )
    return value


def _choice(
    entry: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...], default: str
) -> str:
    value = entry.get(key, default)
    if value not in choices:
        raise ConfigurationError(f"{where} {key}", f"{value!r} is not one of {', '.join(choices)}")
    return str(value)


def _flag(entry: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{where} {key}", f"{value!r} is not true or false")
    return value


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as err:
        raise ConfigurationError(str(path), f"cannot be read: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigurationError(str(path), f"is not valid TOML: {err}") from None


def read_catalog_file(path: Path) -> Catalog:
    """The catalog of a catalog file (top-level ``topics`` tables), or of a project's
    ``pyproject.toml`` (its ``[tool.somacontracts]`` table, as :func:`catalog_of_project`)."""
    data = _load(path)
    tool = data.get("tool", {})
    if isinstance(tool, dict) and isinstance(tool.get("somacontracts"), dict):
        return catalog_of_project(tool["somacontracts"], path)
    return catalog_of_table(data, source=str(path))


def catalog_of_project(tool: Mapping[str, Any] | None, path: Path | None) -> Catalog:
    """The catalog of a project whose ``[tool.somacontracts]`` table is ``tool``, read from
    ``path`` (None: no configuration): the file its ``catalog`` key names, else its
    ``topics`` tables, else (it declares neither) this package's own catalog."""
    if tool is None or path is None:
        return platform_catalog()
    if "catalog" in tool:
        named = tool["catalog"]
        if not isinstance(named, str) or not named:
            raise ConfigurationError(f"{path}: [tool.somacontracts] catalog", "must be a path")
        return read_catalog_file(path.parent / named)
    if "topics" in tool or "contracts" in tool:
        return catalog_of_table(tool, source=str(path), prefix="tool.somacontracts.")
    return platform_catalog()


@functools.cache
def platform_catalog() -> Catalog:
    """This package's own catalog: the platform's topics (``catalog/platform.toml``), read
    once."""
    return catalog_of_table(_load(PLATFORM_FILE), source="somacontracts/catalog/platform.toml")


def find_catalog(environ: Mapping[str, str] | None = None, start: Path | None = None) -> Catalog:
    """The catalog a process uses: the file ``SOMACONTRACTS_CATALOG`` names (a catalog
    file, or a ``pyproject.toml``), else that of the nearest ``pyproject.toml`` with a
    ``[tool.somacontracts]`` table from ``start`` (default: the current folder) up, else
    this package's own."""
    env = os.environ if environ is None else environ
    named = env.get(CATALOG_VARIABLE, "").strip()
    if named:
        return read_catalog_file(Path(named))
    folder = Path.cwd() if start is None else start
    for candidate in (folder / "pyproject.toml", *(p / "pyproject.toml" for p in folder.parents)):
        if candidate.is_file():
            tool = _load(candidate).get("tool", {}).get("somacontracts")
            if isinstance(tool, dict):
                return catalog_of_project(tool, candidate)
    return platform_catalog()
