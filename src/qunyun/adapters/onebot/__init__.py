"""OneBot v11 (QQ through NapCat / Lagrange / go-cqhttp): forward WS, reverse WS and HTTP."""

from qunyun.adapters.onebot.adapter import OneBotAdapter, check_signature, check_token
from qunyun.adapters.onebot.config import OneBotAccount, parse_account
from qunyun.adapters.onebot.errors import (
    OneBotApiError,
    OneBotError,
    OneBotNotConnected,
    OneBotParseError,
    OneBotTimeout,
)
from qunyun.adapters.onebot.parse import parse_event

__all__ = [
    "OneBotAccount",
    "OneBotAdapter",
    "OneBotApiError",
    "OneBotError",
    "OneBotNotConnected",
    "OneBotParseError",
    "OneBotTimeout",
    "check_signature",
    "check_token",
    "parse_account",
    "parse_event",
]
