"""The moderation plugin driven through the real engine (store → policy → executor → loopback).

A spam wave across 5 groups becomes ONE incident with one ban per sender in every group and each
copy deleted once; a normal member is never touched; "not spam" undoes through the executor and
is audited with the reviewer's name; the ladder escalates and decays; dry-run records everything
but sends nothing. Rules only (``use_model = false``): the model has its own tests in 6A's suite.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from qunyun.actions import ActionKind
from qunyun.config import RateLimit, Settings
from qunyun.features.moderation.plugin import ModerationPlugin
from qunyun.features.moderation.review import ReviewConfig, decide, list_reviews
from qunyun.features.moderation.scope import ModerationSettings
from qunyun.features.moderation.tables import IncidentRow, ReviewRow, StrikeRow
from qunyun.store.tables import AuditRow, OutboxRow
from qunyun.testing import BASE_TIME, BotTester, message

GROUPS = ["2001", "2002", "2003", "2004", "2005"]
SPAM = "兼职日结工资，加微信 abc12345 领取名额，动动手指日赚三百"
NORMAL = "今天的作业第三题有人会做吗？我卡在循环那里了"


def settings(**moderation: Any) -> Settings:
    s = Settings()
    section: dict[str, Any] = {"rules": {"use_model": False}, "waves": {"min_groups": 3}}
    for k, v in moderation.items():
        section[k] = {**section.get(k, {}), **v} if isinstance(v, dict) else v
    s.features["moderation"] = section
    fast = RateLimit(rate=1000, per=1, burst=1000)  # the test drives dispatch; no waiting on 风控 buckets
    s.rate_limits = {"*": {"platform": fast, "group": fast}}
    return s


def bot(db_url: str, **kw: Any) -> BotTester:
    return BotTester([ModerationPlugin()], db_url=db_url, settings=settings(**kw.pop("cfg", {})), **kw)


def seed_groups(b: BotTester) -> None:
    """A normal member speaks in every group first (so the groups exist in the community)."""
    for i, g in enumerate(GROUPS):
        out = b.outcome(message(NORMAL + f" {i}", group_id=g, user_id="good", time=BASE_TIME + timedelta(seconds=i)))
        assert out.actions == [] and out.stopped_by is None


def outbox(b: BotTester) -> list[Any]:
    with b.db.engine.connect() as conn:
        return list(conn.execute(select(OutboxRow.__table__).order_by(OutboxRow.__table__.c.id)))


def test_wave_across_five_groups_is_one_incident_one_ban_everywhere(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url)
    seed_groups(b)
    t0 = BASE_TIME + timedelta(minutes=5)
    senders = ["s1", "s2"]
    for i, g in enumerate(GROUPS):
        text = SPAM + ("!" * i)  # near-same, not identical
        out = b.outcome(
            message(
                text,
                group_id=g,
                user_id=senders[i % 2],
                message_id=f"w{i}",
                time=t0 + timedelta(seconds=20 * i),
            )
        )
        assert out.stopped_by == "moderation.spam"
    # the normal member keeps talking and is never touched
    out = b.outcome(message(NORMAL, group_id="2003", user_id="good", time=t0 + timedelta(minutes=3)))
    assert out.actions == [] and out.stopped_by is None

    with b.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(IncidentRow.__table__)).scalar_one() == 1
        inc = conn.execute(select(IncidentRow.__table__)).one()
    assert inc.groups == 5 and inc.accounts == 2 and inc.messages == 5 and inc.status == "actioned"

    rows = outbox(b)
    bans = Counter((r.group_id, r.user_id) for r in rows if r.kind == "ban")
    deletes = Counter((r.group_id, r.action["message_id"]) for r in rows if r.kind == "delete_message")
    assert bans == Counter({(g, s): 1 for g in GROUPS for s in senders})  # one ban per sender per group
    assert deletes == Counter({(g, f"w{i}"): 1 for i, g in enumerate(GROUPS)})  # each copy once
    assert not any(r.user_id == "good" for r in rows)

    report = b.dispatch()
    assert report.sent == len(rows) and report.failed == 0
    sent = b.adapter("qq").executed
    assert sum(a.kind is ActionKind.BAN for a in sent) == 10
    ban = next(a for a in sent if a.kind is ActionKind.BAN)
    assert ban.reason.evidence["incident_id"] == inc.id and ban.reason.evidence["groups"] >= 3
    assert ban.reason.zh and ban.reason.en and ban.source == "moderation.wave"

    # a sixth copy later (same wave) is deleted, nobody is banned twice
    out = b.outcome(message(SPAM, group_id="2001", user_id="s1", message_id="w6", time=t0 + timedelta(minutes=4)))
    assert [a.kind for a in out.actions] == [ActionKind.DELETE_MESSAGE]
    b.close()


def test_not_spam_undoes_the_wave_and_audits_the_reviewer(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url)
    seed_groups(b)
    t0 = BASE_TIME + timedelta(minutes=5)
    for i, g in enumerate(GROUPS[:3]):
        b.feed(message(SPAM, group_id=g, user_id="s1", message_id=f"w{i}", time=t0 + timedelta(seconds=i)))
    b.dispatch()
    with b.db.engine.connect() as conn:
        total, pending = list_reviews(conn)
    incident_review = next(r for r in pending if r["kind"] == "incident")
    result = decide(
        b.db,
        incident_review["id"],
        "ham",
        actor="opal",
        cfg=ReviewConfig(),
        dry_run=False,
        now=t0 + timedelta(hours=1),
    )
    kinds = Counter(a.kind for a in result.actions)
    assert kinds[ActionKind.UNBAN] == 5 and kinds[ActionKind.INVITE] == 5
    assert kinds[ActionKind.UNMUTE] == 1  # the second copy's ladder mute, settled with the incident
    assert len(result.linked) == 2
    with b.db.engine.connect() as conn:
        assert list_reviews(conn)[0] == 0  # nothing left pending: the incident settled its copies
    b.dispatch()
    executed = [a.kind for a in b.adapter("qq").executed]
    assert executed.count(ActionKind.UNBAN) == 5
    with b.db.engine.connect() as conn:
        audit = conn.execute(select(AuditRow.__table__).where(AuditRow.__table__.c.actor == "opal")).all()
        inc = conn.execute(select(IncidentRow.__table__)).one()
        strikes = conn.execute(select(StrikeRow.__table__).where(StrikeRow.__table__.c.user_id == "s1")).all()
    assert {a.kind for a in audit} >= {"unban", "invite", "review_ham"}
    assert inc.status == "dismissed"
    assert strikes and all(s.revoked for s in strikes)
    assert result.trust["s1"] == pytest.approx(0.1)
    assert "ham" in feedback_csv.read_text(encoding="utf-8")
    # deciding twice is refused, nothing changes
    with pytest.raises(ValueError, match="already decided"):
        decide(b.db, incident_review["id"], "spam", actor="adam", cfg=ReviewConfig(), dry_run=False, now=t0)
    b.close()


def test_ladder_escalates_and_decays(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url, cfg={"ladder": {"half_life_hours": 24}})
    b.feed(message(NORMAL, group_id="3001", user_id="x", time=BASE_TIME))
    t0 = BASE_TIME + timedelta(hours=1)
    steps = []
    for i in range(6):
        acts = b.feed(message(SPAM + f" 第{i}次", group_id="3001", user_id="x", time=t0 + timedelta(minutes=i)))
        steps.append([a.kind for a in acts])
    assert steps[0] == [ActionKind.DELETE_MESSAGE, ActionKind.WARN]
    assert steps[1] == [ActionKind.DELETE_MESSAGE, ActionKind.MUTE]
    assert steps[2] == [ActionKind.DELETE_MESSAGE, ActionKind.MUTE]
    assert steps[3] == [ActionKind.DELETE_MESSAGE, ActionKind.KICK]
    assert steps[4][0] is ActionKind.DELETE_MESSAGE and set(steps[4][1:]) == {ActionKind.BAN}
    with b.db.engine.connect() as conn:
        mutes = [r.action["duration"] for r in conn.execute(select(OutboxRow.__table__)) if r.kind == "mute"]
    assert sorted(mutes) == [600, 86400]
    # ten days later the strikes have decayed (half-life 1 day): back to a warning
    late = b.feed(message(SPAM + " 又来了", group_id="3001", user_id="x", time=t0 + timedelta(days=10)))
    assert [a.kind for a in late] == [ActionKind.DELETE_MESSAGE, ActionKind.WARN]
    warn = late[1]
    assert warn.reason.evidence["rules"] and warn.reason.evidence["step"] == 0
    assert 1.0 <= warn.reason.evidence["strike_points"] < 1.1
    b.close()


def test_dry_run_records_but_sends_nothing(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url, dry_run=True)
    seed_groups(b)
    for i, g in enumerate(GROUPS[:3]):
        b.feed(
            message(
                SPAM,
                group_id=g,
                user_id="s1",
                message_id=f"d{i}",
                time=BASE_TIME + timedelta(minutes=1, seconds=i),
            )
        )
    rows = outbox(b)
    assert rows and {r.status for r in rows} == {"dry_run"}
    report = b.dispatch()
    assert report.sent == 0 and b.adapter("qq").executed == []
    with b.db.engine.connect() as conn:
        reviews = conn.execute(select(ReviewRow.__table__)).all()
        audit = conn.execute(select(func.count()).select_from(AuditRow.__table__)).scalar_one()
    assert reviews and all(r.dry_run for r in reviews)
    assert audit == len(rows)
    b.close()


def test_trusted_members_are_never_moderated(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url, cfg={"trusted_users": ["qq:kol1"]})
    assert b.feed(message(SPAM, group_id="4001", user_id="kol1")) == []
    admin = message(SPAM, group_id="4001", user_id="boss", raw={"sender": {"role": "admin"}})
    assert b.feed(admin) == []
    assert b.feed(message(SPAM, group_id="4001", user_id="bot", self_id="bot")) == []
    b.settings.features["members"] = {"admins": ["qq:adm1"]}  # admins named in the members feature
    assert b.feed(message(SPAM, group_id="4001", user_id="adm1")) == []
    plugin = _plugin(b)
    plugin.trusted.set("qq", "4001", {"kol2": "kol"})  # what the refresh job learns from the members feature
    assert b.feed(message(SPAM, group_id="4001", user_id="kol2")) == []
    assert b.feed(message(SPAM, group_id="4002", user_id="kol2"))  # a KOL of another group only
    assert b.feed(message(SPAM, group_id="4001", user_id="rando"))  # the same text from anyone else
    b.close()


def _plugin(b: BotTester) -> ModerationPlugin:
    fn = b.registry.policies[0].fn
    owner = getattr(fn, "__self__", None)
    assert isinstance(owner, ModerationPlugin)
    return owner


def test_vocabulary_alone_is_flagged_for_a_human_never_acted_on(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url)
    history = [
        message(f"{NORMAL} 第{i}次讨论", group_id="5001", user_id="vet", time=BASE_TIME + timedelta(minutes=i))
        for i in range(25)
    ]
    b.feed_many(history)
    late = BASE_TIME + timedelta(hours=2)
    tip = "可以私聊我，返现活动的模板发你"
    chatty = b.outcome(message(tip, group_id="5001", user_id="vet", time=late))
    assert chatty.actions == [] and chatty.stopped_by is None
    fresh = b.outcome(message(tip, group_id="5001", user_id="fresh", message_id="f1", time=late))
    assert fresh.actions == [] and fresh.stopped_by is None  # ~0.87 without hard evidence: flagged only
    hacked = b.feed(message("加我微信 vx: fuli788 领红包", group_id="5001", user_id="vet", time=late + timedelta(1)))
    assert [a.kind for a in hacked][:1] == [ActionKind.DELETE_MESSAGE]  # a contact handle: acted on
    with b.db.engine.connect() as conn:
        _, flags = list_reviews(conn)
    flagged = {r["user_id"]: r for r in flags if r["step"] == "flag"}
    assert set(flagged) == {"fresh"} and flagged["fresh"]["actions"] == []  # the veteran's jargon: left alone
    # a reviewer confirms the newcomer's message: now the ladder acts (delete + first step), audited
    cfg = settings().feature("moderation", ModerationSettings)
    result = decide(
        b.db,
        flagged["fresh"]["id"],
        "spam",
        actor="opal",
        cfg=cfg.review,
        dry_run=False,
        now=late + timedelta(minutes=5),
        ladder=cfg.ladder,
    )
    assert [a.kind for a in result.actions] == [ActionKind.DELETE_MESSAGE, ActionKind.WARN]
    assert result.actions[0].message_id == "f1" and result.actions[0].reason.evidence["confirmed_by"] == "opal"
    with b.db.engine.connect() as conn:
        actors = {
            r.actor for r in conn.execute(select(AuditRow.__table__).where(AuditRow.__table__.c.user_id == "fresh"))
        }
    assert actors == {"opal"}
    b.close()


def test_regulars_repeating_a_tip_across_groups_is_watched_never_banned(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url)
    vets = {"6001": "v1", "6002": "v2", "6003": "v3"}
    b.feed_many(
        [
            message(f"{NORMAL} {g}-{i}", group_id=g, user_id=u, time=BASE_TIME + timedelta(minutes=i))
            for g, u in vets.items()
            for i in range(25)
        ]
    )
    tip = "可以私聊我，我把红包的模板发你，大家一起做活动"
    late = BASE_TIME + timedelta(hours=3)
    outcomes = [
        b.outcome(message(tip, group_id=g, user_id=u, time=late + timedelta(seconds=i)))
        for i, (g, u) in enumerate(vets.items())
    ]
    kinds = [a.kind for o in outcomes for a in o.actions]
    assert kinds == [ActionKind.NOTIFY_STAFF]  # one task for a human, nothing done to anyone
    assert all(o.stopped_by is None for o in outcomes)
    with b.db.engine.connect() as conn:
        assert conn.execute(select(IncidentRow.__table__.c.status)).scalar_one() == "watch"
    b.close()


def test_a_wave_inside_one_batch_is_still_handled_once(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url)
    seed_groups(b)
    t0 = BASE_TIME + timedelta(minutes=5)
    b.feed_many(
        [
            message(SPAM, group_id=g, user_id=["s1", "s2"][i % 2], message_id=f"w{i}", time=t0 + timedelta(seconds=i))
            for i, g in enumerate(GROUPS)
        ]
    )
    with b.db.engine.connect() as conn:
        strikes = conn.execute(
            select(StrikeRow.__table__).where(StrikeRow.__table__.c.source == "moderation.wave")
        ).all()
        review = conn.execute(select(ReviewRow.__table__).where(ReviewRow.__table__.c.kind == "incident")).one()
    assert sorted(s.user_id for s in strikes) == ["s1", "s2"]  # one wave strike per sender
    keys = [a["idempotency_key"] for a in review.actions]
    assert len(keys) == len(set(keys)) == 5 + 2 * 5  # each copy deleted, each sender banned per group
    rows = outbox(b)
    assert Counter(r.kind for r in rows)["ban"] == 10
    b.close()
