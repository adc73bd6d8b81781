"""``[features.members]`` in qunyun.toml: score weights, decay, reference time, role thresholds.

Every key is optional; a wrong value is reported with its full key (``features.members.half_life_days``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Weights(_Strict):
    """Points per unit of activity, before the time decay."""

    #: the first message of a member in a given minute
    message: float = Field(default=1.0, ge=0)
    #: each further message in the same minute (anti-farming: diminishing returns)
    extra_message: float = Field(default=0.2, ge=0)
    reply_given: float = Field(default=0.5, ge=0)
    reply_received: float = Field(default=2.0, ge=0)
    mention_received: float = Field(default=1.0, ge=0)
    reaction_received: float = Field(default=0.5, ge=0)
    invite: float = Field(default=5.0, ge=0)
    checkin: float = Field(default=1.0, ge=0)
    valuable_post: float = Field(default=10.0, ge=0)


class RoleThresholds(_Strict):
    """When a member is called what. Overridable per group type (``group_types.learning``)."""

    #: the recent window in days for 'messages lately' (core, regular, lurker)
    window_days: int = Field(default=30, ge=1, le=3650)
    newcomer_days: int = Field(default=7, ge=0)
    lurker_min_tenure_days: int = Field(default=14, ge=0)
    #: at most this many messages in the window counts as 'almost none'
    lurker_max_messages: int = Field(default=2, ge=0)
    #: ... and at most this many ever: past contributors who went quiet are not 'lurkers'
    lurker_max_total_messages: int = Field(default=10, ge=0)
    #: share of the window's speakers that can be core (the 二八 rule of thumb: a fifth carries the group)
    core_top_pct: float = Field(default=0.20, gt=0, le=1)
    core_min_messages: int = Field(default=20, ge=0)
    core_min_active_days: int = Field(default=3, ge=1)
    kol_window_days: int = Field(default=90, ge=1, le=3650)
    kol_top_pct: float = Field(default=0.01, gt=0, le=1)
    kol_min_people: int = Field(default=5, ge=1)
    kol_min_interactions: int = Field(default=10, ge=1)
    silent_min_days: int = Field(default=7, ge=1)
    silent_max_days: int = Field(default=28, ge=1)
    #: 'was in the top quarter' = at or above this quantile of messages before going quiet
    silent_top_quantile: float = Field(default=0.75, ge=0, le=1)
    silent_min_messages: int = Field(default=10, ge=1)
    #: ... on at least this many days (a one-day visitor is not a regular who went quiet)
    silent_min_active_days: int = Field(default=3, ge=1)


class LeaderboardPost(_Strict):
    """A leaderboard posted to a group on a schedule (cron, in UTC)."""

    group: str
    board: Literal["active", "helpful", "invites", "checkins", "points"] = "active"
    period: Literal["day", "week", "month"] = "week"
    cron: str = "0 12 * * 0"
    top: int = Field(default=10, ge=1, le=50)
    lang: Literal["zh-CN", "en"] = "zh-CN"
    #: leaderboard over every group instead of the target group only
    community: bool = False


class MembersConfig(_Strict):
    weights: Weights = Field(default_factory=Weights)
    half_life_days: float = Field(default=14.0, gt=0)
    #: 'now', 'last_event' (the group's last activity) or 'auto' (last_event when the data is historic)
    reference: Literal["auto", "now", "last_event"] = "auto"
    #: in 'auto', data whose last event is older than this many days is treated as historic
    historic_after_days: int = Field(default=30, ge=1)
    #: how time is counted for decay and role windows: 'calendar' days, the group's 'active_days'
    #: (days with at least one message; gaps in a log or a dead week do not age anyone), or 'auto'
    #: (active days when the data is historic, calendar days otherwise)
    clock: Literal["auto", "calendar", "active_days"] = "auto"
    roles: RoleThresholds = Field(default_factory=RoleThresholds)
    #: per group type (general, learning, ...): keys of ``roles`` to override
    group_types: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: staff accounts as 'platform:user_id' (every group) or 'platform:group_id:user_id'
    admins: list[str] = Field(default_factory=list)
    #: bot accounts ('platform:user_id' or 'platform:group_id:user_id'): shown as admin (a tool of the
    #: staff), never ranked as KOL/core
    bots: list[str] = Field(default_factory=list)
    #: a newcomer's message within this many days of joining may be a self-introduction
    intro_days: int = Field(default=7, ge=0)
    leaderboard_posts: list[LeaderboardPost] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_group_types(self) -> MembersConfig:
        for name in self.group_types:
            try:
                self.roles_for(name)
            except ValidationError as exc:
                raise ValueError(
                    f"group_types.{name}: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"
                ) from exc
        return self

    def roles_for(self, group_type: str | None) -> RoleThresholds:
        """Thresholds for a group type: the defaults overlaid with ``group_types.<type>``."""
        extra = self.group_types.get(group_type or "general")
        if not extra:
            return self.roles
        return RoleThresholds.model_validate({**self.roles.model_dump(), **extra})

    def score_fingerprint(self) -> str:
        """Changes when stored scores become stale (weights or half-life changed)."""
        blob = json.dumps({"w": self.weights.model_dump(), "hl": self.half_life_days}, sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]

    def is_admin(self, platform: str, group_id: str, user_id: str) -> bool:
        return self._listed(self.admins, platform, group_id, user_id) or self.is_bot(
            platform, group_id, user_id
        )

    def is_bot(self, platform: str, group_id: str, user_id: str) -> bool:
        return self._listed(self.bots, platform, group_id, user_id)

    @staticmethod
    def _listed(names: list[str], platform: str, group_id: str, user_id: str) -> bool:
        return f"{platform}:{user_id}" in names or f"{platform}:{group_id}:{user_id}" in names
