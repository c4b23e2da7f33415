"""Codegen fuzzed: valid Avro contract schemas of every kind, drawn by hypothesis, and the
property every class generated from them must hold.

:func:`contract_schemas` draws a contract's record schema: every primitive type, every
logical type (those fastavro converts and those it leaves to the base type), records,
enums and fixed types defined inline and referred to again, recursion through
nullable unions, unions of everything Avro allows (``["null"]`` included), defaults of
every type, docs, aliases, custom attributes, and names that are Python keywords,
builtins, names the generated code uses itself, or mixedCase; now and then a record of
300 fields.

:class:`Batch` renders drawn schemas into packages, imports them and checks, for each:

* the schema is valid (``validate``) and codegen renders it;
* every record class has ``to_avro``, ``from_avro``, ``write_avro`` and ``read_avro``, and
  no field shadows them;
* objects drawn from the generated classes: ``write_avro`` writes what fastavro writes of
  ``to_avro()``; ``read_avro`` of those bytes, and ``from_avro`` of fastavro's datum of
  them, give the object back; so does ``from_avro(obj.to_avro())``;
* datums drawn from the schema, written by fastavro: ``read_avro`` of fastavro's bytes is
  ``from_avro`` of fastavro's datum of them; the object writes the same bytes back (for
  datums in the plain form fastavro writes), or bytes fastavro writes of its
  ``to_avro()`` that read back as the object (datums naming their union branches);

and :meth:`Batch.lint` runs ruff and ``mypy --strict`` over every generated module.
Failures are counted by kind (:data:`KINDS`); ``tools/fuzz_codegen.py`` prints them for
thousands of schemas, ``tests/codegen/test_fuzz.py`` runs a bounded number in CI.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from hypothesis import strategies as st

from somacontracts import runtime
from somacontracts.errors import ContractError
from somacontracts.schema import Node, RecordNode, UnionNode, parse
from somacontracts.tooling import sources
from somacontracts.tooling.codegen import names, render_tree
from somacontracts.tooling.codegen.declarations import VersionModel, build_version
from somacontracts.tooling.codegen.pysource import DEFAULT_LINE_LENGTH
from somacontracts.tooling.codegen.writer import write_modules
from somacontracts.tooling.testing import datums, json_values
from tests.codegen.objects import instances, same

__all__ = [
    "KINDS",
    "LINT_IGNORE",
    "LINT_SELECT",
    "Batch",
    "Failure",
    "check_object",
    "contract_schemas",
    "tools",
]

KINDS = (
    "refused",
    "import",
    "members",
    "objects",
    "datums",
    "ruff",
    "format",
    "mypy",
)
"""Kinds of failure: a valid schema refused by ``validate`` or codegen; a generated module
that does not import; a record class without its four methods, or with one shadowed; an
object, or a datum, that breaks the round trips or the bytes; ruff's rules, its
formatter, mypy."""

LINT_SELECT = "E,F,W,I,N,UP,B,A,C4,SIM,RET,RUF,PT,ANN,PIE,PL,FURB,PERF,PYI,Q,ISC,COM"
"""The rules generated code passes: ruff's defaults and the repository's, and more."""
LINT_IGNORE = "ANN401,COM812,ISC001,PERF401,PLR0904,PLR0911,PLR0912,PLR0913,PLR0915,PLR2004"
"""... but for ``typing.Any`` (datums are untyped), the two the formatter conflicts with,
and size, complexity and magic-number limits."""

# -- schemas ---------------------------------------------------------------------------

_PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
_TRICKY = (
    # keywords and soft keywords
    "class", "from", "None", "True", "False", "async", "await", "lambda", "match", "case", "_",
    # builtins, and the modules generated code imports
    "list", "dict", "str", "bool", "tuple", "bytearray", "object", "type", "id", "print",
    "datetime", "uuid", "decimal", "typing", "dataclasses", "enum", "collections", "_rt",
    # what generated classes define, and what their bodies use
    "to_avro", "from_avro", "write_avro", "read_avro", "SCHEMA", "SCHEMA_VERSION", "SUBJECT",
    "SUBJECTS", "FINGERPRINT", "FULL_NAME", "self", "cls", "datum", "out", "reader", "value",
    "items", "count", "key", "index", "name", "body", "v0", "v1", "k0",
    # names Python or enum treat specially, ambiguous, mixedCase
    "__x", "__init__", "__slots__", "_x", "_missing_", "_ignore_", "_value_", "l", "O", "I",
    "userId", "ID", "x_", "a1", "upper", "format", "mro", "values",
    "a_field_name_of_thirty_letters",
)  # fmt: skip
_identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)
_names = st.one_of(st.sampled_from(_TRICKY), _identifiers)
# not a complex type's name either: valid Avro, but fastavro cannot write such a type in a
# union, and lint refuses it (TYPE_NAME_KEYWORD)
_type_names = _names.filter(
    lambda n: n not in _PRIMITIVES and n not in {"record", "enum", "fixed", "array", "map", "error"}
)
_namespaces = st.one_of(
    st.just(""),
    st.lists(_identifiers, min_size=1, max_size=3).map(".".join),
    st.sampled_from(("corpus", "com.example.events", "class.from")),
)
_docs = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ('Quotes " and \' and """ and a backslash \\', "caf\u00e9 \U0001f600", "a" * 150)
    ),
)
_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)
_DAYS = (-719_162, 2_932_896)  # 0001-01-01 to 9999-12-31, in days from the epoch
_MICROS = (-62_135_596_800_000_000, 253_402_300_799_999_999)
_DAY_MICROS = 86_400_000_000

# (base type, logical type) -> the default values Python can hold, as JSON
_LOGICAL_DEFAULTS: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    ("int", "date"): st.integers(*_DAYS),
    ("int", "time-millis"): st.integers(0, _DAY_MICROS // 1000 - 1),
    ("long", "time-micros"): st.integers(0, _DAY_MICROS - 1),
    ("long", "timestamp-millis"): st.integers(_MICROS[0] // 1000 + 1, _MICROS[1] // 1000),
    ("long", "timestamp-micros"): st.integers(*_MICROS),
    ("long", "local-timestamp-millis"): st.integers(_MICROS[0] // 1000 + 1, _MICROS[1] // 1000),
    ("long", "local-timestamp-micros"): st.integers(*_MICROS),
    ("string", "uuid"): st.uuids().map(str),
    ("string", "json"): json_values.map(lambda v: json.dumps(v, indent=1)),
}
_LOGICAL = {
    "int": ("date", "time-millis", "x-custom"),
    "long": (
        "timestamp-millis",
        "timestamp-micros",
        "local-timestamp-millis",
        "local-timestamp-micros",
        "time-micros",
        "timestamp-nanos",
        "local-timestamp-nanos",
    ),
    "bytes": ("decimal", "big-decimal"),
    "string": ("uuid", "json", "x-custom"),
}


class _Schema:
    """One drawn contract schema: the named types defined so far."""

    def __init__(self, draw: st.DrawFn, *, wide: bool) -> None:
        self.draw = draw
        self.wide = wide
        self.defined: list[tuple[str, str]] = []  # (full name, kind), in order
        self.open: list[str] = []  # records whose fields are being drawn
        self.recursive = 0

    def unique(self, name: str, namespace: str) -> tuple[str, str]:
        """``name`` (and its namespace), renamed if its full name is taken."""
        taken = {full for full, _ in self.defined}
        candidate, counter = name, 2
        while (f"{namespace}.{candidate}" if namespace else candidate) in taken:
            candidate, counter = f"{name}{counter}", counter + 1
        return candidate, (f"{namespace}.{candidate}" if namespace else candidate)

    def root(self, contract: str) -> dict[str, Any]:
        namespace = self.draw(_namespaces)
        return self.record(contract, namespace, 0, root=True)

    def named_header(self, kind: str, name: str, namespace: str, parent: str) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": kind, "name": name}
        if namespace != parent:
            schema["namespace"] = namespace
        if self.draw(st.integers(0, 3)) == 0:
            schema["doc"] = self.draw(_docs)
        if self.draw(st.integers(0, 7)) == 0:
            schema["aliases"] = [f"Old{name}"]
        return schema

    def record(
        self, name: str, namespace: str, depth: int, *, root: bool = False
    ) -> dict[str, Any]:
        short, full = (name, f"{namespace}.{name}" if namespace else name)
        if not root:
            short, full = self.unique(name, namespace)
        schema = self.named_header("record", short, namespace, "" if root else "\0")
        if root and namespace:
            schema["namespace"] = namespace
        self.defined.append((full, "record"))
        self.open.append(full)
        if self.wide and root and self.draw(st.integers(0, 15)) == 0:
            count = 300
        else:
            count = self.draw(st.integers(0 if depth else 1, 6))
        field_names = self.draw(st.lists(_names, min_size=count, max_size=count, unique=True))
        fields = []
        for field_name in field_names:
            field: dict[str, Any] = {"name": field_name}
            field["type"] = (
                self.draw(st.sampled_from(_PRIMITIVES[1:]))
                if count > 50
                else self.type(depth + 1, namespace)
            )
            extra = self.draw(st.integers(0, 9))
            if extra == 0:
                field["doc"] = self.draw(_docs)
            elif extra == 1:
                field["order"] = self.draw(st.sampled_from(("ascending", "descending", "ignore")))
            elif extra == 2:
                field["x-custom"] = {"tags": ["PII"]}
            fields.append(field)
        schema["fields"] = fields
        self.open.pop()
        return schema

    def type(self, depth: int, namespace: str, *, in_union: bool = False) -> Any:
        choices = ["primitive", "logical", "reference"]
        if depth < 4:
            choices += ["record", "enum", "fixed", "array", "map"]
            if not in_union:
                choices += ["union", "union"]
        choice = self.draw(st.sampled_from(choices))
        if choice == "reference":
            complete = [full for full, _ in self.defined if full not in self.open]
            usable = [f for f in complete if "." in f or not namespace]
            if usable:
                return self.draw(st.sampled_from(usable))
            choice = "primitive"
        if choice == "primitive":
            return self.draw(st.sampled_from(_PRIMITIVES[1:]))
        if choice == "logical":
            return self.logical(self.draw(st.sampled_from(sorted(_LOGICAL))), json_ok=not in_union)
        if choice in ("record", "enum", "fixed"):
            return self.named(choice, depth, namespace)
        if choice == "array":
            return {"type": "array", "items": self.type(depth + 1, namespace)}
        if choice == "map":
            return {"type": "map", "values": self.type(depth + 1, namespace)}
        return self.union(depth, namespace)

    def logical(self, base: str, *, json_ok: bool = True) -> Any:
        options = [lt for lt in _LOGICAL[base] if json_ok or lt != "json"]
        logical = self.draw(st.sampled_from(options))
        schema: dict[str, Any] = {"type": base, "logicalType": logical}
        if logical in ("decimal", "big-decimal") and base == "bytes":
            precision = self.draw(st.integers(1, 40))
            schema["precision"] = precision
            schema["scale"] = self.draw(st.integers(0, precision))
        return schema

    def named(self, kind: str, depth: int, namespace: str) -> Any:
        own = self.draw(st.one_of(st.just(namespace), _namespaces))
        name = self.draw(_type_names)
        if kind == "record":
            return self.record(name, own, depth)
        short, full = self.unique(name, own)
        schema = self.named_header(kind, short, own, namespace)
        self.defined.append((full, kind))
        if kind == "enum":
            symbols = self.draw(st.lists(_names, min_size=1, max_size=6, unique=True))
            schema["symbols"] = symbols
            if self.draw(st.booleans()):
                schema["default"] = self.draw(st.sampled_from(symbols))
            return schema
        logical = self.draw(st.sampled_from((None, None, "decimal", "uuid", "duration")))
        if logical == "uuid":
            schema.update(size=16, logicalType="uuid")
        elif logical == "duration":
            schema.update(size=12, logicalType="duration")
        elif logical == "decimal":
            size = self.draw(st.integers(1, 16))
            most = len(str(2 ** (8 * size - 1) - 1)) - 1
            precision = self.draw(st.integers(1, most)) if most else 0
            if not precision:
                schema["size"] = size
                return schema
            scale = self.draw(st.integers(0, precision))
            schema.update(size=size, logicalType="decimal", precision=precision, scale=scale)
        else:
            schema["size"] = self.draw(st.integers(0, 20))
        return schema

    def union(self, depth: int, namespace: str) -> list[Any]:
        """A union: each type at most once, free-form JSON only beside null."""
        keys = self.draw(
            st.lists(
                st.sampled_from((*_PRIMITIVES, "array", "map", "named", "named", "recursive")),
                max_size=7,
            )
        )
        branches: list[Any] = []
        for key in keys:
            branch: Any
            defined = len(self.defined)
            if key == "named":
                branch = self.type(depth + 1, namespace, in_union=True)
            elif key == "recursive":
                target = self.draw(st.sampled_from(self.open))
                if "null" not in branches or self.recursive >= 2:
                    continue
                if "." not in target and namespace:
                    continue
                self.recursive += 1
                branch = target
            elif key == "array":
                branch = {"type": "array", "items": self.type(depth + 1, namespace)}
            elif key == "map":
                branch = {"type": "map", "values": self.type(depth + 1, namespace)}
            elif key in _LOGICAL and self.draw(st.booleans()):
                branch = self.logical(key, json_ok=False)
            else:
                branch = key
            if _key(branch, namespace) not in {_key(b, namespace) for b in branches}:
                branches.append(branch)
            else:  # dropped, with the types it defined
                del self.defined[defined:]
        if not branches:
            return ["null"]
        if {_key(b) for b in branches} <= {"null", "string"} and self.draw(st.booleans()):
            # free-form JSON, alone or beside null
            json_branch = {"type": "string", "logicalType": "json"}
            return [json_branch if _key(b) == "string" else b for b in branches]
        return branches


def _key(branch: Any, namespace: str = "") -> str:
    """What makes a union branch unique: its type name, or a named type's full name."""
    if isinstance(branch, str):
        return branch
    if branch["type"] in ("record", "enum", "fixed"):
        name, inner = str(branch["name"]), branch.get("namespace", namespace)
        return f"{inner}.{name}" if inner and "." not in name else name
    return str(branch["type"])


@st.composite
def contract_schemas(draw: st.DrawFn, contract: str = "Fuzz", *, wide: bool = True) -> Any:
    """A valid record schema of the contract ``contract``, with defaults where drawn."""
    schema = _Schema(draw, wide=wide).root(contract)
    parsed = parse(schema, portable=True)
    records = [n for n in parsed.named.values() if isinstance(n, RecordNode)]
    for record in records:
        enclosing = [r for r in records if record.pointer.startswith(r.pointer)]
        for field in record.fields:
            if draw(st.integers(0, 2)) == 0:
                continue
            value = _default(field.node, frozenset(r.full_name for r in enclosing), 0)
            if value is not None:
                field.json["default"] = draw(value)
    return schema


def _default(node: Node, enclosing: frozenset[str], depth: int) -> st.SearchStrategy[Any] | None:
    """JSON defaults of ``node`` that Python holds, or None where there is none to give."""
    if depth > 6:
        return None
    if isinstance(node, UnionNode):
        return _default(node.branches[0], enclosing, depth) if node.branches else None
    if isinstance(node, RecordNode):
        if node.full_name in enclosing:
            return None
        parts = {}
        for field in node.fields:
            part = _default(field.node, enclosing, depth + 1)
            if part is None:
                return None
            parts[field.name] = part
        return st.fixed_dictionaries(parts)
    kind, logical = node.kind, node.logical_type or ""
    if kind == "enum":
        return st.sampled_from(node.json["symbols"])
    if kind in ("array", "map"):
        inner = _default(node.items if kind == "array" else node.values, enclosing, depth + 1)  # type: ignore[attr-defined]
        if inner is None:
            return st.just([] if kind == "array" else {})
        if kind == "array":
            return st.lists(inner, max_size=2)
        return st.dictionaries(st.text(max_size=4), inner, max_size=2)
    if kind == "fixed":
        size = node.json["size"]
        if logical == "decimal":
            precision = node.props["precision"]
            bound = min(10**precision - 1, 2 ** (8 * size - 1) - 1)
            return st.integers(-bound, bound).map(
                lambda n: _latin1(n.to_bytes(size, "big", signed=True))
            )
        return st.binary(min_size=size, max_size=size).map(_latin1)
    if (kind, logical) in _LOGICAL_DEFAULTS:
        return _LOGICAL_DEFAULTS[kind, logical]
    if kind == "bytes" and logical == "decimal":
        precision = node.props["precision"]
        return st.integers(-(10**precision) + 1, 10**precision - 1).map(
            lambda n: _latin1(n.to_bytes((abs(n).bit_length() + 8) // 8, "big", signed=True))
        )
    simple: dict[str, st.SearchStrategy[Any]] = {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.integers(*_INT_RANGE),
        "long": st.integers(*_LONG_RANGE),
        "float": st.one_of(
            st.floats(width=32, allow_nan=False, allow_infinity=False),
            st.sampled_from((0.1, 1, 16_777_217)),
        ),
        "double": st.one_of(
            st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**70), 2**70)
        ),
        "bytes": st.binary(max_size=6).map(_latin1),
        "string": st.text(max_size=8).filter(
            lambda t: not any(0xD800 <= ord(c) < 0xE000 for c in t)
        ),
    }
    return simple[kind]


def _latin1(data: bytes) -> str:
    return data.decode("latin-1")


# -- the property ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    """One way a drawn schema's classes broke the property."""

    kind: str
    schema: Path
    """The ``vN.avsc`` file of the schema, kept for reproducing it."""
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.schema}: {self.message}"


@dataclasses.dataclass(slots=True)
class Batch:
    """Drawn schemas, each a one-version contract rendered into a package of its own under
    ``root/models``, imported and checked."""

    root: Path
    objects: int = 4
    """Objects drawn from each schema's classes."""
    datums: int = 4
    """Datums drawn from each schema, in each of fastavro's two forms."""
    failures: list[Failure] = dataclasses.field(default_factory=list)
    schemas: int = 0
    classes: int = 0
    checked: int = 0
    """Objects and datums checked."""
    skipped: int = 0
    """Datums fastavro could not write in the branch it chose, or not read back."""
    packages: dict[str, Path] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.root / "models").mkdir(parents=True, exist_ok=True)

    def check(self, schema: Any, data: st.DataObject) -> list[Failure]:
        """Render, import and check one contract ``schema``; the failures it found."""
        package = f"fuzzed_{self.schemas}"
        self.schemas += 1
        contract = schema["name"]
        folder = self.root / "schemas" / package / contract
        folder.mkdir(parents=True)
        path = folder / "v1.avsc"
        path.write_text(json.dumps(schema, indent=1), encoding="utf-8")
        found: list[Failure] = []

        def fail(kind: str, message: str) -> None:
            found.append(Failure(kind, path, message))

        try:
            tree = sources.load_tree(folder.parent)
            modules = render_tree(tree)
        except ContractError as err:
            fail("refused", str(err))
            return self.record(found)
        write_modules(modules, self.root / "models" / package)
        self.packages[package] = path
        try:
            module = self.load(package, names.module_name(contract))
        except Exception as err:  # whatever the generated module raised
            fail("import", f"{type(err).__name__}: {err}")
            return self.record(found)
        version = tree[contract].versions[0]
        model = build_version(version)
        classes = [getattr(module, r.class_name) for r in model.records]
        self.classes += len(classes)
        for cls in classes:
            problem = _members_problem(cls)
            if problem:
                fail("members", f"{cls.__name__}: {problem}")
        if found:
            return self.record(found)
        root, parsed = classes[0], version.fastavro
        for _ in range(self.objects):
            obj = data.draw(instances(model, module), label="object")
            self.checked += 1
            _guard(fail, "objects", check_object, obj, root, parsed)
        exact = _exact(model)
        for named in (False, True):
            strategy = datums(version.parsed, named_branches=named)
            for _ in range(self.datums):
                datum = data.draw(strategy, label="datum")
                checked = _guard(
                    fail, "datums", _check_datum, datum, root, parsed, exact and not named
                )
                self.checked += checked is not False
                self.skipped += checked is False
        return self.record(found)

    def record(self, found: list[Failure]) -> list[Failure]:
        self.failures += found
        return found

    def load(self, package: str, module: str) -> ModuleType:
        models = str(self.root / "models")
        if models not in sys.path:
            sys.path.insert(0, models)
        return importlib.import_module(f"{package}.{module}")

    def unload(self) -> None:
        """Forget the imported packages (``sys.modules``, ``sys.path``)."""
        models = str(self.root / "models")
        if models in sys.path:
            sys.path.remove(models)
        for name in [m for m in sys.modules if m.startswith("fuzzed_")]:
            del sys.modules[name]

    def lint(self, ruff: str, mypy: str) -> list[Failure]:
        """ruff check, ruff format --check and ``mypy --strict`` over every package."""
        models = self.root / "models"
        found: list[Failure] = []
        if not self.packages:
            return found
        common = ("--isolated", "--no-cache", "--line-length", str(DEFAULT_LINE_LENGTH))
        checked = _run(
            ruff, "check", *common, "--select", LINT_SELECT, "--ignore", LINT_IGNORE,
            "--output-format", "concise", ".", cwd=models,
        )  # fmt: skip
        for line in checked.stdout.splitlines():
            if line.startswith("fuzzed_"):
                found.append(Failure("ruff", self.source(line), line))
        formatted = _run(ruff, "format", "--check", *common, ".", cwd=models)
        for path in _REFORMATTED.findall(formatted.stdout):  # ruff before 0.17, and after
            found.append(Failure("format", self.source(path), f"{path}: would be reformatted"))
        packages = [item for package in self.packages for item in ("-p", package)]
        typed = _run(
            mypy, "--strict", "--python-version", "3.11", "--no-incremental",
            "--cache-dir", "/dev/null", "--no-error-summary", *packages, cwd=models,
        )  # fmt: skip
        for line in typed.stdout.splitlines():
            if line.startswith("fuzzed_") and ": error:" in line:
                found.append(Failure("mypy", self.source(line), line))
        for run in (checked, formatted, typed):
            if run.returncode not in (0, 1) or (run.returncode and not found):
                found.append(Failure("ruff" if run is not typed else "mypy", models, run.stderr))
        return self.record(found)

    def source(self, line: str) -> Path:
        return self.packages.get(line.split("/", 1)[0], self.root)


_REFORMATTED = re.compile(r"(?:^Would reformat: |^ *--> )(fuzzed_\d+/[^:\s]+)", re.MULTILINE)


def _run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)


_MEMBERS = ("to_avro", "from_avro", "write_avro", "read_avro")


def _members_problem(cls: type) -> str | None:
    for member in _MEMBERS:
        if not callable(getattr(cls, member, None)):
            return f"{member} is missing or not a method"
    for constant in ("FULL_NAME", "SCHEMA_VERSION"):
        if not isinstance(getattr(cls, constant, None), (str, int)):
            return f"{constant} is missing or shadowed"
    return None


def _guard(
    fail: Callable[[str, str], None], kind: str, check: Callable[..., bool | None], *args: Any
) -> bool | None:
    """What ``check(*args)`` returns; a failure of ``kind`` for whatever it raises."""
    try:
        return check(*args)
    except Exception as err:  # every failure is a finding, whatever it raised
        where = traceback.extract_tb(err.__traceback__)[-1]
        fail(kind, f"{type(err).__name__}: {err} (at {Path(where.filename).name}:{where.lineno})")
        return None


def _fastavro_bytes(datum: Any, parsed: Any) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, parsed, datum)
    return buffer.getvalue()


def _fastavro_datum(data: bytes, parsed: Any) -> Any:
    return schemaless_reader(io.BytesIO(data), parsed, None, return_named_type=True)


def _encoded(obj: Any) -> bytes:
    out = bytearray()
    obj.write_avro(out)
    return bytes(out)


def _read(cls: Any, data: bytes) -> Any:
    reader = runtime.Reader(data)
    obj = cls.read_avro(reader)
    assert reader.pos == len(data), f"read_avro stopped at byte {reader.pos} of {len(data)}"
    return obj


def check_object(obj: Any, cls: Any, parsed: Any) -> None:
    """An object of the class: its bytes are fastavro's, and every way back returns it."""
    encoded = _encoded(obj)
    theirs = _fastavro_bytes(obj.to_avro(), parsed)
    assert encoded == theirs, f"write_avro {encoded.hex()} != fastavro's {theirs.hex()}"
    assert same(_read(cls, encoded), obj), "read_avro(write_avro(obj)) != obj"
    assert same(cls.from_avro(_fastavro_datum(encoded, parsed)), obj), (
        "from_avro(fastavro's datum of the bytes) != obj"
    )
    assert same(cls.from_avro(obj.to_avro()), obj), "from_avro(obj.to_avro()) != obj"


def _check_datum(datum: Any, cls: Any, parsed: Any, exact: bool) -> bool:
    """Bytes fastavro wrote of a datum: both readers agree on them, and the object they
    read writes them back (``exact``), or bytes fastavro writes of its ``to_avro()`` that
    read back as itself. False if fastavro cannot write the datum or read its bytes."""
    try:
        written = _fastavro_bytes(datum, parsed)
        theirs = _fastavro_datum(written, parsed)
    except (ValueError, TypeError, OverflowError):
        theirs = None
    if theirs is None or _plain(theirs) != _plain(datum):
        # fastavro put a plain datum in an earlier branch that takes it but cannot hold
        # it (an int in a time-millis branch, a decimal of another scale): fastavro
        # cannot write it, or reads something else back
        return False
    read = _read(cls, written)
    obj = cls.from_avro(theirs)
    assert same(read, obj), "read_avro(bytes) != from_avro(fastavro's datum of the bytes)"
    encoded = _encoded(obj)
    if exact:
        assert encoded == written, f"write_avro {encoded.hex()} != fastavro's {written.hex()}"
    theirs = _fastavro_bytes(obj.to_avro(), parsed)
    assert encoded == theirs, f"write_avro {encoded.hex()} != fastavro's {theirs.hex()}"
    assert same(_read(cls, encoded), obj), "read_avro(write_avro(obj)) != obj"
    assert same(cls.from_avro(obj.to_avro()), obj), "from_avro(obj.to_avro()) != obj"
    return True


def _plain(datum: Any) -> Any:
    """``datum`` without fastavro's ``(name, datum)`` pairs."""
    if isinstance(datum, tuple):
        return _plain(datum[1])
    if isinstance(datum, dict):
        return {key: _plain(value) for key, value in datum.items()}
    if isinstance(datum, list):
        return [_plain(value) for value in datum]
    return datum


def _exact(model: VersionModel) -> bool:
    """Whether every plain datum's bytes come back byte for byte: not where a union of
    null and free-form JSON reads JSON ``null`` as None, which it writes as null, nor
    where a union holds a ``uuid`` fixed and a ``uuid`` string: fastavro writes a fixed's
    bytes to the fixed, and a ``UUID`` to the string, which is what the object holds."""
    pending = [field.type for record in model.records for field in record.fields]
    while pending:
        type_ = pending.pop()
        if type_.kind == "union" and type_.nullable and "json" in {b.kind for b in type_.branches}:
            return False
        if type_.kind == "union" and {"uuid", "fixed_uuid"} <= {b.kind for b in type_.branches}:
            return False
        pending += [*type_.branches, *([type_.items] if type_.items else [])]
    return True


def tools() -> Iterator[str]:
    """ruff and mypy beside this interpreter, else on the PATH."""
    for name in ("ruff", "mypy"):
        found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
        if found is None:
            raise FileNotFoundError(f"{name} is not installed; install the test extra")
        yield found
