"""The tiers plugin (filled in below)."""

from __future__ import annotations

from qunyun.engine.plugins import Registry


class TiersPlugin:
    name = "tiers"

    def setup(self, registry: Registry) -> None:
        self.registry = registry
