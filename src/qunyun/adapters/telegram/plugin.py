"""Registers the Telegram Bot API adapter (``platform = "telegram"``) for ``qunyun run``."""

from __future__ import annotations

from typing import Any

from qunyun.adapters.telegram.adapter import DeadLetter, TelegramAdapter
from qunyun.adapters.telegram.config import parse_account
from qunyun.engine.plugins import Registry


def make_adapter(entry: dict[str, Any], *, index: int = 0, dead_letter: DeadLetter | None = None) -> TelegramAdapter:
    """The adapter factory: one ``[[accounts]]`` entry → a Telegram adapter (ConfigError if invalid)."""
    return TelegramAdapter(parse_account(entry, index), dead_letter=dead_letter)


class TelegramPlugin:
    name = "telegram"

    def setup(self, registry: Registry) -> None:
        registry.add_adapter("telegram", make_adapter)
