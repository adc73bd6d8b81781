"""Registers the OneBot v11 adapter (protocol ``onebot``) for ``qunyun run``."""

from __future__ import annotations

from typing import Any

from qunyun.adapters.onebot.adapter import DeadLetter, OneBotAdapter
from qunyun.adapters.onebot.config import parse_account
from qunyun.engine.plugins import Registry


def make_adapter(entry: dict[str, Any], *, index: int = 0, dead_letter: DeadLetter | None = None) -> OneBotAdapter:
    """The adapter factory: one ``[[accounts]]`` entry → a OneBot adapter (ConfigError if invalid)."""
    return OneBotAdapter(parse_account(entry, index), dead_letter=dead_letter)


class OneBotPlugin:
    name = "onebot"

    def setup(self, registry: Registry) -> None:
        registry.add_adapter("onebot", make_adapter)
