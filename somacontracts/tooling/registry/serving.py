"""uvicorn's server, woken by a stop request rather than by polling.

``uvicorn.Server`` checks ``should_exit`` every 0.1 s and sleeps another 0.1 s while
shutting down, so a stop takes 0.2 s whatever is open: most of the time tests and tools
spend starting and stopping local registries. :class:`PromptServer` waits on an event
that :meth:`PromptServer.request_stop` sets from any thread, and shuts down as soon as
its connections are closed. Requests being answered get up to
``timeout_graceful_shutdown`` seconds to be answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import uvicorn

__all__ = ["PromptServer"]

_DATE_REFRESH = 1.0  # uvicorn refreshes its Date header once a second


class PromptServer(uvicorn.Server):
    """A uvicorn server that stops as soon as asked, from any thread."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def request_stop(self) -> None:
        """Ask the server to stop; safe from any thread, and before it has started."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed: it has stopped
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        ticks = 0
        while not await self.on_tick(ticks):
            ticks += 10  # one call a second: the Date header is refreshed on every tenth
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _DATE_REFRESH)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or 0)
        state = self.server_state
        while (state.connections or state.tasks) and loop.time() < deadline and not self.force_exit:
            await asyncio.sleep(0.002)
        for connection in list(state.connections):
            connection.transport.close()
        for task in list(state.tasks):
            task.cancel()
        for server in self.servers:
            await server.wait_closed()
