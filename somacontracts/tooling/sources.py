"""Contract schemas on disk: the ``avro/<Contract>/vN.avsc`` tree, canonical form, fingerprints.

A contract's versions live in one folder, one file per version, ``v1.avsc``,
``v2.avsc``, ... without gaps. Each file holds one Avro record schema named after
the folder. The tree ships inside the installed package (``somacontracts/avro``);
in a source checkout the repository's top-level ``avro/`` is used.

Shared types. A file may use, by its full name, a named type that another file of the
tree defines (``"items": "payments.contracts.LineItem"``): the parsed schema then holds
it as a reference (:attr:`ParsedSchema.references`), as a registry's schema references
do. Every file defining a type that some file uses this way must define it alike (as a
registry stores it), so that the name means one type in the whole tree; a shared type
that must change takes a new name. Files are parsed until no more resolve, so the order
of folders does not matter.

Every problem found while loading is raised as a
:class:`~somacontracts.errors.SchemaLoadError` (a file that cannot be read, a misnamed
file, a gap) or :class:`~somacontracts.errors.SchemaError` (an invalid schema, or one a
generated class could not hold: :mod:`somacontracts.schema.pyvalues`), naming the file
and, where it applies, the JSON pointer inside it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastavro.schema import parse_schema

from somacontracts.errors import (
    InvalidSchemaError,
    SchemaError,
    SchemaLoadError,
    UnknownContractError,
)
from somacontracts.schema import NamedNode, ParsedSchema, decode, forms, parse, standalone
from somacontracts.schema.datacontract import contract_parts
from somacontracts.schema.pyvalues import first_problem

__all__ = [
    "ContractSchemas",
    "SchemaVersion",
    "VersionFile",
    "bundled",
    "bundled_root",
    "contract_path",
    "load_contract",
    "load_contract_parts",
    "load_tree",
    "load_version",
    "lookup",
    "parse_contract_parts",
    "parse_tree",
    "parse_version",
]

_VERSION_FILE = re.compile(r"v([1-9][0-9]*)\.avsc\Z")
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The package's folder, where the wheel puts the ``avro`` tree."""


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """One released version of a contract's schema, as read from ``vN.avsc``."""

    contract: str
    version: int
    path: Path
    schema: dict[str, Any]
    """The schema JSON exactly as written in the file."""
    parsed: ParsedSchema
    """The schema parsed into the one schema model (:mod:`somacontracts.schema`)."""
    fastavro: dict[str, Any]
    """The schema as fastavro's ``parse_schema`` returns it, ready for its readers and writers."""
    canonical_form: str
    """Avro Parsing Canonical Form of the schema."""
    fingerprint: str
    """SHA-256 of the canonical form, as 64 hex digits."""
    metadata: Any = None
    """The Data Contract ``metadata`` of ``vN.contract.json`` beside the schema, if any."""
    rule_set: Any = None
    """The Data Contract ``ruleSet`` of ``vN.contract.json`` beside the schema, if any."""

    @property
    def full_name(self) -> str:
        """The record's full name, for example ``somastack.contracts.ToolInvocation``."""
        root = self.parsed.root
        assert isinstance(root, NamedNode)  # a contract schema is a record
        return root.full_name

    @property
    def whole(self) -> Any:
        """The schema JSON with the shared types it uses written out where first used (the
        file's JSON when it uses none): what parses, and reads, on its own."""
        return standalone(self.parsed) if self.parsed.references else self.schema

    @property
    def references(self) -> dict[str, NamedNode]:
        """The shared types this version uses (defined in other files), by full name."""
        return {name: self.parsed.named[name] for name in sorted(self.parsed.references)}


@dataclass(frozen=True, slots=True)
class ContractSchemas:
    """All versions of one contract, oldest first."""

    name: str
    directory: Path
    versions: tuple[SchemaVersion, ...]

    @property
    def latest(self) -> SchemaVersion:
        """The newest version."""
        return self.versions[-1]

    def version(self, number: int) -> SchemaVersion:
        """Version ``number`` (1-based); raise :class:`SchemaLoadError` if there is none."""
        if 1 <= number <= len(self.versions):
            return self.versions[number - 1]
        raise SchemaLoadError(
            f"there is no v{number}.avsc (versions: v1 to v{len(self.versions)})",
            source=str(self.directory),
        )


def bundled_root() -> Path:
    """The ``avro`` tree of this installation: inside the package, else the checkout's."""
    packaged = _PACKAGE_DIR / "avro"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "avro"


@functools.cache
def bundled() -> Mapping[str, ContractSchemas]:
    """Every contract of the installed package, loaded once per process."""
    return load_tree(bundled_root())


def load_tree(root: Path) -> dict[str, ContractSchemas]:
    """Load every contract folder below ``root``, keyed and sorted by contract name."""
    if not root.is_dir():
        raise SchemaLoadError("is not a folder of contract schemas", source=str(root))
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    return _load(folders)


def load_contract(directory: Path) -> ContractSchemas:
    """Load ``directory/v1.avsc`` ... ``vN.avsc`` (the versions must have no gaps), using
    no type of another folder."""
    return _load([directory])[directory.name]


def _load(folders: Sequence[Path]) -> dict[str, ContractSchemas]:
    listed = {folder.name: _version_files(folder) for folder in folders}
    files = [
        VersionFile(name, number, path, _read(path))
        for name, numbered in listed.items()
        for number, path in numbered
    ]
    parsed = parse_tree(files)
    contracts = {}
    for folder in folders:
        versions = []
        for number, path in listed[folder.name]:
            version = parsed[folder.name, number]
            beside = contract_path(path)
            if beside.exists():
                metadata, rule_set = load_contract_parts(beside)
                version = dataclasses.replace(version, metadata=metadata, rule_set=rule_set)
            versions.append(version)
        contracts[folder.name] = ContractSchemas(folder.name, folder, tuple(versions))
    return contracts


def _version_files(directory: Path) -> list[tuple[int, Path]]:
    """``directory``'s ``vN.avsc`` files by number; refuse gaps, misnamed files and
    ``vN.contract.json`` files without their schema."""
    if not directory.is_dir():
        raise SchemaLoadError("contract folder is missing", source=str(directory))
    found: dict[int, Path] = {}
    parts: list[Path] = []
    for path in sorted(directory.iterdir()):
        if path.name.endswith(".contract.json"):
            parts.append(path)
        if path.suffix != ".avsc":
            continue
        match = _VERSION_FILE.match(path.name)
        if not match:
            raise SchemaLoadError("is not named vN.avsc (v1.avsc, v2.avsc, ...)", source=str(path))
        found[int(match.group(1))] = path
    if not found:
        raise SchemaLoadError("holds no v1.avsc", source=str(directory))
    missing = [n for n in range(1, max(found) + 1) if n not in found]
    if missing:
        names = ", ".join(f"v{n}.avsc" for n in missing)
        raise SchemaLoadError(
            f"{names} missing: versions must run from v1 without gaps", source=str(directory)
        )
    for path in parts:
        if path.name.removesuffix(".contract.json") not in {p.stem for p in found.values()}:
            raise SchemaLoadError(
                "belongs to no schema: a vN.contract.json holds the Data Contract parts of "
                "vN.avsc beside it",
                source=str(path),
            )
    return sorted(found.items())


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SchemaLoadError(f"cannot be read: {_reason(err)}", source=str(path)) from err


@dataclass(frozen=True, slots=True)
class VersionFile:
    """The text of one ``vN.avsc`` file of a tree, not parsed yet."""

    contract: str
    version: int
    path: Path
    text: str


def parse_tree(files: Sequence[VersionFile]) -> dict[tuple[str, int], SchemaVersion]:
    """Parse the version files of one tree, each using the types the others define
    (without Data Contract parts); raise the first problem of a file that does not parse."""
    shared: dict[str, NamedNode] = {}
    definers: dict[str, list[SchemaVersion]] = {}
    done: dict[tuple[str, int], SchemaVersion] = {}
    pending = list(files)
    while pending:
        problems: list[SchemaError] = []
        for file in pending:
            try:
                version = parse_version(
                    file.text,
                    path=file.path,
                    contract=file.contract,
                    version=file.version,
                    shared=shared,
                )
            except SchemaLoadError:
                raise
            except SchemaError as err:  # perhaps a type a file not parsed yet defines
                problems.append(err)
                continue
            done[file.contract, file.version] = version
            for node in version.parsed.defined():
                shared.setdefault(node.full_name, node)
                definers.setdefault(node.full_name, []).append(version)
        if len(problems) == len(pending):
            raise _stuck(problems[0], pending)
        pending = [f for f in pending if (f.contract, f.version) not in done]
    for version in done.values():
        for name in sorted(version.parsed.references):
            _check_one_definition(name, version, definers[name])
    return done


_UNDEFINED = re.compile(r'type "([^"]+)" is not defined')


def _stuck(problem: SchemaError, pending: Sequence[VersionFile]) -> SchemaError:
    """The error of files that no longer resolve: ``problem``, unless the type it misses is
    defined in a file that is stuck too, which then uses this one's types in turn."""
    missing = _UNDEFINED.search(problem.reason)
    if missing is None:
        return problem
    name = missing[1]
    for file in pending:
        if str(file.path) != problem.source and name in _defined_names(file.text):
            return SchemaError(
                f"{problem.reason}: {file.path} defines it, but uses types of this file in turn; "
                "types that use each other must be defined in one file (a registry holds "
                "shared types as references, each registered before the schemas using it)",
                location=problem.location,
                source=problem.source,
            )
    return problem


def _defined_names(text: str) -> set[str]:
    """The full names of the named types a schema's text defines (best effort: for the
    message of a file that does not parse)."""
    try:
        schema = decode(text)
    except (InvalidSchemaError, ValueError):
        return set()
    names: set[str] = set()

    def walk(node: Any, namespace: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, namespace)
        elif isinstance(node, dict):
            inner = namespace
            if node.get("type") in ("record", "error", "enum", "fixed") and isinstance(
                node.get("name"), str
            ):
                name = node["name"]
                inner = node.get("namespace", namespace) if "." not in name else ""
                inner = inner or ""
                full = name if "." in name or not inner else f"{inner}.{name}"
                names.add(full)
                inner = full.rpartition(".")[0]
            for key in ("type", "fields", "items", "values"):
                if key in node:
                    walk(node[key], inner)

    walk(schema, "")
    return names


def _check_one_definition(name: str, user: SchemaVersion, definers: list[SchemaVersion]) -> None:
    """Refuse a shared type that two files define differently: the name must mean one type."""
    first = definers[0]
    text = forms.named_text(first.parsed.named[name])
    for other in definers[1:]:
        if forms.named_text(other.parsed.named[name]) != text:
            raise SchemaError(
                f'uses the type "{name}", which {first.path} and {other.path} define '
                "differently; a type other files use must be defined alike everywhere: "
                "give the changed type a new name",
                source=str(user.path),
            )


def load_version(path: Path, *, contract: str, version: int) -> SchemaVersion:
    """Read, check and fingerprint one ``vN.avsc`` file of ``contract`` (using no type of
    another file), with the Data Contract parts of ``vN.contract.json`` beside it, if
    there is one."""
    parsed = parse_version(_read(path), path=path, contract=contract, version=version)
    beside = contract_path(path)
    if not beside.exists():
        return parsed
    metadata, rule_set = load_contract_parts(beside)
    return dataclasses.replace(parsed, metadata=metadata, rule_set=rule_set)


def contract_path(schema_path: Path) -> Path:
    """Where the Data Contract parts of ``vN.avsc`` live: ``vN.contract.json`` beside it."""
    return schema_path.with_name(schema_path.stem + ".contract.json")


def load_contract_parts(path: Path) -> tuple[Any, Any]:
    """The checked ``metadata`` and ``ruleSet`` of a ``vN.contract.json`` file."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SchemaLoadError(f"cannot be read: {_reason(err)}", source=source) from err
    return parse_contract_parts(text, source=source)


def parse_contract_parts(text: str, *, source: str) -> tuple[Any, Any]:
    """The checked ``metadata`` and ``ruleSet`` of the text of a ``vN.contract.json``."""
    try:
        document = decode(text, source=source)
    except InvalidSchemaError as err:
        raise SchemaLoadError(err.reason, source=source) from None
    if not isinstance(document, dict):
        raise SchemaLoadError('must be an object with "metadata" and "ruleSet"', source=source)
    unknown = sorted(set(document) - {"metadata", "ruleSet"})
    if unknown:
        raise SchemaLoadError(f"has an unknown key {unknown[0]!r}", source=source)
    try:
        return contract_parts(document)
    except InvalidSchemaError as err:
        raise SchemaLoadError(err.reason, source=source) from None


def parse_version(
    text: str,
    *,
    path: Path,
    contract: str,
    version: int,
    shared: Mapping[str, NamedNode] | None = None,
) -> SchemaVersion:
    """Check and fingerprint the text of version ``version`` of ``contract`` (from
    ``path``), which may use the named types of ``shared`` (by full name)."""
    source = str(path)
    try:
        schema = decode(text, source=source)
    except InvalidSchemaError as err:
        raise SchemaLoadError(err.reason, source=source) from None
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise SchemaError("a contract schema must be a record", location="/type", source=source)
    parsed = parse(schema, source=source, shared=shared, portable=True)
    if schema["name"].rpartition(".")[2] != contract:
        raise SchemaError(
            f'the record is named "{schema["name"]}" but its folder is {contract}',
            location="/name",
            source=source,
        )
    unheld = first_problem(parsed)
    if unheld is not None:  # valid Avro that a generated class could not hold
        raise SchemaError(unheld[0], location=unheld[1] or "/", source=source)
    # With shared types, what readers see is the schema with them written out.
    whole = standalone(parsed) if parsed.references else schema
    try:
        read_by_fastavro = parse_schema(whole)
    except Exception as err:  # fastavro raises several unrelated types for bad schemas.
        raise SchemaError(f"fastavro rejects it: {err}", source=source) from err
    assert isinstance(read_by_fastavro, dict)  # a record schema parses to a dict
    form = forms.canonical_form(whole)
    return SchemaVersion(
        contract=contract,
        version=version,
        path=path,
        schema=schema,
        parsed=parsed,
        fastavro=read_by_fastavro,
        canonical_form=form,
        fingerprint=hashlib.sha256(form.encode("utf-8")).hexdigest(),
    )


def lookup(contracts: Mapping[str, ContractSchemas], name: str) -> ContractSchemas:
    """The contract called ``name``; raise :class:`UnknownContractError` if absent."""
    try:
        return contracts[name]
    except KeyError:
        raise UnknownContractError(name, tuple(contracts)) from None


def _reason(err: Exception) -> str:
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return str(err)
