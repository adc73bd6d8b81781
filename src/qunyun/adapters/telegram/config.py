"""One ``[[accounts]]`` entry of qunyun.toml for a Telegram bot, validated.

Example::

    [[accounts]]
    name = "tg-main"                 # how the outbox and the dashboard call it (default: the bot's id)
    platform = "telegram"
    token = "123456:ABC..."          # from @BotFather (or env QUNYUN_TELEGRAM_TOKEN_<NAME>)
    mode = "polling"                 # polling (getUpdates) | webhook (Telegram POSTs to us)
    # webhook only:
    webhook_url = "https://bot.example.com/telegram/tg-main"   # public URL; qunyun calls setWebhook
    secret_token = "long-random"     # checked against X-Telegram-Bot-Api-Secret-Token
    listen = "127.0.0.1:8443"        # where qunyun serves POST /telegram/<name> (behind your TLS proxy)
"""

from __future__ import annotations

import os
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qunyun.config import ConfigError

#: the updates qunyun needs; chat_member must be asked for explicitly (and the bot must be admin)
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "message_reaction",
]
_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    platform: Literal["telegram"] = "telegram"
    protocol: Literal["telegram", "botapi"] = "telegram"
    token: str = Field(default="", repr=False)
    mode: Literal["polling", "webhook"] = "polling"
    api_base: str = "https://api.telegram.org"
    webhook_url: str | None = None
    secret_token: str | None = Field(default=None, repr=False)
    listen: str = "127.0.0.1:8443"
    #: long-polling timeout (seconds Telegram holds getUpdates open)
    poll_timeout: int = Field(default=30, ge=0, le=50)
    allowed_updates: list[str] = Field(default_factory=lambda: list(ALLOWED_UPDATES))
    #: private chats with the bot become events in group ``private:<user id>`` (off: dropped)
    include_private: bool = False
    api_timeout: float = Field(default=30.0, gt=0)
    reconnect_min: float = Field(default=1.0, gt=0)
    reconnect_max: float = Field(default=60.0, gt=0)
    enabled: bool = True

    @model_validator(mode="after")
    def _check(self) -> TelegramAccount:
        if not _TOKEN.match(self.token):
            raise ValueError("token must be the bot token from @BotFather, like 123456:ABC-DEF...")
        if self.mode == "webhook":
            if not self.secret_token or not _SECRET.match(self.secret_token):
                raise ValueError("mode 'webhook' needs secret_token (1-256 chars of A-Z a-z 0-9 _ -)")
            if self.webhook_url is not None and not self.webhook_url.startswith("https://"):
                raise ValueError("webhook_url must be https:// (Telegram only calls HTTPS webhooks)")
        host, sep, port = self.listen.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"listen must be host:port, got {self.listen!r}")
        if not self.name:
            self.name = "tg-" + self.token.split(":", 1)[0]
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", self.name):
            raise ValueError("name may only use letters, digits, _ . - (it is part of the webhook path)")
        return self

    @property
    def bot_id(self) -> str:
        return self.token.split(":", 1)[0]

    @property
    def listen_addr(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host, int(port)

    @property
    def webhook_path(self) -> str:
        return f"/telegram/{self.name}"


def parse_account(entry: dict[str, Any], index: int = 0) -> TelegramAccount:
    """Validate one ``[[accounts]]`` table; ConfigError names the entry and the key (never the token)."""
    data = dict(entry)
    if not data.get("token"):
        env = f"QUNYUN_TELEGRAM_TOKEN_{str(data.get('name') or '').upper().replace('-', '_')}"
        data["token"] = os.environ.get(env) or os.environ.get("QUNYUN_TELEGRAM_TOKEN", "")
    try:
        return TelegramAccount.model_validate(data)
    except ValidationError as exc:
        label = entry.get("name") or f"#{index + 1}"
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"accounts[{index}] ({label}): {problems}") from exc
