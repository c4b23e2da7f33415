"""The one registry client: confluent-kafka's ``SchemaRegistryClient``, configured and wrapped.

Configuration comes from the environment (or arguments that override it):

=====================================  =============================================
``SCHEMA_REGISTRY_URL``                registry URL(s), comma-separated
                                       (default ``http://localhost:8081``)
``SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO``  ``user:password`` for HTTP basic auth
``SCHEMA_REGISTRY_BEARER_TOKEN``       a static bearer token (not with basic auth)
``SCHEMA_REGISTRY_LOGICAL_CLUSTER``    logical cluster sent with a bearer token
``SCHEMA_REGISTRY_CA_FILE``            CA bundle to verify the registry's TLS certificate
``SCHEMA_REGISTRY_RETRIES``            retries of a failed request (default 3)
``SCHEMA_REGISTRY_RETRY_WAIT_MS``      first wait before a retry, doubled each time
                                       (default 1000; full jitter, at most 20 s)
=====================================  =============================================

Every call goes through the client; :func:`call` turns its failures into
:class:`~somacontracts.errors.RegistryError` (the registry said no) or
:class:`~somacontracts.errors.RegistryUnavailableError` (unreachable, timed out, 5xx),
one line naming the URL and the cause.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import quote, unquote, urlsplit

from confluent_kafka.schema_registry import RegisteredSchema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from somacontracts.errors import (
    ConfigurationError,
    RegistryError,
    RegistryUnavailableError,
    redact,
)

__all__ = [
    "DEFAULT_URL",
    "call",
    "compatibility_verbose",
    "connect",
    "endpoint_missing",
    "registry_config",
    "schema_id_of_guid",
    "stored_version",
    "subject_level",
    "subjects_of_id",
    "url_of",
]

DEFAULT_URL = "http://localhost:8081"
T = TypeVar("T")


def registry_config(
    *,
    url: str | None = None,
    ca_file: str | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """The ``SchemaRegistryClient`` configuration from arguments and the environment."""
    env = os.environ if environ is None else environ
    variable = "--registry" if url else "SCHEMA_REGISTRY_URL"
    chosen = url or env.get("SCHEMA_REGISTRY_URL") or DEFAULT_URL
    urls, in_url = _split_user_info(chosen, variable)
    config: dict[str, Any] = {"url": ",".join(urls), "timeout": timeout}
    user_info = env.get("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO")
    if in_url is not None:
        if user_info is not None and user_info != in_url:
            raise ConfigurationError(
                variable,
                "holds credentials that differ from SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO; "
                "give them once",
            )
        user_info = in_url
    token = env.get("SCHEMA_REGISTRY_BEARER_TOKEN")
    if user_info is not None:
        if ":" not in user_info:
            raise ConfigurationError(
                "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "must be user:password"
            )
        if token is not None:
            raise ConfigurationError(
                "SCHEMA_REGISTRY_BEARER_TOKEN",
                "cannot be used with basic auth (SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO or "
                "credentials in the registry URL)",
            )
        config["basic.auth.user.info"] = user_info
    elif token is not None:
        if not token:
            raise ConfigurationError("SCHEMA_REGISTRY_BEARER_TOKEN", "is set but empty")
        config["bearer.auth.credentials.source"] = "STATIC_TOKEN"
        config["bearer.auth.token"] = token
        config["bearer.auth.logical.cluster"] = env.get("SCHEMA_REGISTRY_LOGICAL_CLUSTER", "")
    for variable, key in (
        ("SCHEMA_REGISTRY_RETRIES", "max.retries"),
        ("SCHEMA_REGISTRY_RETRY_WAIT_MS", "retries.wait.ms"),
    ):
        text = env.get(variable)
        if text is not None:
            if not text.strip().isdigit() or int(text) > 1_000_000:
                raise ConfigurationError(variable, f"{text!r} is not a whole number (0 or more)")
            config[key] = int(text)
    ca = ca_file or env.get("SCHEMA_REGISTRY_CA_FILE")
    if ca is not None:
        if not os.path.isfile(ca) or not os.access(ca, os.R_OK):
            variable = "--registry-ca" if ca_file else "SCHEMA_REGISTRY_CA_FILE"
            raise ConfigurationError(variable, f"{ca!r} is not a readable file")
        config["ssl.ca.location"] = ca
    return config


def _split_user_info(urls: str, variable: str) -> tuple[list[str], str | None]:
    """The URLs of ``urls`` (comma-separated) without user info, and that user info.

    Credentials in a URL become the client's basic-auth setting instead of staying in the
    URL, where HTTP libraries print them in their log lines. URLs that carry credentials
    must carry the same ones; they apply to every URL.
    """
    parts = [part.strip() for part in urls.split(",")]
    clean: list[str] = []
    found: set[str] = set()
    for number, part in enumerate(parts, 1):
        which = f"URL {number} of {len(parts)}" if len(parts) > 1 else "it"
        scheme, separator, rest = part.partition("://")
        if "@" in rest:
            # Everything up to the last "@" is user info, whatever a careless password
            # holds ("/", "?", "#"), so that none of it is ever taken for a host or a path.
            info, _, rest = rest.rpartition("@")
            user, colon, password = info.partition(":")
            if not colon:
                raise ConfigurationError(
                    variable, f"{which} holds user info without a password; give user:password"
                )
            found.add(f"{unquote(user)}:{unquote(password)}")
            part = f"{scheme}{separator}{rest}"
        try:
            split = urlsplit(part)
            valid = split.scheme in ("http", "https") and bool(split.hostname) and bool(separator)
        except ValueError:  # a malformed host, such as an unclosed IPv6 bracket
            valid = False
        if not valid:
            raise ConfigurationError(
                variable,
                f"{which} is not an http:// or https:// URL (the value is not shown: "
                "a registry URL may hold credentials)",
            )
        clean.append(part)
    if len(found) > 1:
        raise ConfigurationError(variable, "its URLs hold different credentials; give one set")
    return clean, found.pop() if found else None


def connect(
    *, url: str | None = None, ca_file: str | None = None, environ: Mapping[str, str] | None = None
) -> SchemaRegistryClient:
    """A ``SchemaRegistryClient`` for the registry the arguments or environment name."""
    config = registry_config(url=url, ca_file=ca_file, environ=environ)
    try:
        return SchemaRegistryClient(config)
    except (ValueError, TypeError) as err:
        raise ConfigurationError("schema registry configuration", str(err)) from err


def url_of(client: SchemaRegistryClient) -> str:
    """The URL(s) the client talks to, for messages: user info redacted."""
    return redact(",".join(client._rest_client.base_urls))


def call(client: SchemaRegistryClient, operation: Callable[[], T]) -> T:
    """Run ``operation`` (a client call) and turn its failures into registry errors."""
    url = url_of(client)
    try:
        return operation()
    except SchemaRegistryError as err:
        status = err.http_status_code
        if status >= 500 or status < 0:
            raise RegistryUnavailableError(
                url, f"HTTP {status}: {err.error_message}", status=status, error_code=err.error_code
            ) from err
        raise RegistryError(
            url, f"HTTP {status}: {err.error_message}", status=status, error_code=err.error_code
        ) from err
    except (ConfigurationError, RegistryError):
        raise
    except Exception as err:  # httpx raises many connection error types; all mean unreachable.
        reason = str(err) or type(err).__name__
        raise RegistryUnavailableError(url, f"cannot be reached: {reason}") from err


def subject_level(client: SchemaRegistryClient, subject: str) -> str | None:
    """The compatibility level set on ``subject`` itself; None when it has none (the
    registry's global level applies) or does not exist."""
    try:
        level: str | None = call(client, lambda: client.get_compatibility(subject))
    except RegistryError as err:
        if err.error_code not in (40401, 40408):  # no such subject; no level of its own
            raise
        return None
    return level


def compatibility_verbose(
    client: SchemaRegistryClient, subject: str, schema_text: str, version: str = "latest"
) -> tuple[bool, list[str]]:
    """Ask whether ``schema_text`` may be registered under ``subject``, with the reasons.

    Uses ``POST /compatibility/subjects/{subject}/versions/{version}?verbose=true``;
    the client's ``test_compatibility`` returns only the verdict, so the request goes
    through the same client's REST layer to keep the registry's messages.
    """
    path = f"compatibility/subjects/{quote(subject, safe='')}/versions/{version}?verbose=true"

    def ask() -> dict[str, Any]:
        answer: dict[str, Any] = client._rest_client.post(
            path, body={"schema": schema_text, "schemaType": "AVRO"}
        )
        return answer

    answer = call(client, ask)
    messages = answer.get("messages") or []
    return bool(answer.get("is_compatible")), [str(m) for m in messages]


def endpoint_missing(err: RegistryError) -> bool:
    """Whether ``err`` says the registry does not serve the endpoint at all (Karapace lacks
    some of Confluent's): a 404 without one of the ``404xx`` codes by which a registry says
    that a subject, version, schema, configuration or key is not there."""
    return err.status == 404 and not 40400 <= (err.error_code or 0) <= 40499


def subjects_of_id(client: SchemaRegistryClient, schema_id: int) -> list[str]:
    """The subjects with a version of schema ``schema_id``: ``GET /schemas/ids/{id}/subjects``,
    else, on a registry without it (Karapace), those of ``GET /schemas/ids/{id}/versions``,
    which Confluent and Karapace both serve."""
    try:
        return call(client, lambda: client.get_subjects_by_schema_id(schema_id))
    except RegistryError as err:
        if not endpoint_missing(err):
            raise
    versions = call(client, lambda: client.get_schema_versions(schema_id))
    return list(dict.fromkeys(str(v.subject) for v in versions))


def stored_version(
    client: SchemaRegistryClient, subject: str, version: int | Literal["latest"]
) -> RegisteredSchema:
    """Version ``version`` (a number, or ``"latest"``) of ``subject`` as the registry
    stores it: ``GET /subjects/{subject}/versions/{version}`` past the client's caches, which
    hold what was sent (with its metadata and rules) wherever a registry answers a
    registration with an id alone."""
    path = f"subjects/{quote(subject, safe='')}/versions/{version}"
    answer = call(client, lambda: client._rest_client.get(path))
    return RegisteredSchema.from_dict(answer)


def schema_id_of_guid(client: SchemaRegistryClient, guid: str) -> int | None:
    """The id of the schema with ``guid`` in the default context; None if there is none.

    Uses ``GET /schemas/guids/{guid}/ids`` (Confluent Platform 8), which the client has no
    method for: a schema fetched by GUID comes without its id.
    """

    def ask() -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = client._rest_client.get(
            f"schemas/guids/{quote(guid, safe='')}/ids"
        )
        return answer

    found = [entry for entry in call(client, ask) if isinstance(entry, dict)]
    chosen = [e for e in found if e.get("context") in (".", None, "")] or found
    schema_id = chosen[0].get("id") if chosen else None
    return schema_id if isinstance(schema_id, int) and not isinstance(schema_id, bool) else None
