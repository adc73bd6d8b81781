"""WeCom (企业微信): group robots to send, the application callback to receive (see docs/adapters.md)."""

from qunyun.adapters.wecom.adapter import WeComAdapter
from qunyun.adapters.wecom.config import WeComAccount, parse_account
from qunyun.adapters.wecom.crypto import WeComCrypto, WeComCryptoError
from qunyun.adapters.wecom.staff import staff_task

__all__ = ["WeComAccount", "WeComAdapter", "WeComCrypto", "WeComCryptoError", "parse_account", "staff_task"]
