"""The tiers plugin: CLI, dashboard page, API and the job that queues removals after the grace period."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qunyun.engine.plugins import Registry, lazy_router

TEMPLATES = Path(__file__).parent / "templates"


class TiersPlugin:
    name = "tiers"

    def setup(self, registry: Registry) -> None:
        from qunyun.features.tiers.cli import app as cli_app

        self.registry = registry
        registry.add_cli(cli_app, "tiers", help="Tiered groups: plan and apply periodic reviews.")
        registry.add_job("tiers.removals", self.removals_job, interval_seconds=300)
        registry.add_template_dir(TEMPLATES)
        registry.add_nav("nav.tiers", "/tiers", order=36, min_role="operator")
        # routers are imported when the web app is built, not on every CLI start
        registry.add_web_router(lazy_router("qunyun.features.tiers.web"))
        registry.add_api_router(lazy_router("qunyun.features.tiers.web", "api_router"))

    def removals_job(self, app: Any) -> int:
        from qunyun.features.tiers.review import due_removals

        with app.db.engine.begin() as conn:
            return len(due_removals(conn, dry_run=app.settings.engine.dry_run))
