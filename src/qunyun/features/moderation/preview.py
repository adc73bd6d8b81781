"""Try a message (试一试): what the policy would do with it, without doing anything.

An operator who adds a keyword or switches a rule family off wants to know at once what happens
to a given message in a given group, from a given member: the verdict with its reasons, the
threshold it had to reach, and the outcome — removed with the ladder's next step for this member,
flagged for review, spared (an established member without hard evidence), or left alone. The
preview runs the plugin's own code (group rules, trust, newcomer status, the decision, the
ladder's step computation) on a synthetic event and writes nothing: no review, no strike, no
wave signature. Waves and floods need several messages and are not previewed. Trust is the
policy's: the bot, staff, the whitelist, group admins and the members feature's KOLs and admins —
the live policy reads those roles from a cache a job refreshes every ten minutes; the preview
uses the app's own plugin and so that cache, and computes the asked group's roles when they are
missing or older than that (the members page's own computation, which refreshes the same derived
score tables).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from qunyun.events import Event
from qunyun.i18n import normalize_lang, t

from .findings import Finding
from .ladder import next_step
from .scope import RULE_FAMILIES

if TYPE_CHECKING:
    from qunyun.config import Settings
    from qunyun.store.queries import GroupRef

    from .plugin import ModerationPlugin

#: the sender of a preview without a member: an id no platform uses, so no record, strike or trust
NOBODY = "qunyun:preview"


@dataclass(slots=True)
class Preview:
    """The verdict and the outcome of one previewed message."""

    text: str
    platform: str | None
    group_id: str | None
    community: str | None
    user_id: str | None
    #: what the policy would do: act, flag, spared, none, trusted or rules_off (catalog keys
    #: ``moderation.outcome.<name>``)
    outcome: str
    label: str = "ham"
    score: float = 0.0
    model_score: float | None = None
    threshold: float = 0.0
    newcomer: bool = False
    reasons: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    #: the ladder step an "act" outcome takes: index, action, duration, scope, zh/en label, points
    step: dict[str, Any] | None = None
    #: rule families switched off for this group (``rule_off`` entries or the config file)
    rules_off: list[str] = field(default_factory=list)
    #: why a "trusted" sender is never moderated (``plugin.TRUST_REASONS``: bot, staff, whitelist,
    #: group_admin, role_kol, role_admin)
    trusted_as: str | None = None

    def summary(self, lang: str | None) -> str:
        """The outcome as one sentence in ``lang`` (the catalog's ``moderation.outcome.*``)."""
        if self.outcome == "act" and self.step is not None:
            name = self.step["label"]["en" if normalize_lang(lang) == "en" else "zh"]
            return t(
                "moderation.outcome.act", lang, n=self.step["index"] + 1, step=name, points=self.step["strike_points"]
            )
        if self.outcome == "trusted" and self.trusted_as:
            return t(f"moderation.trusted_as.{self.trusted_as}", lang)
        return t(f"moderation.outcome.{self.outcome}", lang)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "group": f"{self.platform}:{self.group_id}" if self.group_id else None,
            "community": self.community,
            "user_id": self.user_id,
            "outcome": self.outcome,
            "label": self.label,
            "score": round(self.score, 4),
            "model_score": None if self.model_score is None else round(self.model_score, 4),
            "threshold": round(self.threshold, 4),
            "newcomer": self.newcomer,
            "reasons": self.reasons,
            "findings": self.findings,
            "step": self.step,
            "rules_off": self.rules_off,
            "trusted_as": self.trusted_as,
            "summary": {"zh": self.summary("zh-CN"), "en": self.summary("en")},
        }


def preview(
    conn: Connection,
    settings: Settings,
    text: str,
    *,
    now: datetime,
    group: GroupRef | None = None,
    user_id: str | None = None,
    newcomer: bool | None = None,
    plugin: ModerationPlugin | None = None,
) -> Preview:
    """What the moderation policy would do with ``text`` (``newcomer=None``: from the member record).

    ``plugin``: the app's own instance (:func:`.plugin.plugin_of`) shares the live policy's caches;
    without one a fresh instance reads everything anew.
    """
    from .plugin import TRUST_REFRESH_SECONDS, ModerationPlugin, member_row

    if plugin is None:
        plugin = ModerationPlugin()
    plugin.use_database(settings.database.url)  # the live model: trained on this database's decisions
    platform, group_id = (group.platform, group.group_id) if group else (None, None)
    cfg = plugin.config(settings)
    plat, gid = (platform or "-"), (group_id or "-")
    ev = Event(platform=plat, group_id=gid, message_id="preview", user_id=user_id or NOBODY, time=now, text=text)
    gs = plugin.group_state(conn, cfg, plat, gid)
    grouped = group_id is not None
    out = Preview(
        text=text,
        platform=platform if grouped else None,
        group_id=group_id,
        community=gs.community.key if grouped else None,
        user_id=user_id,
        outcome="none",
        rules_off=[name for name, switch in RULE_FAMILIES.items() if not getattr(gs.rules, switch)],
    )
    member = member_row(conn, plat, gid, user_id) if user_id and grouped else None
    if not (cfg.rules.enabled or cfg.groups) or not gs.rules.enabled:
        out.outcome = "rules_off"
        return out
    if user_id and group is not None and not plugin.trusted.has(plat, gid, max_age=TRUST_REFRESH_SECONDS):
        plugin.trusted.refresh_group(conn, settings, group)
    trusted_as = plugin.trust_reason(settings, cfg, ev, gs.entries, member) if user_id else None
    if trusted_as is not None:
        out.outcome, out.trusted_as = "trusted", trusted_as
        return out
    extra = [Finding("newcomer", 0.0, "")] if newcomer else []
    is_new, context = plugin._context(gs, ev, member if newcomer is None else None, extra)
    verdict = plugin.detector(gs).detect(text, context=context)
    prep = plugin._decision(conn, cfg, ev, gs, member, verdict, is_new)
    out.label, out.score, out.model_score = verdict.label, verdict.score, verdict.model_score
    out.reasons = list(verdict.reasons)
    # a code counts once in the score (rule_logit), so it is listed once, with its first evidence
    # shapes, contacts and links before keywords, heaviest first (as the review queue's badges)
    ordered = sorted(
        verdict.to_dict(evidence=True)["findings"], key=lambda f: (f["code"].startswith("keyword:"), -f["weight"])
    )
    seen: set[str] = set()
    for f in ordered:
        if f["code"] not in seen and f["code"] != "newcomer":  # newcomer status has its own field
            seen.add(f["code"])
            out.findings.append(f)
    out.threshold, out.newcomer = prep.threshold, is_new
    if prep.is_spam:
        out.outcome = "act"
        idx, points = next_step(
            conn, cfg.ladder, community=gs.community, user_id=ev.user_id, time=now, score=verdict.score, newcomer=is_new
        )
        step = cfg.ladder.steps[idx]
        zh, en = step.label()
        out.step = {
            "index": idx,
            "action": step.action,
            "duration": step.duration,
            "scope": step.scope,
            "label": {"zh": zh, "en": en},
            "strike_points": round(points, 3),
        }
    elif prep.spared == "flagged":
        out.outcome = "flag"
    elif prep.spared == "established":
        out.outcome = "spared"
    return out
