"""Who may send the registry a request: the names it answers to, the pages it takes
requests from, and the content type a write must carry.

Any web page a developer opens can make the browser send requests to a registry on
their machine. Three rules keep such a page from writing to it or reading from it:

* ``Host`` must name the registry: a loopback name (``localhost``, ``127.0.0.1``,
  ``[::1]``), the address it listens on, or a name allowed with ``--allowed-host``
  (``allowed_hosts=``), with any port. A page that points its own DNS name at
  127.0.0.1 (DNS rebinding) is then the registry's own origin to the browser, free to
  read answers and to send JSON; its requests name the page's host, and are refused
  403, as Jupyter's and Vite's development servers refuse them.
* ``Origin``, which a browser sends with every request but a same-origin ``GET``, must
  be the registry's own (the scheme, name and port of the ``Host`` the request was sent
  to) or one allowed with ``--allowed-origin`` (``allowed_origins=``); a page on any
  other origin, another port of the same machine included, is refused 403. Only the
  allowed origins get CORS answers (preflights, ``Access-Control-Allow-Origin``), so
  only their pages can read answers or send what a browser preflights.
* a ``POST`` or ``PUT`` must carry one of the JSON content types Confluent's clients
  send (:data:`JSON_TYPES`); anything else, none included, is refused 415. A browser
  sends a cross-origin request without asking first (a CORS preflight) only with no
  content type or a form or text one (a ``no-cors`` fetch drops any other), so no page
  on another origin can make a write that is accepted, whatever ``Origin`` rules say.

IP addresses are compared as addresses (``[::1]`` and ``[0:0::1]`` are one), names
in lower case without a trailing dot.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from somacontracts.errors import ConfigurationError

__all__ = ["JSON_TYPES", "LOOPBACK", "Allowed", "host_name", "json_body", "origin_name"]

LOOPBACK = ("localhost", "127.0.0.1", "::1")
"""The names every registry answers to."""

JSON_TYPES = (
    "application/vnd.schemaregistry.v1+json",
    "application/vnd.schemaregistry+json",
    "application/json",
)
"""The content types a ``POST`` or ``PUT`` may carry (parameters such as ``charset`` aside)."""

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PORT = re.compile(r"[0-9]{1,5}")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def json_body(content_type: bytes | None) -> bool:
    """Whether a ``Content-Type`` header names one of :data:`JSON_TYPES`."""
    if content_type is None:
        return False
    media = content_type.partition(b";")[0].strip().lower()
    return media.decode("latin-1") in JSON_TYPES


def _name(text: str) -> str | None:
    """The name ``text`` gives, as compared: an IP address in its short form (an IPv6 one
    bracketed or not), else the name in lower case without a trailing dot; None if it is
    neither."""
    text = text.lower()
    bracketed = text.startswith("[") and text.endswith("]")
    try:
        address = ipaddress.ip_address(text[1:-1] if bracketed else text)
    except ValueError:
        if bracketed:
            return None
        text = text.removesuffix(".")
        return text if _NAME.fullmatch(text) else None
    return None if bracketed and address.version == 4 else address.compressed


def _authority(text: str) -> tuple[str, str | None] | None:
    """The name and port (None if absent) of ``host[:port]``, a ``Host`` header's form;
    None if it is not of that form."""
    if text.startswith("["):
        end = text.find("]") + 1
        host, rest = text[:end], text[end:]
        if not end:
            return None
    else:
        host, colon, port = text.partition(":")
        rest = colon + port
    if rest and not (rest[0] == ":" and _PORT.fullmatch(rest[1:])):
        return None
    name = _name(host)
    return None if name is None else (name, rest[1:] or None)


def _origin(text: str) -> tuple[str, str, str] | None:
    """The scheme, name and port (the scheme's default if absent) of an ``http`` or
    ``https`` origin; None for anything else (``null``, a path, another scheme)."""
    scheme, separator, authority = text.lower().partition("://")
    if not separator or scheme not in _DEFAULT_PORTS:
        return None
    found = _authority(authority)
    if found is None:
        return None
    name, port = found
    return scheme, name, port or _DEFAULT_PORTS[scheme]


def host_name(text: str, where: str) -> str:
    """``text`` as an allowed host name is compared; :class:`ConfigurationError` naming
    ``where`` if it is not a host name or an IP address (a port or scheme included)."""
    name = _name(text.strip())
    if name is None:
        raise ConfigurationError(
            where, f"{text!r} is not a host name or IP address (give no scheme or port)"
        )
    return name


def origin_name(text: str, where: str) -> str:
    """``text`` as an allowed origin is compared (``scheme://name:port``);
    :class:`ConfigurationError` naming ``where`` if it is not an http or https origin."""
    scheme, name, port = _allowed_origin(text, where)
    shown = f"[{name}]" if ":" in name else name
    return f"{scheme}://{shown}:{port}"


def _allowed_origin(text: str, where: str) -> tuple[str, str, str]:
    found = _origin(text.strip())
    if found is None:
        raise ConfigurationError(
            where,
            f"{text!r} is not an origin such as http://localhost:3000 "
            "(http or https, a host, an optional port, no path)",
        )
    return found


@dataclass(frozen=True, slots=True)
class Allowed:
    """The host names a registry answers to and the origins it answers with CORS."""

    hosts: frozenset[str]
    origins: frozenset[tuple[str, str, str]]
    """Scheme, name and port of each."""

    @classmethod
    def serving(cls, host: str, hosts: Iterable[str] = (), origins: Iterable[str] = ()) -> Allowed:
        """For a registry listening on ``host``: the loopback names, ``host`` and ``hosts``;
        the ``origins`` (:class:`ConfigurationError` for a value that is not a name or an
        origin)."""
        names = {*LOOPBACK, *(host_name(name, "allowed_hosts") for name in hosts)}
        if host:  # "" listens on every address: the loopback names and the allowed ones
            names.add(host_name(host, "host"))
        allowed = frozenset(_allowed_origin(origin, "allowed_origins") for origin in origins)
        return cls(frozenset(names), allowed)

    def host(self, header: bytes) -> bool:
        """Whether a ``Host`` header names this registry."""
        found = _authority(header.decode("latin-1"))
        return found is not None and found[0] in self.hosts

    def origin(self, header: bytes, host: bytes | None) -> bool:
        """Whether a request from the page of origin ``header``, sent to ``host`` (the
        request's ``Host``), is answered: the registry's own origin, or an allowed one."""
        found = _origin(header.decode("latin-1"))
        if found is None:
            return False
        if found in self.origins:
            return True
        scheme, name, port = found
        addressed = None if host is None else _authority(host.decode("latin-1"))
        if addressed is None:
            return False
        addressed_name, addressed_port = addressed
        return addressed_name == name and (addressed_port or _DEFAULT_PORTS[scheme]) == port

    def cors(self, header: bytes) -> bool:
        """Whether the page of origin ``header`` gets CORS answers: an allowed origin."""
        return _origin(header.decode("latin-1")) in self.origins
