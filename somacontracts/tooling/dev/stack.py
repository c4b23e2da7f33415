"""The local stack of a project: a broker and a registry in the background, and their state.

Everything lives in the project's state folder, ``.somacontracts/dev/`` next to the
``pyproject.toml`` that configures the project (else in the current folder):

- ``state.json``: the two ports, and the pid, command line and start time of each
  process while the stack is up;
- ``registry.db``: the registry's SQLite database (subjects, versions, KEKs, DEKs);
- ``broker.jsonl``: the broker's topics, messages and consumer offsets, saved by
  ``dev down`` and replayed by ``dev up`` (:mod:`somacontracts.tooling.dev.snapshot`);
- ``local-secret``: the local KMS secret of the stack's encrypted fields, made at the
  first ``dev up`` and readable by its owner only;
- ``broker.log``, ``registry.log``: what the processes print.

:class:`DevStack` starts the processes (:func:`~somacontracts.tooling.dev.processes.spawn`)
and stops exactly those it recorded; the ports stay in ``state.json`` after ``dev down``, so
the next ``dev up`` serves at the same addresses.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from somacontracts.tooling.dev.broker import LocalBroker, free_port
from somacontracts.tooling.dev.processes import (
    DevStackError,
    Started,
    running,
    spawn,
    stop,
    wait_listening,
)
from somacontracts.tooling.files import replace_text

__all__ = [
    "HOST",
    "STATE_FOLDER",
    "DevStack",
    "DevStackError",
    "Service",
    "StackState",
    "env_lines",
    "state_folder",
]

HOST = "127.0.0.1"
STATE_FOLDER = Path(".somacontracts") / "dev"
"""The state folder, relative to the folder of the project's ``pyproject.toml``."""
DEFAULT_PORTS = {"broker": 9092, "registry": 8081}
"""The ports a first ``dev up`` takes when they are free: the other commands' defaults."""
_START_TIMEOUT = {"broker": 15.0, "registry": 60.0}
_GRACE = 15.0  # seconds a process has to stop on SIGTERM (the registry ends its answers)
# The registry serves the stack's clients as they are: without the basic auth a shell may
# have set for another registry.
_NOT_INHERITED = ("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",)


def state_folder(config: Path | None) -> Path:
    """The state folder of the project configured by ``config`` (a ``pyproject.toml``;
    None: the project of the current folder, which has none)."""
    return (config.parent if config is not None else Path()) / STATE_FOLDER


@dataclass(frozen=True, slots=True)
class Service:
    """A process of the stack: its port, and the process while it runs."""

    name: str
    port: int
    process: Started | None = None


@dataclass(frozen=True, slots=True)
class StackState:
    """The stack's ports and processes, as ``state.json`` records them."""

    broker: Service
    registry: Service

    @property
    def bootstrap_servers(self) -> str:
        """The broker's address for ``KAFKA_BOOTSTRAP_SERVERS``."""
        return f"{HOST}:{self.broker.port}"

    @property
    def registry_url(self) -> str:
        """The registry's URL for ``SCHEMA_REGISTRY_URL``."""
        return f"http://{HOST}:{self.registry.port}"

    @property
    def services(self) -> tuple[Service, Service]:
        """Broker, then registry."""
        return self.broker, self.registry


class DevStack:
    """The local stack whose state is in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state_file = folder / "state.json"
        self.registry_db = folder / "registry.db"
        self.broker_data = folder / "broker.jsonl"
        self.secret_file = folder / "local-secret"

    def log_of(self, service: str) -> Path:
        """The log file of ``service`` (``broker`` or ``registry``)."""
        return self.folder / f"{service}.log"

    def read(self) -> StackState | None:
        """The recorded state; None where the stack never ran (or was reset)."""
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            return StackState(*(_service(name, data[name]) for name in ("broker", "registry")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise DevStackError(
                f"{self.state_file} cannot be read ({err}); `somacontracts dev reset` starts over"
            ) from err

    def write(self, state: StackState) -> None:
        """Record ``state`` in ``state.json`` (whole or not at all)."""
        data = {
            s.name: {"port": s.port, "process": s.process and s.process.to_json()}
            for s in state.services
        }
        replace_text(self.state_file, json.dumps(data, indent=2) + "\n")

    def running(self, state: StackState) -> dict[str, bool]:
        """Service name -> whether its recorded process still runs."""
        return {s.name: s.process is not None and running(s.process) for s in state.services}

    def up_state(self) -> StackState:
        """The state of a stack whose processes both run; :class:`DevStackError` otherwise."""
        state = self.read()
        if state is None or not all(self.running(state).values()):
            raise DevStackError(
                f"the local stack of {self.folder} is not up; `somacontracts dev up` starts it"
            )
        return state

    def ports(self, state: StackState | None, wanted: Mapping[str, int | None]) -> StackState:
        """``state`` with the ports ``wanted`` gives (0: any free one), else those
        recorded, else the default ones where free."""
        services = []
        for name in ("broker", "registry"):
            known = getattr(state, name) if state is not None else Service(name, 0)
            port = wanted.get(name)
            if port is None:
                port = known.port or (
                    DEFAULT_PORTS[name] if _free(DEFAULT_PORTS[name]) else free_port(HOST)
                )
            elif port == 0:
                port = free_port(HOST)
            services.append(replace(known, port=port))
        return StackState(*services)

    def secret(self) -> str:
        """The stack's local KMS secret, made (readable by the owner only) at first use."""
        try:
            return self.secret_file.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            pass
        text = secrets.token_urlsafe(32)
        descriptor = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(text + "\n")
        return text

    def start(self, service: Service) -> Service:
        """Start ``service`` in the background on its port and wait until it listens."""
        if not _free(service.port):
            raise DevStackError(
                f"port {service.port} of the {service.name} is taken by another program; "
                f"stop it, or give --{service.name}-port"
            )
        if service.name == "broker":
            command = LocalBroker(port=service.port).command()
        else:
            command = [
                *(sys.executable, "-m", "somacontracts", "registry", "serve"),
                *(
                    "--host",
                    HOST,
                    "--port",
                    str(service.port),
                    "--db",
                    str(self.registry_db.resolve()),
                ),
            ]
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        log = self.log_of(service.name)
        process = spawn(command, log=log, env=env)
        started = replace(service, process=process)
        if not wait_listening(process, HOST, service.port, timeout=_START_TIMEOUT[service.name]):
            stop([process], grace=_GRACE)
            raise DevStackError(
                f"the {service.name} did not listen on {HOST}:{service.port} within "
                f"{_START_TIMEOUT[service.name]:g} s: {_last_line(log)} (log: {log})"
            )
        return started

    def stop(self, services: Sequence[Service]) -> list[bool]:
        """Stop the recorded processes of ``services`` that are still those processes;
        return whether each ran."""
        return stop([s.process for s in services if s.process is not None], grace=_GRACE)

    def describe(self) -> list[str]:
        """Lines telling whether the stack runs, where and as which pids; none where no
        stack was ever started here."""
        state = self.read()
        if state is None:
            return []
        alive = self.running(state)
        if not any(alive.values()):
            return [f"local stack ({self.folder}): down; `somacontracts dev up` starts it"]
        lines = [f"local stack ({self.folder}): {'up' if all(alive.values()) else 'partly up'}"]
        for service in state.services:
            address = state.bootstrap_servers if service.name == "broker" else state.registry_url
            pid = f"pid {service.process.pid}" if service.process and alive[service.name] else ""
            lines.append(f"  {service.name}: {address} {pid or 'not running'}")
        return lines

    def wipe(self) -> None:
        """Remove the state folder and everything in it."""
        if self.folder.exists():
            shutil.rmtree(self.folder)


def env_lines(state: StackState, secret: str | None) -> list[str]:
    """``export NAME=value`` lines a POSIX shell evaluates: the stack's addresses, and its
    local KMS ``secret`` unless None."""
    values = {
        "KAFKA_BOOTSTRAP_SERVERS": state.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": state.registry_url,
    }
    if secret is not None:
        values["LOCAL_SECRET"] = secret
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]


def _service(name: str, value: Any) -> Service:
    process = value.get("process")
    return Service(
        name, int(value["port"]), None if process is None else Started.from_json(process)
    )


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the broker and the registry bind: a port whose last connections linger in
        # TIME_WAIT after `dev down` is free to them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    return lines[-1].strip() if lines else "it printed nothing"
