"""One ``[[accounts]]`` entry of qunyun.toml for a OneBot v11 bot account, validated.

Example::

    [[accounts]]
    name = "qq-main"            # how the outbox and the dashboard call it (default: self_id)
    platform = "qq"
    protocol = "onebot"
    mode = "ws"                 # ws (qunyun connects) | ws-reverse (the implementation connects) | http
    url = "ws://127.0.0.1:3001" # ws: the implementation's WS server; http: its HTTP API base URL
    access_token = "..."        # sent as Authorization: Bearer, and required from the implementation
    secret = "..."              # http: verify X-Signature of event posts
    self_id = "123456"          # the QQ number of the bot (required for ws-reverse with several bots)
    listen = "127.0.0.1:8080"   # ws-reverse / http: where qunyun serves /onebot/v11/ws and /onebot/v11/http
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qunyun.config import ConfigError


class OneBotAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    platform: str = "qq"
    protocol: Literal["onebot"] = "onebot"
    mode: Literal["ws", "ws-reverse", "http"] = "ws"
    url: str | None = None
    access_token: str | None = None
    secret: str | None = None
    self_id: str | None = None
    listen: str = "127.0.0.1:8080"
    #: seconds to wait for an API response carrying our echo
    api_timeout: float = Field(default=30.0, gt=0)
    #: reconnect backoff (forward WS): first delay and cap, seconds
    reconnect_min: float = Field(default=1.0, gt=0)
    reconnect_max: float = Field(default=60.0, gt=0)
    enabled: bool = True

    @model_validator(mode="after")
    def _check(self) -> OneBotAccount:
        if self.mode == "ws" and not (self.url or "").startswith(("ws://", "wss://")):
            raise ValueError("mode 'ws' needs url = \"ws://host:port\" (the implementation's WebSocket server)")
        if self.mode == "http" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError("mode 'http' needs url = \"http://host:port\" (the implementation's HTTP API)")
        if self.mode == "ws-reverse" and self.url:
            raise ValueError("mode 'ws-reverse' takes no url: the implementation connects to `listen`")
        host, sep, port = self.listen.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"listen must be host:port, got {self.listen!r}")
        if self.self_id is not None:
            self.self_id = str(self.self_id)
        if not self.name:
            self.name = self.self_id or f"onebot-{self.mode}"
        return self

    @property
    def listen_addr(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host, int(port)


def parse_account(entry: dict[str, Any], index: int = 0) -> OneBotAccount:
    """Validate one ``[[accounts]]`` table; ConfigError names the entry and the key."""
    data = dict(entry)
    if "self_id" in data and isinstance(data["self_id"], int):
        data["self_id"] = str(data["self_id"])
    try:
        return OneBotAccount.model_validate(data)
    except ValidationError as exc:
        label = entry.get("name") or entry.get("self_id") or f"#{index + 1}"
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise ConfigError(f"accounts[{index}] ({label}): {problems}") from exc


def _problem(err: Any) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg
