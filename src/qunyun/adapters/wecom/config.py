"""One ``[[accounts]]`` entry of qunyun.toml for WeCom (企业微信), validated.

Example::

    [[accounts]]
    name = "wecom-main"
    platform = "wecom"
    # sending: one group robot (群机器人) per group; key = the webhook URL's key= value (or the URL)
    robots = { "wrOgAAAA-customer-group-1" = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa" }
    # receiving: the self-built application's callback (接收消息服务器配置)
    corp_id = "ww1234567890abcdef"
    token = "callback-token"
    encoding_aes_key = "43 characters from the admin console"
    listen = "127.0.0.1:8090"        # serves GET/POST /wecom/<name> (put your HTTPS proxy in front)
"""

from __future__ import annotations

import os
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qunyun.adapters.wecom.crypto import WeComCryptoError, aes_key
from qunyun.config import ConfigError

ROBOT_API = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"


class WeComAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "wecom"
    platform: Literal["wecom"] = "wecom"
    protocol: Literal["wecom"] = "wecom"
    #: group id → robot key (the ``key=`` of the robot's webhook URL, or the whole URL)
    robots: dict[str, str] = Field(default_factory=dict, repr=False)
    robot_api: str = ROBOT_API
    corp_id: str | None = None
    token: str | None = Field(default=None, repr=False)
    encoding_aes_key: str | None = Field(default=None, repr=False)
    listen: str = "127.0.0.1:8090"
    api_timeout: float = Field(default=15.0, gt=0)
    enabled: bool = True

    @field_validator("robots")
    @classmethod
    def _keys(cls, robots: dict[str, str]) -> dict[str, str]:
        out = {}
        for group, key in robots.items():
            if key.startswith(("http://", "https://")):
                found = parse_qs(urlparse(key).query).get("key")
                if not found:
                    raise ValueError(f"robots.{group}: the webhook URL has no key= parameter")
                key = found[0]
            if not key.strip():
                raise ValueError(f"robots.{group}: empty key")
            out[str(group)] = key.strip()
        return out

    @model_validator(mode="after")
    def _check(self) -> WeComAccount:
        callback = (self.corp_id, self.token, self.encoding_aes_key)
        if any(callback) and not all(callback):
            raise ValueError("the callback needs corp_id, token and encoding_aes_key together")
        if self.encoding_aes_key:
            try:
                aes_key(self.encoding_aes_key)
            except WeComCryptoError as exc:
                raise ValueError(str(exc)) from exc
        if not self.robots and not self.corp_id:
            raise ValueError("configure robots (to send) and/or corp_id/token/encoding_aes_key (to receive)")
        host, sep, port = self.listen.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"listen must be host:port, got {self.listen!r}")
        return self

    @property
    def receives(self) -> bool:
        return bool(self.corp_id)

    @property
    def listen_addr(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host, int(port)


def parse_account(entry: dict[str, Any], index: int = 0) -> WeComAccount:
    """Validate one ``[[accounts]]`` table; ConfigError names the entry and the key (never a secret)."""
    data = dict(entry)
    for key in ("token", "encoding_aes_key"):
        if not data.get(key):
            value = os.environ.get(f"QUNYUN_WECOM_{key.upper()}")
            if value:
                data[key] = value
    try:
        return WeComAccount.model_validate(data)
    except ValidationError as exc:
        label = entry.get("name") or f"#{index + 1}"
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"accounts[{index}] ({label}): {problems}") from exc
