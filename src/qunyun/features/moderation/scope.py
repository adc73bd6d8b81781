"""Which rules apply where: the plugin's settings, dashboard-edited rule lists, trust (信任).

``[features.moderation]`` holds the detection rules (6A's :class:`.config.ModerationConfig`:
``rules`` + per-group ``groups`` overrides) plus this plugin's own keys: ``communities`` overrides,
``trusted_users``, ``ladder``, ``waves`` and ``review``. Operators add keywords, allowed/denied
domains and whitelisted members from the dashboard or the CLI; those rows
(``moderation_lists``) are merged over the file's rules at scope ``*`` (everywhere),
``community:<key>`` or ``group:<platform>:<group_id>``; ``rule_off`` rows switch a rule family
(trade, promo, QR codes, the model) off for their scope.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import ColumnElement, Connection, delete, select, update

from .config import ModerationConfig, SpamRulesConfig
from .ladder import LadderConfig
from .review import ReviewConfig
from .tables import Community, ListEntryRow, TrustRow, tbl
from .waves import WaveConfig


class ModerationSettings(ModerationConfig):
    """The whole ``[features.moderation]`` section (detection rules + ladder, waves, review)."""

    #: per-community overrides of ``rules`` keys, by community name or key (``c3``, ``-``)
    communities: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: members never moderated: ``user_id`` or ``platform:user_id`` (KOLs, partner bots ...)
    trusted_users: list[str] = Field(default_factory=list)
    #: group owners/admins (platform flag or the member table's is_admin) are trusted
    trust_admins: bool = True
    #: a member with at least this many messages in the group (0 = off) is acted on only when the
    #: message carries hard evidence (a contact handle, an invite, a QR code, a denied link, a flood
    #: or a strong keyword): vocabulary alone (红包, 私聊) never removes a long-standing member
    established_messages: int = Field(default=20, ge=0)
    #: without hard evidence a message is acted on only at this score or above (and never when the
    #: member is established); below it, it is flagged for review and nothing is done
    certain_score: float = Field(default=0.9, gt=0, le=1)
    ladder: LadderConfig = Field(default_factory=LadderConfig)
    waves: WaveConfig = Field(default_factory=WaveConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)


#: list kinds → the SpamRulesConfig field they extend (whitelist is about members, not rules)
LIST_KINDS: dict[str, str | None] = {
    "keyword": "keywords",
    "weak_keyword": "weak_keywords",
    "ignore_keyword": "ignore_keywords",
    "allow_domain": "allow_domains",
    "deny_domain": "deny_domains",
    "whitelist": None,
    "rule_off": None,
}
#: rule families an operator can switch off for a scope (``rule_off`` entries) → the
#: SpamRulesConfig switch they set to false: a 业主群 where neighbours trade (``trade``), a 拼团群
#: that exists to share deals (``promo``), a design group posting QR-code mock-ups (``qr``), a
#: group whose chat the model misreads (``model``: rules only)
RULE_FAMILIES: dict[str, str] = {"trade": "trade_rules", "promo": "promo_rules", "qr": "qr_scan", "model": "use_model"}
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_SCOPE = re.compile(r"^(\*|community:[\w-]{1,60}|group:[a-z0-9_-]{1,32}:[^\s:]{1,128})$")


class RuleListError(ValueError):
    """A rule-list entry was rejected; ``key`` and ``params`` name the catalog message."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(f"{key}: {params}")
        self.key = key
        self.params = params


def scopes_for(platform: str, group_id: str, community: str) -> list[str]:
    return ["*", f"community:{community}", f"group:{platform}:{group_id}"]


def clean_list_value(kind: str, value: str) -> str:
    """Validate and normalize one list value; raises :class:`RuleListError` naming what is wrong."""
    if kind not in LIST_KINDS:
        raise RuleListError("moderation.error.bad_list_kind", value=kind, choices=", ".join(LIST_KINDS))
    value = (value or "").strip()
    if not value or len(value) > 255:
        raise RuleListError("moderation.error.bad_value", value=value, why="1-255 characters")
    if kind.endswith("_domain"):
        value = value.lower().removeprefix("http://").removeprefix("https://").removeprefix("www.").strip("/")
        if not _DOMAIN.match(value):
            raise RuleListError("moderation.error.bad_value", value=value, why="not a domain like example.com")
    if kind == "whitelist" and any(ch.isspace() for ch in value):
        raise RuleListError("moderation.error.bad_value", value=value, why="a user id or platform:user_id")
    if kind == "rule_off":
        value = value.lower()
        if value not in RULE_FAMILIES:
            raise RuleListError("moderation.error.bad_value", value=value, why="one of " + ", ".join(RULE_FAMILIES))
    return value


def add_list_entry(
    conn: Connection,
    scope: str,
    kind: str,
    value: str,
    *,
    by: str | None,
    now: datetime,
    note: str | None = None,
) -> int:
    """Add a rule (idempotent: the same scope/kind/value returns the existing id)."""
    if not _SCOPE.match(scope or ""):
        raise RuleListError("moderation.error.bad_scope", value=scope)
    value = clean_list_value(kind, value)
    t = tbl(ListEntryRow)
    found = conn.execute(select(t.c.id).where(t.c.scope == scope, t.c.kind == kind, t.c.value == value)).first()
    if found:
        return int(found[0])
    res = conn.execute(t.insert().values(scope=scope, kind=kind, value=value, note=note, created_by=by, created_at=now))
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def remove_list_entry(conn: Connection, entry_id: int) -> bool:
    t = tbl(ListEntryRow)
    return bool(conn.execute(delete(t).where(t.c.id == entry_id)).rowcount)


def list_entries(conn: Connection, scopes: list[str] | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    t = tbl(ListEntryRow)
    conds: list[ColumnElement[bool]] = []
    if scopes is not None:
        conds.append(t.c.scope.in_(scopes))
    if kind:
        conds.append(t.c.kind == kind)
    return [dict(r._mapping) for r in conn.execute(select(t).where(*conds).order_by(t.c.scope, t.c.kind, t.c.id))]


def effective_rules(
    settings: ModerationSettings,
    conn: Connection | None,
    platform: str,
    group_id: str,
    community: Community,
    entries: list[dict[str, Any]] | None = None,
) -> SpamRulesConfig:
    """File rules ⊕ community override ⊕ group override ⊕ dashboard lists, for one group."""
    merged = settings.rules.model_dump()
    for name in (community.name, community.key, str(community.community_id)):
        if name and name in settings.communities:
            merged.update(settings.communities[name])
            break
    for gkey in (group_id, f"{platform}:{group_id}"):
        if gkey in settings.groups:
            merged.update(settings.groups[gkey])
    if entries is None and conn is not None:
        entries = list_entries(conn, scopes_for(platform, group_id, community.key))
    for entry in entries or ():
        if entry["kind"] == "rule_off" and entry["value"] in RULE_FAMILIES:
            merged[RULE_FAMILIES[entry["value"]]] = False
            continue
        field = LIST_KINDS.get(entry["kind"])
        if field and entry["value"] not in merged[field]:
            merged[field] = [*merged[field], entry["value"]]
    if entries:
        deny = {e["value"] for e in entries if e["kind"] == "deny_domain"}
        if deny:  # an operator's deny wins over a default allow
            merged["allow_domains"] = [d for d in merged["allow_domains"] if d not in deny]
    return SpamRulesConfig.model_validate(merged)


def is_whitelisted(settings: ModerationSettings, entries: list[dict[str, Any]], platform: str, user_id: str) -> bool:
    names = {user_id, f"{platform}:{user_id}"}
    if names & set(settings.trusted_users):
        return True
    return any(e["kind"] == "whitelist" and e["value"] in names for e in entries)


def trust_bonus(conn: Connection, platform: str, user_id: str) -> float:
    t = tbl(TrustRow)
    value = conn.execute(select(t.c.bonus).where(t.c.platform == platform, t.c.user_id == user_id)).scalar()
    return float(value or 0.0)


def add_trust(conn: Connection, platform: str, user_id: str, delta: float, cap: float, now: datetime) -> float:
    """Raise (or lower) a member's trust bonus, kept within ``[0, cap]``; returns the new value."""
    t = tbl(TrustRow)
    current = conn.execute(select(t.c.id, t.c.bonus).where(t.c.platform == platform, t.c.user_id == user_id)).first()
    if current is None:
        value = max(0.0, min(cap, delta))
        conn.execute(t.insert().values(platform=platform, user_id=user_id, bonus=value, updated_at=now))
        return value
    value = max(0.0, min(cap, float(current.bonus) + delta))
    conn.execute(update(t).where(t.c.id == current.id).values(bonus=value, updated_at=now))
    return value


def trusted_members(conn: Connection, platform: str | None = None) -> list[dict[str, Any]]:
    t = tbl(TrustRow)
    conds = [t.c.bonus > 0]
    if platform:
        conds.append(t.c.platform == platform)
    return [dict(r._mapping) for r in conn.execute(select(t).where(*conds).order_by(t.c.bonus.desc()))]
