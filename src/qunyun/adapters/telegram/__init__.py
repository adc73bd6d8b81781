"""Telegram Bot API adapter: long polling or webhook in, Bot API methods out (see docs/adapters.md)."""

from qunyun.adapters.telegram.adapter import TelegramAdapter
from qunyun.adapters.telegram.config import TelegramAccount, parse_account
from qunyun.adapters.telegram.parse import TelegramParseError, parse_update

__all__ = ["TelegramAccount", "TelegramAdapter", "TelegramParseError", "parse_account", "parse_update"]
