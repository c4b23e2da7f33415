"""Version numbers stay within 1..2^31-1 whatever clients send, and no subject is left
refusing every registration.

A hypothesis state machine drives random sequences of registrations, imports (with and
without an id and a version, the largest version included), soft and permanent deletes
of versions and subjects, and mode changes against a local registry over HTTP, and
holds every answer to a model of Confluent's rules. After each step every version the
registry lists is in range and can be read by its number; at any point (and at the end
of every run) each subject can be brought back to accepting a new schema by requests a
client can make: the mode set back, the largest version deleted.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from somacontracts.tooling.registry import LocalRegistry
from tests.server.conftest import A_GUID, raw

MAX = 2**31 - 1
SUBJECTS = st.sampled_from(["s", "t"])
SCHEMAS = st.sampled_from(['"int"', '"long"', '"string"', '"bytes"'])
VERSIONS = st.sampled_from([1, 2, MAX - 1, MAX])
IDS = st.sampled_from([7, 8, 100, MAX])
MODES = st.sampled_from(["READWRITE", "READONLY", "IMPORT"])

Answer = tuple[int, object]
Refusal = tuple[int, int]
"""The HTTP status and Confluent error code the model expects."""

NOT_IMPORTING = (422, 42205)
READ_ONLY = (422, 42205)
OUT_OF_VERSIONS = (422, 42202)


class Api:
    """Requests on one kept-alive connection, as confluent-kafka's client sends them."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)

    def __call__(self, method: str, path: str, body: object = None) -> Answer:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/vnd.schemaregistry.v1+json"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        assert response.status < 500, payload
        return response.status, json.loads(payload) if payload else None

    def close(self) -> None:
        self.connection.close()


@dataclass
class Subject:
    versions: dict[int, tuple[str, bool]] = field(default_factory=dict)
    """Version -> (schema, soft-deleted)."""
    mode: str | None = None

    def live(self) -> list[int]:
        return sorted(v for v, (_, deleted) in self.versions.items() if not deleted)

    def next_version(self) -> int | Refusal:
        newest = max(self.versions, default=0)
        return OUT_OF_VERSIONS if newest >= MAX else newest + 1


class VersionRange(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.registry = LocalRegistry().start()
        self.api = Api(self.registry.url)
        assert self.api("PUT", "/config", {"compatibility": "NONE"})[0] == 200
        self.subjects = {"s": Subject(), "t": Subject()}
        self.global_mode = "READWRITE"
        self.ids: dict[str, int] = {}  # schema -> id: schemas are never forgotten
        self.fresh = 0

    def teardown(self) -> None:
        try:
            for name in self.subjects:
                self.recover(name)
        finally:
            self.api.close()
            self.registry.stop()

    # -- the model ------------------------------------------------------------------

    def mode(self, subject: str) -> str:
        return self.subjects[subject].mode or self.global_mode

    def expect(self, answer: Answer, expected: Refusal | None) -> object:
        """The body of a success, checked against what the model expected."""
        status, body = answer
        if expected is None:
            assert status == 200, body
            return body
        assert isinstance(body, dict), body
        assert (status, body["error_code"]) == expected, body
        return None

    def learn_id(self, schema: str, body: object) -> None:
        assert isinstance(body, dict), body
        given = body["id"]
        known = self.ids.get(schema)
        if known is None:
            assert given not in self.ids.values(), (schema, given, self.ids)
            self.ids[schema] = given
        else:
            assert given == known, (schema, given, known)

    # -- rules ------------------------------------------------------------------------

    @initialize(mode=MODES)
    def start_in(self, mode: str) -> None:
        """A third of the runs import from the start, as a registry being migrated does."""
        self.set_mode(None, mode, False)

    @rule(subject=SUBJECTS, schema=SCHEMAS)
    def register(self, subject: str, schema: str) -> None:
        self.registration(subject, schema, None, None)

    @rule(subject=SUBJECTS, schema=SCHEMAS, schema_id=st.none() | IDS, version=st.none() | VERSIONS)
    def import_(
        self, subject: str, schema: str, schema_id: int | None, version: int | None
    ) -> None:
        self.registration(subject, schema, schema_id, version)

    @rule(subject=SUBJECTS, schema=SCHEMAS)
    def import_largest(self, subject: str, schema: str) -> None:
        """The boundary itself, often: an import of version 2^31-1."""
        self.registration(subject, schema, None, MAX)

    def registration(
        self, subject: str, schema: str, schema_id: int | None, version: int | None
    ) -> None:
        state = self.subjects[subject]
        mode = self.mode(subject)
        expected: Refusal | None = None
        number: int | Refusal | None = None
        if mode == "READONLY":
            expected = READ_ONLY
        elif mode == "IMPORT":
            expected = self.id_refusal(schema, schema_id)
            if expected is None:
                number = state.next_version() if version is None else version
                if isinstance(number, tuple):
                    expected = number
                elif number in state.versions:
                    expected = NOT_IMPORTING
        elif schema_id is not None:
            expected = NOT_IMPORTING
        elif any(state.versions[v][0] == schema for v in state.live()):
            number = None  # the version that has it answers
        else:
            number = state.next_version()
            if isinstance(number, tuple):
                expected = number
        request: dict[str, object] = {"schema": schema}
        if schema_id is not None:
            request["id"] = schema_id
        if version is not None:
            request["version"] = version
        body = self.expect(self.api("POST", f"/subjects/{subject}/versions", request), expected)
        if expected is None:
            self.learn_id(schema, body)
            if isinstance(number, int):
                state.versions[number] = (schema, False)

    def id_refusal(self, schema: str, schema_id: int | None) -> Refusal | None:
        """Whether an import of ``schema`` under ``schema_id`` is refused for the id."""
        if schema_id is None:
            return None
        holder = next((s for s, i in self.ids.items() if i == schema_id), None)
        if holder is not None and holder != schema:
            return NOT_IMPORTING
        if schema in self.ids and self.ids[schema] != schema_id:
            return NOT_IMPORTING
        return None

    @rule(
        subject=SUBJECTS,
        version=st.sampled_from(["latest", 1, 2, 3, MAX - 1, MAX]),
        permanent=st.booleans(),
    )
    def delete_version(self, subject: str, version: int | str, permanent: bool) -> None:
        state = self.subjects[subject]
        live = state.live()
        every = sorted(state.versions)
        expected: Refusal | None = None
        target = None
        if self.mode(subject) == "READONLY":
            expected = READ_ONLY
        elif not every or (version == "latest" and not live and not permanent):
            expected = (404, 40401)
        elif version == "latest":
            target = (every if permanent else live)[-1]
        elif version not in state.versions:
            expected = (404, 40402)
        else:
            assert isinstance(version, int)
            target = version
        if target is not None:
            deleted = state.versions[target][1]
            if permanent and not deleted:
                expected = (404, 40407)
            elif not permanent and deleted:
                expected = (404, 40406)
        query = "?permanent=true" if permanent else ""
        answer = self.api("DELETE", f"/subjects/{subject}/versions/{version}{query}")
        if self.expect(answer, expected) is not None:
            assert target is not None
            assert answer[1] == target
            if permanent:
                del state.versions[target]
            else:
                state.versions[target] = (state.versions[target][0], True)

    @rule(subject=SUBJECTS, permanent=st.booleans())
    def delete_subject(self, subject: str, permanent: bool) -> None:
        state = self.subjects[subject]
        live = state.live()
        expected: Refusal | None = None
        if self.mode(subject) == "READONLY":
            expected = READ_ONLY
        elif not state.versions:
            expected = (404, 40401)
        elif permanent and live:
            expected = (404, 40405)
        elif not permanent and not live:
            expected = (404, 40404)
        query = "?permanent=true" if permanent else ""
        body = self.expect(self.api("DELETE", f"/subjects/{subject}{query}"), expected)
        if expected is None:
            assert body == (sorted(state.versions) if permanent else live)
            if permanent:
                state.versions.clear()
                state.mode = None  # a subject deleted for good takes its mode with it
            else:
                for number in live:
                    state.versions[number] = (state.versions[number][0], True)

    @rule(subject=st.none() | SUBJECTS, mode=MODES, force=st.booleans())
    def set_mode(self, subject: str | None, mode: str, force: bool) -> None:
        scopes = list(self.subjects.values()) if subject is None else [self.subjects[subject]]
        taken = any(state.versions for state in scopes)
        expected = NOT_IMPORTING if mode == "IMPORT" and taken and not force else None
        path = "/mode" if subject is None else f"/mode/{subject}"
        query = "?force=true" if force else ""
        if self.expect(self.api("PUT", path + query, {"mode": mode}), expected) is not None:
            if subject is None:
                self.global_mode = mode
            else:
                self.subjects[subject].mode = mode

    @rule(subject=SUBJECTS)
    def delete_mode(self, subject: str) -> None:
        state = self.subjects[subject]
        expected = None if state.mode else (404, 40409)
        if self.expect(self.api("DELETE", f"/mode/{subject}"), expected) is not None:
            state.mode = None

    @precondition(lambda self: any(s.versions for s in self.subjects.values()))
    @rule(subject=SUBJECTS)
    def recover(self, subject: str) -> None:
        """What a client does with a subject that refuses registrations: set the mode
        back, delete the largest version, register; it always works."""
        state = self.subjects[subject]
        if state.mode is not None:
            self.delete_mode(subject)
        if self.global_mode != "READWRITE":
            self.set_mode(None, "READWRITE", False)
        if MAX in state.versions:
            if not state.versions[MAX][1]:
                self.delete_version(subject, MAX, False)
            self.delete_version(subject, MAX, True)
        self.fresh += 1
        fresh = json.dumps({"type": "fixed", "name": "F", "size": self.fresh})
        number = state.next_version()
        assert isinstance(number, int)
        self.register(subject, fresh)
        assert state.versions[number] == (fresh, False)

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def every_version_is_in_range_and_readable(self) -> None:
        for name, state in self.subjects.items():
            status, listed = self.api("GET", f"/subjects/{name}/versions?deleted=true")
            if not state.versions:
                assert status == 404, listed
                continue
            assert (status, listed) == (200, sorted(state.versions)), (listed, state.versions)
            assert isinstance(listed, list)
            for number in listed:
                assert 1 <= number <= MAX
                status, got = self.api("GET", f"/subjects/{name}/versions/{number}?deleted=true")
                assert status == 200, got
                assert isinstance(got, dict)
                assert got["version"] == number
                assert json.loads(got["schema"]) == json.loads(state.versions[number][0])


TestVersionRange = VersionRange.TestCase
TestVersionRange.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_the_issue_s_sequence_is_refused_and_the_subject_recovers(
    registry: LocalRegistry,
) -> None:
    """``IMPORT`` of version 2^31-1, then an import without a version: refused 42202,
    not version 2^31; the subject takes registrations again once that version is gone."""
    url = registry.url
    assert raw(url, "PUT", "/mode/s", {"mode": "IMPORT"})[0] == 200
    imported = {"schema": '"int"', "id": 7, "version": MAX}
    assert raw(url, "POST", "/subjects/s/versions", imported) == (200, {"id": 7, "guid": A_GUID})
    status, body = raw(url, "POST", "/subjects/s/versions", {"schema": '"long"', "id": 8})
    assert (status, body["error_code"]) == (422, 42202), body
    assert str(MAX) in body["message"]
    assert raw(url, "PUT", "/mode/s", {"mode": "READWRITE"})[0] == 200
    assert raw(url, "PUT", "/config/s", {"compatibility": "NONE"})[0] == 200
    status, body = raw(url, "POST", "/subjects/s/versions", {"schema": '"long"'})
    assert (status, body["error_code"]) == (422, 42202), body
    assert raw(url, "GET", "/subjects/s/versions?deleted=true") == (200, [MAX])
    assert raw(url, "DELETE", f"/subjects/s/versions/{MAX}") == (200, MAX)
    status, body = raw(url, "POST", "/subjects/s/versions", {"schema": '"long"'})
    assert (status, body["error_code"]) == (422, 42202), body  # a soft delete keeps the number
    assert raw(url, "DELETE", f"/subjects/s/versions/{MAX}?permanent=true") == (200, MAX)
    assert raw(url, "POST", "/subjects/s/versions", {"schema": '"long"'})[0] == 200
    assert raw(url, "GET", "/subjects/s/versions") == (200, [1])
