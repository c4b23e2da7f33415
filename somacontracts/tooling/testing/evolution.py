"""The evolution property of a schema tree: data written by each version reads into each
version its compatibility level allows, through Apache Avro's schema resolution as
fastavro performs it. A service runs it on its own tree::

    from hypothesis import given, strategies as st
    from somacontracts.tooling.testing import evolution_cases

    @pytest.mark.parametrize("case", evolution_cases(), ids=str)
    @given(data=st.data())
    def test_every_version_reads_what_its_level_promises(case, data):
        case.check(data.draw(case.datums()))

:func:`evolution_cases` reads the tree and levels of the project's configuration (the
nearest ``pyproject.toml`` with ``[tool.somacontracts]``), or the ``root`` given.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from somacontracts.compat.levels import TRANSITIVE, CompatibilityLevel, directions
from somacontracts.compat.results import Direction
from somacontracts.tooling import sources
from somacontracts.tooling.testing.strategies import datums

__all__ = ["EvolutionCase", "evolution_cases"]


@dataclass(frozen=True)
class EvolutionCase:
    """Data of ``writer`` must read as ``reader`` (two versions of one contract)."""

    contract: str
    writer: sources.SchemaVersion
    reader: sources.SchemaVersion
    level: CompatibilityLevel

    def __str__(self) -> str:
        return f"{self.contract} v{self.writer.version} read as v{self.reader.version}"

    def datums(self) -> st.SearchStrategy[Any]:
        """Datums of the writer's version."""
        return datums(self.writer.parsed)

    def check(self, datum: Any) -> Any:
        """Write ``datum`` with the writer's schema and read it with the reader's; return
        what the reader got. Raise AssertionError naming the case if it cannot."""
        from fastavro import schemaless_reader, schemaless_writer

        buffer = io.BytesIO()
        schemaless_writer(buffer, self.writer.fastavro, datum)
        buffer.seek(0)
        try:
            read = schemaless_reader(buffer, self.writer.fastavro, self.reader.fastavro)
        except Exception as err:
            raise AssertionError(
                f"{self}: {type(err).__name__}: {err} ({self.level.value} promises it reads)"
            ) from err
        left = len(buffer.getvalue()) - buffer.tell()
        if left:
            raise AssertionError(f"{self}: {left} bytes left after the record")
        return read


def evolution_cases(
    root: Path | None = None, *, levels: dict[str, CompatibilityLevel] | None = None
) -> list[EvolutionCase]:
    """Every (writer, reader) pair of versions whose compatibility a contract's level
    promises: newer reads older (backward), older reads newer (forward), with the
    previous version only, or every earlier one for the transitive levels.

    ``root`` and ``levels`` default to the project configuration's schema folder and
    levels (the nearest ``pyproject.toml`` with ``[tool.somacontracts]``).
    """
    from somacontracts.tooling.configuration import read_config

    config = read_config()
    tree = sources.load_tree(root or config.schemas or sources.bundled_root())
    cases = []
    for name, contract in tree.items():
        level = CompatibilityLevel((levels or {}).get(name) or config.level_of(name))
        versions = contract.versions
        for index, newer in enumerate(versions):
            first = 0 if level in TRANSITIVE else max(index - 1, 0)
            earlier = versions[first:index]
            for older in earlier:
                for way in directions(level):
                    writer, reader = (older, newer) if way is Direction.BACKWARD else (newer, older)
                    cases.append(EvolutionCase(name, writer, reader, level))
    return cases
