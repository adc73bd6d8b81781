"""Registers ``qunyun run``, ``qunyun connections``, the ``/connections`` page and ``GET /api/v1/connections``."""

from __future__ import annotations

from pathlib import Path

from qunyun.engine.plugins import Registry, lazy_router


class RunPlugin:
    name = "run"

    def setup(self, registry: Registry) -> None:
        from qunyun.run.cli import connections_command, run_command

        registry.add_cli_command("run", run_command)
        registry.add_cli_command("connections", connections_command)
        registry.add_web_router(lazy_router("qunyun.run.web", "page_router"))
        registry.add_api_router(lazy_router("qunyun.run.web", "api_router"))
        registry.add_template_dir(Path(__file__).parent / "templates")
        registry.add_nav("nav.connections", "/connections", order=86)
