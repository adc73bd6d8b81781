"""The escalation ladder (处罚阶梯): warn → mute 10 min → mute 1 day → remove → community-wide ban.

Each offence is a strike on the member's record in the community (``moderation_strikes``).
Strikes decay: with a half-life, a strike counts ``0.5 ** (age / half_life)``; with a window, it
counts fully until it is older than the window. The points after the new strike, rounded, pick the
step (1 point → the first step, 2 → the second ...), so a member who behaves for a few half-lives
starts again near the bottom. Every step is returned as :class:`~qunyun.actions.Action` objects
with a bilingual :class:`~qunyun.actions.Reason` whose evidence carries the rule codes, the
scores, the matched text and the strike points.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, select, update

from qunyun.actions import Action, ActionKind, Reason
from qunyun.i18n import both, t

from .tables import Community, StrikeRow, tbl

SOURCE = "moderation.ladder"


class LadderStep(BaseModel):
    """One rung: ``warn``, ``mute`` (needs ``duration`` in seconds), ``kick`` or ``ban``."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["warn", "mute", "kick", "ban"]
    duration: int | None = Field(default=None, ge=60, le=30 * 86400)
    #: ``community`` bans/kicks in every group of the community, ``group`` only where it happened
    scope: Literal["group", "community"] = "group"

    @model_validator(mode="after")
    def _check(self) -> LadderStep:
        if self.action == "mute" and self.duration is None:
            raise ValueError("a mute step needs duration (seconds, e.g. 600)")
        return self

    def label(self) -> tuple[str, str]:
        """(zh, en) name of the step for reasons and pages."""
        if self.action == "mute":
            seconds = self.duration or 0
            if seconds >= 86400 and seconds % 86400 == 0:
                return both("moderation.step.mute_days", days=seconds // 86400)
            if seconds >= 3600 and seconds % 3600 == 0:
                return both("moderation.step.mute_hours", hours=seconds // 3600)
            return both("moderation.step.mute", minutes=seconds // 60)
        if self.action == "ban":
            return both("moderation.step.ban" if self.scope == "community" else "moderation.step.ban_group")
        return both(f"moderation.step.{self.action}")


def _default_steps() -> list[LadderStep]:
    return [
        LadderStep(action="warn"),
        LadderStep(action="mute", duration=600),
        LadderStep(action="mute", duration=86400),
        LadderStep(action="kick"),
        LadderStep(action="ban", scope="community"),
    ]


class LadderConfig(BaseModel):
    """``[features.moderation.ladder]``: the steps and how fast strikes are forgiven."""

    model_config = ConfigDict(extra="forbid")

    steps: list[LadderStep] = Field(default_factory=_default_steps, min_length=1)
    #: a strike's weight halves every ``half_life_hours`` (set to null to use ``window_hours``)
    half_life_hours: float | None = Field(default=72.0, gt=0)
    #: without a half-life: strikes count fully for this many hours, then not at all
    window_hours: float | None = Field(default=None, gt=0)
    #: a newcomer's first offence starts at least at this step (0 = the first step)
    newcomer_min_step: int = Field(default=0, ge=0)
    #: a message scoring at least this starts at least at ``severe_min_step`` (null = off)
    severe_score: float | None = Field(default=None, gt=0, le=1)
    severe_min_step: int = Field(default=3, ge=0)
    #: language of the warning posted in the group
    warn_lang: str = "zh-CN"

    def horizon(self) -> timedelta:
        """Strikes older than this no longer count (they weigh < 1/1000 or are out of the window)."""
        if self.half_life_hours is not None:
            return timedelta(hours=self.half_life_hours * 10)
        return timedelta(hours=self.window_hours or 24 * 30)


def strike_weight(age: timedelta, cfg: LadderConfig, weight: float = 1.0) -> float:
    """What a strike of ``weight`` and ``age`` still counts."""
    hours = max(age.total_seconds(), 0.0) / 3600
    if cfg.half_life_hours is not None:
        return weight * math.pow(0.5, hours / cfg.half_life_hours)
    window = cfg.window_hours or 24 * 30
    return weight if hours <= window else 0.0


def member_points(
    conn: Connection, platform: str, community: str, user_id: str, now: datetime, cfg: LadderConfig
) -> float:
    """The member's current (decayed) strike points in the community."""
    s = tbl(StrikeRow)
    rows = conn.execute(
        select(s.c.time, s.c.weight).where(
            s.c.platform == platform,
            s.c.community == community,
            s.c.user_id == user_id,
            s.c.revoked.is_(False),
            s.c.time >= now - cfg.horizon(),
        )
    )
    return sum(strike_weight(now - t, cfg, w) for t, w in rows)


def step_index(points: float, cfg: LadderConfig, *, minimum: int = 0) -> int:
    """Points rounded half up: 1 → step 0, 2 → step 1 ...; never below ``minimum`` or past the last."""
    idx = max(int(math.floor(points + 0.5)) - 1, minimum, 0)
    return min(idx, len(cfg.steps) - 1)


def record_strike(
    conn: Connection,
    *,
    platform: str,
    community: str,
    user_id: str,
    group_id: str | None,
    time: datetime,
    step: int,
    source: str,
    weight: float = 1.0,
    review_id: int | None = None,
    incident_id: int | None = None,
) -> int:
    res = conn.execute(
        tbl(StrikeRow)
        .insert()
        .values(
            platform=platform,
            community=community,
            user_id=user_id,
            group_id=group_id,
            time=time,
            weight=weight,
            step=step,
            source=source,
            review_id=review_id,
            incident_id=incident_id,
            revoked=False,
        )
    )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def revoke_strikes(conn: Connection, *, review_id: int | None = None, incident_id: int | None = None) -> int:
    """Take back the strikes a review (or an incident) gave; returns how many."""
    s = tbl(StrikeRow)
    cond = s.c.review_id == review_id if review_id is not None else s.c.incident_id == incident_id
    return int(conn.execute(update(s).where(cond, s.c.revoked.is_(False)).values(revoked=True)).rowcount or 0)


def key(*parts: Any) -> str:
    """A stable idempotency key for an action qunyun must take at most once."""
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def delete_action(platform: str, group_id: str, message_id: str, reason: Reason, source: str) -> Action:
    """Delete one message; keyed by the message, so the ladder and a wave never delete it twice."""
    return Action(
        kind=ActionKind.DELETE_MESSAGE,
        platform=platform,
        group_id=group_id,
        message_id=message_id,
        reason=reason,
        source=source,
        idempotency_key=key("moderation.delete", platform, group_id, message_id),
    )


def next_step(
    conn: Connection,
    cfg: LadderConfig,
    *,
    community: Community,
    user_id: str,
    time: datetime,
    score: float,
    newcomer: bool = False,
) -> tuple[int, float]:
    """The step an offence now would take and the member's points with it (reads, never writes):
    what :func:`escalate` records, and what the message preview (试一试) shows."""
    points = member_points(conn, community.platform, community.key, user_id, time, cfg) + 1.0
    minimum = cfg.newcomer_min_step if newcomer else 0
    if cfg.severe_score is not None and score >= cfg.severe_score:
        minimum = max(minimum, cfg.severe_min_step)
    return step_index(points, cfg, minimum=minimum), points


@dataclass(slots=True)
class LadderDecision:
    """What the ladder decided for one offence."""

    index: int
    step: LadderStep
    points: float
    strike_id: int
    actions: list[Action]
    label: tuple[str, str]


def escalate(
    conn: Connection,
    cfg: LadderConfig,
    *,
    community: Community,
    group_id: str,
    user_id: str,
    user_name: str | None,
    message_id: str | None,
    time: datetime,
    score: float,
    codes: Sequence[str],
    evidence: dict[str, Any],
    newcomer: bool = False,
    review_id: int | None = None,
) -> LadderDecision:
    """Record a strike for this offence and return the step's actions (the message deleted first)."""
    platform = community.platform
    idx, points = next_step(conn, cfg, community=community, user_id=user_id, time=time, score=score, newcomer=newcomer)
    step = cfg.steps[idx]
    strike_id = record_strike(
        conn,
        platform=platform,
        community=community.key,
        user_id=user_id,
        group_id=group_id,
        time=time,
        step=idx,
        source=SOURCE,
        review_id=review_id,
    )
    label = step.label()
    code_text = ", ".join(codes[:5]) or "model"
    params = {"codes": code_text, "score": f"{score:.2f}", "strikes": f"{points:.1f}"}
    reason = Reason(
        zh=t("moderation.reason.spam", "zh-CN", step=label[0], **params),
        en=t("moderation.reason.spam", "en", step=label[1], **params),
        evidence={
            **evidence,
            "step": idx,
            "step_action": step.action,
            "strike_points": round(points, 3),
            "strike_id": strike_id,
            "review_id": review_id,
        },
    )
    actions: list[Action] = []
    if message_id:
        dz, de = both("moderation.reason.delete", codes=code_text, score=f"{score:.2f}")
        actions.append(
            delete_action(platform, group_id, message_id, Reason(zh=dz, en=de, evidence=reason.evidence), SOURCE)
        )
    actions.extend(
        step_actions(
            step,
            reason,
            community=community,
            group_id=group_id,
            user_id=user_id,
            user_name=user_name,
            lang=cfg.warn_lang,
        )
    )
    return LadderDecision(idx, step, points, strike_id, actions, label)


def step_actions(
    step: LadderStep,
    reason: Reason,
    *,
    community: Community,
    group_id: str,
    user_id: str,
    user_name: str | None,
    lang: str = "zh-CN",
    source: str = SOURCE,
) -> list[Action]:
    """The platform actions of one step (a ``community`` step acts in every group of it)."""
    platform = community.platform
    groups = community.groups if step.scope == "community" else (group_id,)
    if step.action == "warn":
        zh, en = both("moderation.warn_text", name=user_name or user_id)
        return [
            Action(
                kind=ActionKind.WARN,
                platform=platform,
                group_id=group_id,
                user_id=user_id,
                text=en if lang.startswith("en") else zh,
                reason=reason,
                source=source,
            )
        ]
    kind = {"mute": ActionKind.MUTE, "kick": ActionKind.KICK, "ban": ActionKind.BAN}[step.action]
    return [
        Action(
            kind=kind,
            platform=platform,
            group_id=g,
            user_id=user_id,
            duration=step.duration,
            reason=reason,
            source=source,
        )
        for g in groups
    ]
