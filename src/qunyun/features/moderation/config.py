"""Per-community / per-group configuration of the spam rules (反垃圾规则配置)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: domains ordinary chat links to all the time; a link here lowers the score instead of raising it
DEFAULT_ALLOW_DOMAINS = [
    "ubuntu.com", "askubuntu.com", "launchpad.net", "debian.org", "archlinux.org", "kernel.org",
    "python.org", "pypi.org", "readthedocs.io", "github.com", "gitlab.com", "githubusercontent.com",
    "stackoverflow.com", "stackexchange.com", "wikipedia.org", "pastebin.com", "paste.ubuntu.com",
    "gist.github.com", "dpaste.com", "dpaste.org", "imgur.com", "youtube.com", "youtu.be",
    "google.com", "mozilla.org", "apple.com", "microsoft.com", "bilibili.com", "b23.tv",
    "zhihu.com", "baidu.com", "minecraft.net", "mcbbs.net", "gitee.com", "csdn.net", "qq.com",
    "weibo.com", "douban.com", "mozilla.net", "freedesktop.org", "gnu.org", "sourceforge.net",
]  # fmt: skip

#: link shorteners hide the destination; a small signal by themselves
DEFAULT_SHORTENERS = [
    "bit.ly", "tinyurl.com", "t.cn", "url.cn", "dwz.cn", "urlz.fr", "goo.gl", "is.gd", "cutt.ly",
    "rb.gy", "shorturl.at", "ow.ly", "tiny.cc", "s.id", "tiny.one", "shorturl.asia", "suo.im",
]  # fmt: skip


class SpamRulesConfig(BaseModel):
    """Everything an operator may tune for one community or one group.

    Weights are log-odds: ``+4`` alone makes a message spam, ``-1`` makes it more likely ham.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    #: use the shipped zh/en/ru keyword lists (:mod:`.keywords`)
    use_default_keywords: bool = True
    #: extra keywords; each one alone marks a message as spam (违禁词)
    keywords: list[str] = Field(default_factory=list)
    #: extra keywords that only count together with other signals
    weak_keywords: list[str] = Field(default_factory=list)
    #: default keywords to switch off in this community (e.g. 代理 in a proxy-server group)
    ignore_keywords: list[str] = Field(default_factory=list)
    allow_domains: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOW_DOMAINS))
    deny_domains: list[str] = Field(default_factory=list)
    shortener_domains: list[str] = Field(default_factory=lambda: list(DEFAULT_SHORTENERS))
    #: score at or above which a message is spam
    threshold: float = Field(default=0.5, gt=0, lt=1)
    #: stricter threshold for a newcomer's first ``newcomer_messages`` messages (新人前几条)
    newcomer_threshold: float = Field(default=0.35, gt=0, lt=1)
    newcomer_messages: int = Field(default=5, ge=0)
    #: weight added to link/contact/QR findings in a newcomer's first messages
    newcomer_boost: float = 1.0
    use_model: bool = True
    #: multiplies the model's log-odds (0 = rules only)
    model_weight: float = Field(default=1.0, ge=0)
    #: @-mentions in one message that count as a mass mention (群发@)
    mass_mention: int = Field(default=5, ge=1)
    #: flood: more than ``flood_messages`` messages in ``flood_seconds`` by one member in one group
    flood_messages: int = Field(default=6, ge=2)
    flood_seconds: float = Field(default=10.0, gt=0)
    #: the same text ``repeat_count`` times within ``repeat_seconds`` (刷屏)
    repeat_count: int = Field(default=3, ge=2)
    repeat_seconds: float = Field(default=600.0, gt=0)
    #: decode QR codes in images (二维码)
    qr_scan: bool = True
    #: the trade rules (``trade:price``, ``trade:offer``: 出一台…100元, 收一张卡): on for chat groups
    #: where selling is advertising; off for a 业主群 or second-hand group where neighbours trade
    trade_rules: bool = True
    #: the promotion rules (``promo:offer``, ``promo:contact``: 全场x折…电话, a shop's listing with a
    #: number): on for chat groups and SMS; off for a deals group (拼团群, 优惠券群) whose whole
    #: purpose is sharing promotions. The scam shapes (phishing, payees, refunds) stay on.
    promo_rules: bool = True


class ModerationConfig(BaseModel):
    """A community's rules plus per-group overrides (``groups[group_id]`` holds changed keys only)."""

    model_config = ConfigDict(extra="forbid")

    rules: SpamRulesConfig = Field(default_factory=SpamRulesConfig)
    groups: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def for_group(self, group_id: str | None) -> SpamRulesConfig:
        """The effective rules of one group: community rules updated with the group's overrides."""
        override = self.groups.get(group_id or "")
        if not override:
            return self.rules
        merged = self.rules.model_dump()
        merged.update(override)
        return SpamRulesConfig.model_validate(merged)
