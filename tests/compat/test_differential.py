"""Differential test against Apache Avro Java's ``SchemaCompatibility`` itself.

The jars of Apache Avro 1.12 and its dependencies (jackson-core, jackson-databind,
jackson-annotations, slf4j-api) come from ``SOMACONTRACTS_AVRO_JARS`` if it names a
folder, else from ``tools/fetch_avro_jars.py`` (a cached download from PyPI, with
pinned hashes). ``javac``/``java`` 17 or later must be on the PATH: without them the
test fails rather than skips. ``tools/java/CompatOracle.java`` is compiled into a
temporary folder and run once for the module; each drawn pair is sent to it as a JSON
line.

Compared on every pair: the verdict, the type and Java's message of every problem,
in order. Locations are compared when neither schema refers to a named type by name:
where one does, Java may repeat a memoized location (see ``somacontracts.compat.engine``).
Where Java throws because a reader field matches two writer fields, the checker must
report ``READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS``; where Java rejects a schema, the
checker must raise ``InvalidSchemaError``.
``SOMACONTRACTS_DIFFERENTIAL_EXAMPLES`` sets the number of pairs (default 3000).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from somacontracts.compat import IncompatibilityType, InvalidSchemaError, check_reader_writer
from tests.compat.strategies import has_references, schema_pairs
from tests.compat.test_cases import NAMES, load
from tests.fetched import TOOLS, fetched

EXAMPLES = int(os.environ.get("SOMACONTRACTS_DIFFERENTIAL_EXAMPLES", "3000"))
SOURCE = TOOLS / "java" / "CompatOracle.java"


def avro_jars(config: pytest.Config) -> str:
    """The folder of Apache Avro Java's jars: from the environment, else fetched and cached.

    The first fetch downloads about 434 MB: its progress is shown on the terminal, past
    pytest's output capture.
    """
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.fail("the differential test needs a JDK (javac and java 17 or later) on the PATH")
    given_folder = os.environ.get("SOMACONTRACTS_AVRO_JARS")
    if given_folder:
        return given_folder
    return fetched(config, "fetch_avro_jars.py", "Apache Avro's jars")


Oracle = Callable[[Any, Any], dict[str, Any]]


@pytest.fixture(scope="module")
def oracle(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[Oracle]:
    classes = tmp_path_factory.mktemp("oracle")
    classpath = f"{avro_jars(pytestconfig)}/*"
    subprocess.run(["javac", "-cp", classpath, "-d", str(classes), str(SOURCE)], check=True)
    process = subprocess.Popen(
        ["java", "-cp", f"{classes}{os.pathsep}{classpath}", "CompatOracle"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def ask(reader: Any, writer: Any) -> dict[str, Any]:
        stdin.write(json.dumps({"reader": reader, "writer": writer}) + "\n")
        stdin.flush()
        answer: dict[str, Any] = json.loads(stdout.readline())
        return answer

    yield ask
    stdin.close()
    process.wait(timeout=30)
    stdout.close()


def assert_agrees(java: dict[str, Any], reader: Any, writer: Any, *, locations: bool) -> None:
    if "SchemaParseException" in java.get("error", "") or "not set yet" in java.get("error", ""):
        with pytest.raises(InvalidSchemaError):
            check_reader_writer(reader, writer)
        return
    ours = check_reader_writer(reader, writer)
    if "error" in java:
        assert "matches multiple fields" in java["error"]
        assert ours.types == (IncompatibilityType.READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS,)
        return
    assert ours.compatible is java["compatible"]
    assert [(p.type, p.detail) for p in ours.problems] == [
        (p["type"], p["message"]) for p in java["problems"]
    ]
    if locations:
        assert [p.location for p in ours.problems] == [p["location"] for p in java["problems"]]


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema_pairs())
def test_drawn_pairs_agree_with_java(oracle: Oracle, pair: tuple[Any, Any]) -> None:
    reader, writer = pair
    plain = not (has_references(reader) or has_references(writer))
    assert_agrees(oracle(reader, writer), reader, writer, locations=plain)


@pytest.mark.parametrize("name", NAMES)
def test_cases_record_what_java_says(oracle: Oracle, name: str) -> None:
    reader, writer, expected = load(name)
    java = oracle(reader, writer)
    recorded = expected.get("java")
    if recorded is None:
        assert java == {
            "compatible": expected["compatible"],
            "problems": [
                {"type": p["type"], "location": p["location"], "message": p["detail"]}
                for p in expected["problems"]
            ],
        }
    elif "error" in recorded:
        assert java["error"].startswith(recorded["error"])
    else:
        assert java["compatible"] == recorded["compatible"]
        assert [p["location"] for p in java["problems"]] == [
            p["location"] for p in recorded["problems"]
        ]
