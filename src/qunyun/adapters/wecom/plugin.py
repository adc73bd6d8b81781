"""Registers the WeCom adapter (``platform = "wecom"``) for ``qunyun run``."""

from __future__ import annotations

from typing import Any

from qunyun.adapters.wecom.adapter import DeadLetter, WeComAdapter
from qunyun.adapters.wecom.config import parse_account
from qunyun.engine.plugins import Registry


def make_adapter(entry: dict[str, Any], *, index: int = 0, dead_letter: DeadLetter | None = None) -> WeComAdapter:
    """The adapter factory: one ``[[accounts]]`` entry → a WeCom adapter (ConfigError if invalid)."""
    return WeComAdapter(parse_account(entry, index), dead_letter=dead_letter)


class WeComPlugin:
    name = "wecom"

    def setup(self, registry: Registry) -> None:
        registry.add_adapter("wecom", make_adapter)
