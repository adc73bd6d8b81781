"""A small uvicorn server inside the bot process, for adapters the platform calls into.

OneBot reverse WebSocket / HTTP POST, and webhook-style adapters (Telegram webhook, WeCom
callback) expose a FastAPI router; ``qunyun run`` groups them by ``listen`` address and serves
each address with one :class:`Listener`. It binds its own socket (so a taken port is a clear
``OSError`` naming the address, and port 0 works in tests) and leaves SIGINT/SIGTERM to the runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from fastapi import FastAPI


class Listener:
    def __init__(
        self, routers: list[Any], host: str, port: int, *, app: Any = None, log_level: str = "warning"
    ) -> None:
        import uvicorn

        self.host, self.port = host, port
        if app is None:
            app = FastAPI(title="qunyun inbound", docs_url=None, redoc_url=None, openapi_url=None)
            for router in routers:
                app.include_router(router)
        self.app = app
        config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off")
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None

    async def start(self) -> None:
        """Bind (an OSError names the address if it is taken), then serve in the background."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from exc
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._sock = sock
        # Server.serve() would capture SIGINT/SIGTERM; the runner owns those, so run the inner loop.
        self.task = asyncio.create_task(self.server._serve(sockets=[sock]), name=f"listen-{self.port}")
        for _ in range(500):
            if self.server.started or self.task.done():
                break
            await asyncio.sleep(0.01)
        if self.task.done():
            self.task.result()
            raise OSError(f"listener {self.host}:{self.port} stopped at start")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.task, 5)
        if self._sock is not None:
            self._sock.close()
