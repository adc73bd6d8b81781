"""The review queue (复核队列): every deletion, mute, removal and ban waits for a human's verdict.

"Spam" confirms it; "not spam" (误判) undoes what can be undone — unmute, unban, re-invite where
the platform allows — as actions through the executor (audited with the reviewer as ``actor``),
takes back the strikes, dismisses the incident, and trusts the member more (a bonus that raises
their spam threshold). Both verdicts are written to ``moderation_feedback`` and to this database's
feedback CSV (:func:`.classifier.feedback_path_for`), which its live model trains on.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Connection, func, or_, select, update

from qunyun.actions import Action, ActionKind, Reason
from qunyun.engine.executor import submit_actions
from qunyun.i18n import both, t
from qunyun.store.db import Database
from qunyun.store.queries import GroupRef
from qunyun.store.tables import AuditRow, EventRow, MemberRow

from .ladder import LadderConfig, member_points, revoke_strikes
from .tables import FeedbackRow, IncidentMemberRow, IncidentMessageRow, ReviewRow, StrikeRow, community_of, tbl

log = logging.getLogger(__name__)
SOURCE = "moderation.review"
DECISIONS = ("spam", "ham")


class ReviewConfig(BaseModel):
    """``[features.moderation.review]``."""

    model_config = ConfigDict(extra="forbid")

    #: added to a member's spam threshold each time a removal of theirs is undone
    trust_bonus: float = Field(default=0.1, ge=0, le=0.5)
    max_trust_bonus: float = Field(default=0.4, ge=0, le=0.9)
    #: after "not spam" on a kick or ban, invite the member back where the platform allows
    reinvite: bool = True
    #: also append decisions to the detection feedback CSV (``qunyun spam train`` reads it)
    feedback_csv: bool = True
    #: the retraining job runs this often when new feedback exists (null: never automatically)
    retrain_every_hours: float | None = Field(default=24.0, gt=0)


class ReviewError(ValueError):
    """A decision was refused; ``key``/``params`` name the catalog message."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(t(key, "en", **params))
        self.key = key
        self.params = params


def create_review(conn: Connection, **values: Any) -> int:
    values.setdefault("status", "pending")
    res = conn.execute(tbl(ReviewRow).insert().values(**values))
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def set_actions(conn: Connection, review_id: int, actions: list[Action], *, append: bool = False) -> None:
    r = tbl(ReviewRow)
    dumped = [a.model_dump(mode="json") for a in actions]
    if append:
        old = conn.execute(select(r.c.actions).where(r.c.id == review_id)).scalar() or []
        dumped = [*old, *dumped]
    conn.execute(update(r).where(r.c.id == review_id).values(actions=dumped))


def list_reviews(
    conn: Connection,
    *,
    status: str | None = "pending",
    limit: int = 50,
    offset: int = 0,
    group: GroupRef | None = None,
    flagged: bool | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Newest first; ``flagged=True`` keeps the flags (nothing done yet: a human decides whether
    the message goes), ``False`` what was acted on (deleted, muted, removed, banned)."""
    r = tbl(ReviewRow)
    conds: list[ColumnElement[bool]] = [r.c.status == status] if status else []
    if group is not None:
        conds += [r.c.platform == group.platform, r.c.group_id == group.group_id]
    if flagged is not None:
        conds.append(r.c.step == "flag" if flagged else or_(r.c.step.is_(None), r.c.step != "flag"))
    total = conn.execute(select(func.count()).select_from(r).where(*conds)).scalar_one()
    rows = conn.execute(select(r).where(*conds).order_by(r.c.id.desc()).offset(offset).limit(limit))
    return int(total), [dict(x._mapping) for x in rows]


def member_history(
    conn: Connection,
    platform: str,
    user_id: str,
    group_id: str | None,
    *,
    ladder: LadderConfig | None = None,
    now: datetime | None = None,
    messages: int = 5,
) -> dict[str, Any]:
    """What a reviewer needs to know about the member: record, strikes, past reviews, recent messages."""
    m, s, r, e = tbl(MemberRow), tbl(StrikeRow), tbl(ReviewRow), tbl(EventRow)
    member = None
    if group_id:
        row = conn.execute(
            select(m).where(m.c.platform == platform, m.c.group_id == group_id, m.c.user_id == user_id)
        ).first()
        member = dict(row._mapping) if row else None
    groups = conn.execute(
        select(func.count()).select_from(m).where(m.c.platform == platform, m.c.user_id == user_id)
    ).scalar_one()
    strikes = [
        dict(x._mapping)
        for x in conn.execute(
            select(s).where(s.c.platform == platform, s.c.user_id == user_id).order_by(s.c.time.desc()).limit(20)
        )
    ]
    reviews = conn.execute(
        select(r.c.status, func.count()).where(r.c.platform == platform, r.c.user_id == user_id).group_by(r.c.status)
    ).all()
    recent = []
    if group_id and messages:
        recent = [
            dict(x._mapping)
            for x in conn.execute(
                select(e.c.message_id, e.c.time, e.c.text)
                .where(
                    e.c.platform == platform,
                    e.c.group_id == group_id,
                    e.c.user_id == user_id,
                    e.c.type == "message",
                )
                .order_by(e.c.time.desc())
                .limit(messages)
            )
        ]
    points = None
    if ladder is not None and group_id:
        community = community_of(conn, platform, group_id)
        when = now or (strikes[0]["time"] if strikes else None)
        if when is not None:
            points = round(member_points(conn, platform, community.key, user_id, when, ladder), 3)
    return {
        "member": member,
        "groups": int(groups),
        "strikes": strikes,
        "active_strikes": sum(1 for x in strikes if not x["revoked"]),
        "strike_points": points,
        "reviews": {status: int(n) for status, n in reviews},
        "recent_messages": recent,
    }


def get_review(conn: Connection, review_id: int, *, ladder: LadderConfig | None = None) -> dict[str, Any]:
    r = tbl(ReviewRow)
    row = conn.execute(select(r).where(r.c.id == review_id)).first()
    if row is None:
        raise ReviewError("moderation.error.review_not_found", id=review_id)
    out = dict(row._mapping)
    if out["user_id"]:
        out["history"] = member_history(conn, out["platform"], out["user_id"], out["group_id"], ladder=ladder)
    return out


_UNDO = {ActionKind.MUTE: ActionKind.UNMUTE, ActionKind.BAN: ActionKind.UNBAN}


def undo_actions(review: dict[str, Any], actor: str, cfg: ReviewConfig) -> list[Action]:
    """The actions that reverse a review's mutes, kicks and bans (deleted messages stay deleted)."""
    out: list[Action] = []
    seen: set[tuple[str, str, str | None, str | None]] = set()
    rid = review["id"]
    for raw in review.get("actions") or []:
        original = Action.model_validate(raw)
        kinds: list[ActionKind] = []
        if original.kind in _UNDO:
            kinds.append(_UNDO[original.kind])
        if original.kind in (ActionKind.KICK, ActionKind.BAN) and cfg.reinvite:
            kinds.append(ActionKind.INVITE)
        for kind in kinds:
            ident = (kind.value, original.platform, original.group_id, original.user_id)
            if ident in seen:
                continue
            seen.add(ident)
            zh, en = both("moderation.reason.undo", review=rid, actor=actor, kind=original.kind.value)
            out.append(
                Action(
                    kind=kind,
                    platform=original.platform,
                    group_id=original.group_id,
                    user_id=original.user_id,
                    reason=Reason(zh=zh, en=en, evidence={"review_id": rid, "undoes": original.idempotency_key}),
                    source=SOURCE,
                    cause=f"review:{rid}",
                )
            )
    return out


def _apply_flag(
    conn: Connection, review: dict[str, Any], ladder: LadderConfig, actor: str, now: datetime
) -> list[Action]:
    """A reviewer confirmed a flagged message: record the strike and take the ladder's step now."""
    from .ladder import escalate

    community = community_of(conn, review["platform"], review["group_id"])
    decision = escalate(
        conn,
        ladder,
        community=community,
        group_id=review["group_id"],
        user_id=review["user_id"],
        user_name=review["user_name"],
        message_id=review["message_id"],
        time=now,
        score=float(review["score"]),
        codes=list(review["reasons"] or []),
        evidence={**(review["evidence"] or {}), "confirmed_by": actor},
        review_id=review["id"],
    )
    actions = []
    for a in decision.actions:  # caused by the review; a derived key follows the cause
        was_default = a.idempotency_key == a.default_key()
        caused = a.model_copy(update={"cause": f"review:{review['id']}"})
        if was_default:
            caused.idempotency_key = caused.default_key()
        actions.append(caused)
    r = tbl(ReviewRow)
    conn.execute(
        update(r)
        .where(r.c.id == review["id"])
        .values(step=decision.step.action, actions=[a.model_dump(mode="json") for a in actions])
    )
    return actions


def _claim_linked(
    conn: Connection, review: dict[str, Any], decision: str, actor: str, now: datetime
) -> list[dict[str, Any]]:
    """Mark the pending message reviews of an incident's copies with the same decision."""
    r, msg = tbl(ReviewRow), tbl(IncidentMessageRow)
    copies = {
        (g, m)
        for g, m in conn.execute(
            select(msg.c.group_id, msg.c.message_id).where(msg.c.incident_id == review["incident_id"])
        )
    }
    if not copies:
        return []
    rows = conn.execute(
        select(r).where(
            r.c.kind == "message",
            r.c.status == "pending",
            r.c.platform == review["platform"],
            r.c.message_id.in_([m for _, m in copies]),
        )
    ).all()
    out = []
    for row in rows:
        if (row.group_id, row.message_id) not in copies:
            continue
        claimed = conn.execute(
            update(r)
            .where(r.c.id == row.id, r.c.status == "pending")
            .values(status=decision, decided_by=actor, decided_at=now)
        ).rowcount
        if claimed:
            out.append(dict(row._mapping))
    return out


@dataclass(slots=True)
class DecisionResult:
    review: dict[str, Any]
    decision: str
    actions: list[Action] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    revoked_strikes: int = 0
    trust: dict[str, float] = field(default_factory=dict)
    #: message reviews settled together with an incident's review
    linked: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON every face answers with (REST API, ``qunyun moderation decide --json``)."""
        return {
            "id": self.review["id"],
            "decision": self.decision,
            "decided_by": self.review.get("decided_by"),
            "actions": [a.model_dump(mode="json") for a in self.actions],
            "outbox_ids": self.outbox_ids,
            "revoked_strikes": self.revoked_strikes,
            "trust": self.trust,
            "linked": self.linked,
        }


#: most reviews one bulk decision takes (a page of the queue is 25; the API allows up to this)
BULK_MAX = 200


def decide_many(
    db: Database, review_ids: list[int], decision: str, **kw: Any
) -> tuple[list[DecisionResult], list[tuple[int, ReviewError]]]:
    """:func:`decide` for several reviews (批量判定), each in its own transaction: one that a
    colleague decided meanwhile, or that does not exist, is reported and the rest still go."""
    if decision not in DECISIONS:
        raise ReviewError("moderation.error.bad_decision", value=decision)
    done: list[DecisionResult] = []
    failed: list[tuple[int, ReviewError]] = []
    swept: set[int] = set()
    for rid in dict.fromkeys(review_ids):  # each id once, in the order given
        if rid in swept:
            continue  # settled a moment ago with its incident (a wave's copies): not a failure
        try:
            done.append(decide(db, rid, decision, **kw))
        except ReviewError as exc:
            failed.append((rid, exc))
        else:
            swept.update(done[-1].linked)
    return done, failed


def decide(
    db: Database,
    review_id: int,
    decision: str,
    *,
    actor: str,
    cfg: ReviewConfig,
    dry_run: bool,
    now: datetime,
    ladder: LadderConfig | None = None,
) -> DecisionResult:
    """Apply a reviewer's verdict in one transaction (undo actions, strikes, trust, feedback, audit).

    "spam" on a flagged message (nothing was done yet) applies the ``ladder`` now.
    """
    from . import waves  # local: waves imports nothing from here, keep the graph one-way
    from .scope import add_trust

    if decision not in DECISIONS:
        raise ReviewError("moderation.error.bad_decision", value=decision)
    r = tbl(ReviewRow)
    with db.engine.begin() as conn:
        row = conn.execute(select(r).where(r.c.id == review_id)).first()
        if row is None:
            raise ReviewError("moderation.error.review_not_found", id=review_id)
        review = dict(row._mapping)
        if review["status"] != "pending":
            raise ReviewError(
                "moderation.error.already_decided",
                id=review_id,
                status=review["status"],
                by=review["decided_by"],
            )
        claimed = conn.execute(
            update(r)
            .where(r.c.id == review_id, r.c.status == "pending")
            .values(status=decision, decided_by=actor, decided_at=now)
        ).rowcount
        if not claimed:  # someone else decided between our read and our write
            raise ReviewError("moderation.error.already_decided", id=review_id, status="?", by="?")
        result = DecisionResult(review, decision)
        users = [review["user_id"]] if review["user_id"] else []
        if review["incident_id"] is not None:
            mem = tbl(IncidentMemberRow)
            users = [
                u for (u,) in conn.execute(select(mem.c.user_id).where(mem.c.incident_id == review["incident_id"]))
            ]
        # an incident's verdict also settles the pending reviews of its copies (handled once)
        linked = _claim_linked(conn, review, decision, actor, now) if review["incident_id"] is not None else []
        result.linked = [x["id"] for x in linked]
        if decision == "ham":
            undo: list[Action] = []
            seen: set[tuple[str, str, str | None, str | None]] = set()
            for source_review in (review, *linked):
                for a in undo_actions(source_review, actor, cfg):
                    ident = (a.kind.value, a.platform, a.group_id, a.user_id)
                    if ident not in seen:
                        seen.add(ident)
                        undo.append(a)
            result.actions = undo
            result.outbox_ids = submit_actions(conn, result.actions, dry_run=dry_run, actor=actor, now=now)
            for source_review in (review, *linked):
                result.revoked_strikes += revoke_strikes(conn, review_id=source_review["id"])
            if review["incident_id"] is not None:
                result.revoked_strikes += revoke_strikes(conn, incident_id=review["incident_id"])
                waves.set_status(conn, review["incident_id"], "dismissed")
            for user in users:
                result.trust[user] = add_trust(
                    conn, review["platform"], user, cfg.trust_bonus, cfg.max_trust_bonus, now
                )
        elif review["incident_id"] is not None:
            waves.set_status(conn, review["incident_id"], "confirmed")
        elif review["step"] == "flag" and ladder is not None and review["user_id"] and review["group_id"]:
            result.actions = _apply_flag(conn, review, ladder, actor, now)
            result.outbox_ids = submit_actions(conn, result.actions, dry_run=dry_run, actor=actor, now=now)
        if review["text"]:
            conn.execute(
                tbl(FeedbackRow)
                .insert()
                .values(text=review["text"], label=decision, review_id=review_id, created_by=actor, created_at=now)
            )
        dz, de = both("moderation.reason.decision", review=review_id, actor=actor, decision=decision)
        conn.execute(
            tbl(AuditRow)
            .insert()
            .values(
                time=now,
                actor=actor,
                source=SOURCE,
                kind=f"review_{decision}",
                platform=review["platform"],
                group_id=review["group_id"],
                user_id=review["user_id"],
                reason_zh=dz,
                reason_en=de,
                evidence={
                    "review_id": review_id,
                    "decision": decision,
                    "undo_actions": len(result.actions),
                    "incident_id": review["incident_id"],
                    "score": review["score"],
                },
                dry_run=dry_run,
                status="confirmed",
                outbox_id=None,
                idempotency_key=None,
                cause=f"review:{review_id}",
            )
        )
    if review["text"] and cfg.feedback_csv:
        try:
            from .classifier import feedback_path_for, record_feedback

            record_feedback(review["text"], decision, feedback_path_for(db.url))
        except Exception:  # the DB row is the record; the CSV is a convenience for `spam train`
            log.exception("could not append review %s to the feedback CSV", review_id)
    result.review = {**review, "status": decision, "decided_by": actor, "decided_at": now}
    return result


def feedback_rows(conn: Connection, since_id: int = 0) -> list[dict[str, Any]]:
    f = tbl(FeedbackRow)
    return [dict(x._mapping) for x in conn.execute(select(f).where(f.c.id > since_id).order_by(f.c.id))]


def export_feedback(conn: Connection, path: Path) -> int:
    """Write every operator decision to ``path`` as a ``text,label`` CSV (what training reads)."""
    f = tbl(FeedbackRow)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for text, label in conn.execute(select(f.c.text, f.c.label).order_by(f.c.id)):
            w.writerow([text, label])
            n += 1
    return n


def retrain_from_store(db: Database) -> tuple[int, Any]:
    """Retrain the model with the shared data plus every decision in the store; make it current."""
    from .classifier import cache_dir, retrain

    path = cache_dir() / "review-feedback.csv"
    with db.engine.connect() as conn:
        n = export_feedback(conn, path)
    return n, retrain(feedback=path if n else None)
