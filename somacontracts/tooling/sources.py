"""Contract schemas on disk: the ``avro/<Contract>/vN.avsc`` tree, canonical form, fingerprints.

A contract's versions live in one folder, one file per version, ``v1.avsc``,
``v2.avsc``, ... without gaps. Each file holds one Avro record schema named after
the folder. The tree ships inside the installed package (``somacontracts/avro``);
in a source checkout the repository's top-level ``avro/`` is used.

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
from collections.abc import Mapping
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
from somacontracts.schema import NamedNode, ParsedSchema, decode, forms, parse
from somacontracts.schema.datacontract import contract_parts
from somacontracts.schema.pyvalues import first_problem

__all__ = [
    "ContractSchemas",
    "SchemaVersion",
    "bundled",
    "bundled_root",
    "contract_path",
    "load_contract",
    "load_contract_parts",
    "load_tree",
    "load_version",
    "lookup",
    "parse_contract_parts",
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
    return {folder.name: load_contract(folder) for folder in folders}


def load_contract(directory: Path) -> ContractSchemas:
    """Load ``directory/v1.avsc`` ... ``vN.avsc``; the versions must have no gaps."""
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
    versions = tuple(
        load_version(found[n], contract=directory.name, version=n) for n in sorted(found)
    )
    return ContractSchemas(name=directory.name, directory=directory, versions=versions)


def load_version(path: Path, *, contract: str, version: int) -> SchemaVersion:
    """Read, check and fingerprint one ``vN.avsc`` file of ``contract``, with the Data
    Contract parts of ``vN.contract.json`` beside it, if there is one."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SchemaLoadError(f"cannot be read: {_reason(err)}", source=source) from err
    parsed = parse_version(text, path=path, contract=contract, version=version)
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


def parse_version(text: str, *, path: Path, contract: str, version: int) -> SchemaVersion:
    """Check and fingerprint the text of version ``version`` of ``contract`` (from ``path``)."""
    source = str(path)
    try:
        schema = decode(text, source=source)
    except InvalidSchemaError as err:
        raise SchemaLoadError(err.reason, source=source) from None
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise SchemaError("a contract schema must be a record", location="/type", source=source)
    parsed = parse(schema, source=source, portable=True)
    if schema["name"].rpartition(".")[2] != contract:
        raise SchemaError(
            f'the record is named "{schema["name"]}" but its folder is {contract}',
            location="/name",
            source=source,
        )
    unheld = first_problem(parsed)
    if unheld is not None:  # valid Avro that a generated class could not hold
        raise SchemaError(unheld[0], location=unheld[1] or "/", source=source)
    try:
        read_by_fastavro = parse_schema(schema)
    except Exception as err:  # fastavro raises several unrelated types for bad schemas.
        raise SchemaError(f"fastavro rejects it: {err}", source=source) from err
    assert isinstance(read_by_fastavro, dict)  # a record schema parses to a dict
    form = forms.canonical_form(parsed)
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
