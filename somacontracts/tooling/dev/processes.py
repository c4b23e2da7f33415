"""Processes that outlive the command that started them, and stopping exactly those.

:func:`spawn` starts a command in its own session (no terminal's Ctrl-C or hang-up
reaches it), its output appended to a log file, and records it as a :class:`Started`:
pid, command line and start time. :func:`running` and :func:`stop` act on a pid only
while the process holding it has that same command line and start time, so a pid the
system handed to another program after ours ended is never taken for ours, nor
signalled. psutil reads both the same way on Linux, macOS and Windows.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from somacontracts.errors import ContractError

if TYPE_CHECKING:
    import psutil

__all__ = ["DevStackError", "Started", "running", "spawn", "stop", "wait_listening"]

_SAME_START = 0.01  # seconds: the start time psutil reads twice differs by float rounding
_COMMAND_LINE_WAIT = 1.0


class DevStackError(ContractError):
    """Raised when the local stack cannot be started, reached or stopped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"dev stack: {self.reason}"


@dataclass(frozen=True, slots=True)
class Started:
    """A process started in the background: what identifies it after its starter exited."""

    pid: int
    command: tuple[str, ...]
    started: float
    """Its start time in seconds since the epoch, as the system reports it."""

    def to_json(self) -> dict[str, Any]:
        """The record as JSON values."""
        return {"pid": self.pid, "command": list(self.command), "started": self.started}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Started:
        """The record :meth:`to_json` wrote; a ``KeyError``, ``TypeError`` or
        ``ValueError`` for anything else."""
        command = value["command"]
        if not isinstance(command, list) or not all(isinstance(w, str) for w in command):
            raise TypeError("command must be a list of strings")
        return cls(int(value["pid"]), tuple(command), float(value["started"]))


def _psutil() -> Any:
    try:
        import psutil
    except ImportError as err:
        raise DevStackError(
            "the dev stack needs psutil to recognise its processes; "
            "run `pip install somacontracts[local]`"
        ) from err
    return psutil


def spawn(command: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None) -> Started:
    """Start ``command`` in a session of its own, its output appended to ``log``."""
    ps = _psutil()
    try:
        with log.open("ab") as out:
            process = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=None if env is None else dict(env),
            )
    except OSError as err:
        raise DevStackError(f"cannot run {command[0]}: {err.strerror or err}") from err
    try:
        started = ps.Process(process.pid).create_time()
    except ps.Error:  # gone at once: wait_listening reports it, with its log
        started = 0.0
    return Started(process.pid, tuple(command), float(started))


def _ours(process: Started) -> psutil.Process | None:
    """The live process holding ``process.pid`` if it is ``process``, else None (a zombie
    child of this process, already ended, is reaped on the way)."""
    ps = _psutil()
    try:
        found = ps.Process(process.pid)
        if found.status() == ps.STATUS_ZOMBIE:
            found.wait(0)
            return None
        same = abs(found.create_time() - process.started) < _SAME_START
        same = same and _command_line(found) == process.command
    except (ps.NoSuchProcess, ps.ZombieProcess, ps.AccessDenied, ps.TimeoutExpired):
        return None
    return found if same else None


def _command_line(found: psutil.Process) -> tuple[str, ...]:
    """The command line of ``found``, read again while it is empty: the system shows none
    for a moment while a process is being started."""
    deadline = time.monotonic() + _COMMAND_LINE_WAIT
    while not (command := tuple(found.cmdline())) and time.monotonic() < deadline:
        time.sleep(0.01)
    return command


def running(process: Started) -> bool:
    """Whether ``process`` still runs (its pid, command line and start time all match)."""
    return _ours(process) is not None


def stop(processes: Sequence[Started], *, grace: float) -> list[bool]:
    """Stop those of ``processes`` that still run, together: SIGTERM, SIGKILL to any still
    running after ``grace`` seconds. Return whether each was running; a process that is
    not the one recorded is never signalled."""
    ps = _psutil()
    found = [_ours(process) for process in processes]
    live = [f for f in found if f is not None]
    for each in live:
        with contextlib.suppress(ps.NoSuchProcess):
            each.terminate()
    _, left = ps.wait_procs(live, timeout=grace)
    for each in left:
        with contextlib.suppress(ps.NoSuchProcess):
            each.kill()
    ps.wait_procs(left, timeout=grace)
    return [f is not None for f in found]


def wait_listening(process: Started, host: str, port: int, *, timeout: float) -> bool:
    """Whether ``host:port`` accepted a connection before ``timeout`` seconds passed while
    ``process`` ran; False as soon as it ended."""
    from somacontracts.tooling.dev.broker import wait_for_port

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running(process):
            return False
        if wait_for_port(host, port, timeout=0.2):
            return running(process)
    return False
