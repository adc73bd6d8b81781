"""Errors of the OneBot adapter; each message says what was wrong with which input."""

from __future__ import annotations


class OneBotError(Exception):
    """Base class of OneBot adapter errors."""


class OneBotParseError(OneBotError, ValueError):
    """A payload from the implementation is not valid OneBot v11 (kept as a dead letter)."""

    def __init__(self, message: str, *, raw: object = None) -> None:
        super().__init__(message)
        self.raw = raw


class OneBotApiError(OneBotError):
    """The implementation answered an API call with ``status: failed``."""

    def __init__(self, action: str, retcode: int, message: str = "") -> None:
        super().__init__(f"{action} failed: retcode {retcode}{': ' + message if message else ''}")
        self.action, self.retcode, self.detail = action, retcode, message


class OneBotTimeout(OneBotError, TimeoutError):
    """No response with our ``echo`` arrived in time: the call may or may not have happened."""


class OneBotNotConnected(OneBotError, ConnectionError):
    """No connection to the implementation right now (nothing was sent)."""
