"""The exceptions of somacontracts: one root, :class:`ContractError`, and its branches.

Every error the library raises on purpose derives from :class:`ContractError`, so a
service can catch the library's failures in one ``except`` clause. Each exception keeps
its parts as attributes and formats them in ``__str__`` as one line that names what
went wrong and where.

No message prints a credential: every ``__str__`` of every error passes through
:func:`redact`, which hides the user info of URLs (``http://admin:***@host``), and the
errors that keep a URL or a reason keep it redacted. Values of variables that may hold
a secret are not quoted in messages at all.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

__all__ = [
    "ConfigurationError",
    "ContractError",
    "DeserializationError",
    "FileWriteError",
    "IncompatibleWriterError",
    "InvalidSchemaError",
    "MessageError",
    "ReadRuleError",
    "RegistryError",
    "RegistryFeatureError",
    "RegistryUnavailableError",
    "ReleaseError",
    "RuleError",
    "RulesMissingError",
    "RulesUnavailableError",
    "SchemaError",
    "SchemaLoadError",
    "SchemaNotFoundError",
    "SerializationError",
    "UnknownContractError",
    "WriteRuleError",
    "count",
    "redact",
]

_URL_USER_INFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+._-]*://)(?P<info>[^\s,]*)@")
_BARE_USER_INFO = re.compile(r"""(?P<user>\b[^\s:/@'"<>]+):[^\s/,]+@""")
_SECRET_PARAMETER = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pwd|secret|token|access_token|api_key|apikey|key)=)"
    r"[^&;#\s]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with the password of every ``user:password@`` (in a URL or not) replaced
    by ``***``, user info without a password (a token) replaced by ``***``, and the values
    of query parameters named like secrets (``?password=``, ``&token=``) too.

    In a URL, everything up to the last ``@`` before a space or comma is user info,
    whatever characters a careless password holds (but a space). Applied to every
    message of the library: in errors, log lines, CLI output and dead-letter headers.
    """
    if "=" in text:
        text = _SECRET_PARAMETER.sub(lambda m: f"{m['key']}***", text)
    if "@" not in text:
        return text
    text = _URL_USER_INFO.sub(_hide_url_user_info, text)
    return _BARE_USER_INFO.sub(lambda m: f"{m['user']}:***@", text)


def _hide_url_user_info(match: re.Match[str]) -> str:
    user, colon, _ = match["info"].partition(":")
    if colon and user and "/" not in user:
        return f"{match['scheme']}{user}:***@"
    return f"{match['scheme']}***@"


def _redacting(render: Callable[[BaseException], str]) -> Callable[[BaseException], str]:
    @functools.wraps(render)
    def __str__(self: BaseException) -> str:  # noqa: N807 - it replaces __str__
        return redact(render(self))

    return __str__


class ContractError(Exception):
    """Raised for any failure of somacontracts; the root of its exception hierarchy."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        # Every error's own message goes through redact(): no subclass can print a secret.
        super().__init_subclass__(**kwargs)
        render = cls.__dict__.get("__str__")
        if render is not None:
            cls.__str__ = _redacting(render)  # type: ignore[method-assign]

    def __str__(self) -> str:
        return redact(super().__str__())


class ConfigurationError(ContractError):
    """Raised when an environment variable or option holds a value that cannot be used."""

    def __init__(self, variable: str, reason: str) -> None:
        reason = redact(reason)
        super().__init__(variable, reason)
        self.variable = variable
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.variable}: {self.reason}"


class FileWriteError(ContractError):
    """Raised when a file the tooling writes (a lock, models, rules) cannot be written."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"


class ReleaseError(ContractError):
    """Raised when a release is refused: a dirty tree, failing checks, a distribution that
    does not build, pass its checks or install."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(what, reason)
        self.what = what
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.what}: {self.reason}"


class SchemaError(ContractError):
    """Raised when an Avro schema is invalid; ``location`` is a JSON pointer into it."""

    def __init__(self, reason: str, *, location: str = "", source: str | None = None) -> None:
        super().__init__(reason, location, source)
        self.reason = reason
        self.location = location
        self.source = source

    def __str__(self) -> str:
        where = self.source or "schema"
        if self.location:
            where = f"{where} at {self.location}"
        return f"{where}: {self.reason}"


class InvalidSchemaError(SchemaError):
    """Raised when a schema is not valid Avro, or not one Apache Avro Java would parse."""


class SchemaLoadError(SchemaError):
    """Raised when a schema file or a contract's folder cannot be read or is misplaced."""


class UnknownContractError(ContractError, KeyError):
    """Raised when a contract name is not in the catalog or not in the schema tree."""

    def __init__(self, name: str, known: tuple[str, ...], source: str = "") -> None:
        super().__init__(name, known, source)
        self.name = name
        self.known = known
        self.source = source
        """The catalog's file, where the catalog is one; empty for a schema tree."""

    def __str__(self) -> str:
        where = f" in the catalog of {self.source}" if self.source else ""
        if not self.known and self.source:
            return (
                f"unknown contract {self.name!r}{where}, which declares no topics: add "
                f'[tool.somacontracts.topics."TOPIC"] with contract = {self.name!r}'
            )
        known = ", ".join(self.known) or "none"
        return f"unknown contract {self.name!r}{where}; known contracts: {known}"


class RegistryError(ContractError):
    """Raised when a schema registry answers a request with an error."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        error_code: int | None = None,
    ) -> None:
        url, reason = redact(url), redact(reason)
        super().__init__(url, reason, status, error_code)
        self.url = url
        self.reason = reason
        self.status = status
        self.error_code = error_code

    def __str__(self) -> str:
        code = f" (error {self.error_code})" if self.error_code is not None else ""
        return f"schema registry {self.url}: {self.reason}{code}"


class RegistryUnavailableError(RegistryError):
    """Raised when the schema registry cannot be reached, times out or fails with a 5xx."""


class SchemaNotFoundError(RegistryError):
    """Raised when the registry lacks a schema: an unknown id, or a model's schema."""


class RegistryFeatureError(RegistryError):
    """Raised when a registry cannot hold what the contracts need: it dropped or changed a
    part of a version it stored (``feature``: schema, metadata, a rule), does not keep a
    subject's compatibility group, or has no DEK registry for ENCRYPT rules."""

    def __init__(self, url: str, reason: str, *, subject: str = "", feature: str = "") -> None:
        super().__init__(url, reason)
        self.subject = subject
        self.feature = feature


class RulesUnavailableError(ContractError):
    """Raised when a serde cannot run a Data Contract rule of its schema: a package of the
    ``rules`` extra is missing, or the rule's key, secret or KMS is out of reach."""

    def __init__(self, label: str, subject: str, rule: str, reason: str) -> None:
        reason = redact(reason)
        super().__init__(label, subject, rule, reason)
        self.label = label
        self.subject = subject
        self.rule = rule
        self.reason = reason

    def __str__(self) -> str:
        return f'{self.label} under "{self.subject}": rule "{self.rule}" cannot run: {self.reason}'


class RulesMissingError(RulesUnavailableError):
    """Raised when a serializer's model carries Data Contract rules (from its repository
    version) that the version registered under its subject lacks: the registry dropped
    them, or the version was registered without them. Nothing is written then, so a
    tagged field never goes out in plain text. ``rule`` names the part missing (``rule
    "encryptPII"``, ``metadata``)."""

    def __str__(self) -> str:
        return f'{self.label} under "{self.subject}": {self.rule} {self.reason}'


class MessageError(ContractError):
    """Raised for a message that cannot be encoded or decoded; carries its Kafka coordinates."""

    def __init__(
        self,
        reason: str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
    ) -> None:
        reason = redact(reason)
        super().__init__(reason, topic, partition, offset)
        self.reason = reason
        self.topic = topic
        self.partition = partition
        self.offset = offset

    def where(self) -> str:
        """``topic[partition]@offset`` as far as known, or an empty string."""
        if self.topic is None:
            return ""
        place = self.topic
        if self.partition is not None:
            place += f"[{self.partition}]"
        if self.offset is not None:
            place += f"@{self.offset}"
        return place

    def __str__(self) -> str:
        place = self.where()
        return f"{place}: {self.reason}" if place else self.reason


class SerializationError(MessageError):
    """Raised when an object cannot be written: a wrong type, a bad value, no registered schema."""


class DeserializationError(MessageError):
    """Raised when bytes cannot be read as the contract: bad framing, truncated or corrupt data."""


class RuleError(MessageError):
    """Raised when a Data Contract rule of the message's schema refuses it: a condition
    that does not hold, a field that cannot be encrypted or decrypted.

    ``dead_letter`` is true when the rule's ``onFailure`` is ``DLQ``: the message belongs
    on the dead-letter topic (a consumer sends it there whatever the action).
    """

    def __init__(
        self,
        reason: str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        dead_letter: bool = False,
    ) -> None:
        super().__init__(reason, topic=topic, partition=partition, offset=offset)
        self.dead_letter = dead_letter


class WriteRuleError(RuleError, SerializationError):
    """Raised when a rule refuses an object on write; a :class:`SerializationError`."""


class ReadRuleError(RuleError, DeserializationError):
    """Raised when a rule refuses a message on read; a :class:`DeserializationError`."""


class IncompatibleWriterError(DeserializationError):
    """Raised when a message's writer schema is not this contract's, or cannot be read into it."""


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun`` in agreement, for every message of both halves of the
    package: ``1 contract``, ``5 contracts``, ``2 entries``."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
