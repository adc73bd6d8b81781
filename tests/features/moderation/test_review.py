"""The review queue: undo mapping, decisions (trust, strikes, feedback, audit), history, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qunyun.actions import Action, ActionKind, Reason
from qunyun.features.moderation.ladder import record_strike
from qunyun.features.moderation.review import (
    ReviewConfig,
    ReviewError,
    create_review,
    decide,
    export_feedback,
    get_review,
    set_actions,
    undo_actions,
)
from qunyun.features.moderation.scope import trust_bonus
from qunyun.features.moderation.tables import FeedbackRow, StrikeRow, tbl
from qunyun.store.db import Database
from qunyun.store.tables import AuditRow, GroupRow, OutboxRow
from qunyun.testing import BASE_TIME

R = Reason(zh="垃圾", en="spam", evidence={"rules": ["contact:qq"]})


def act(kind: ActionKind, **kw: object) -> Action:
    fields: dict[str, object] = {
        "platform": "qq",
        "group_id": "g1",
        "reason": R,
        "source": "moderation.ladder",
        **kw,
    }
    return Action(kind=kind, **fields)  # type: ignore[arg-type]


@pytest.fixture
def db(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("QUNYUN_SPAM_FEEDBACK", str(tmp_path / "feedback.csv"))
    d = Database(db_url)
    d.migrate()
    yield d
    d.dispose()


def make_review(db: Database, actions: list[Action], user: str = "u1", text: str = "加我qq 12345678") -> int:
    with db.engine.begin() as conn:
        rid = create_review(
            conn,
            created_at=BASE_TIME,
            kind="message",
            platform="qq",
            community="-",
            group_id="g1",
            user_id=user,
            user_name="U",
            message_id="m1",
            text=text,
            score=0.93,
            model_score=0.8,
            reasons=["contact:qq"],
            evidence={},
            step="mute",
        )
        set_actions(conn, rid, actions)
        record_strike(
            conn,
            platform="qq",
            community="-",
            user_id=user,
            group_id="g1",
            time=BASE_TIME,
            step=1,
            source="moderation.ladder",
            review_id=rid,
        )
    return rid


def test_undo_maps_each_action_to_its_reverse() -> None:
    review = {
        "id": 5,
        "actions": [
            act(ActionKind.DELETE_MESSAGE, message_id="m1").model_dump(mode="json"),
            act(ActionKind.MUTE, user_id="u1", duration=600).model_dump(mode="json"),
            act(ActionKind.KICK, user_id="u1").model_dump(mode="json"),
            act(ActionKind.BAN, user_id="u1", group_id="g2").model_dump(mode="json"),
        ],
    }
    undo = undo_actions(review, "opal", ReviewConfig())
    assert [(a.kind, a.group_id) for a in undo] == [
        (ActionKind.UNMUTE, "g1"),
        (ActionKind.INVITE, "g1"),
        (ActionKind.UNBAN, "g2"),
        (ActionKind.INVITE, "g2"),
    ]
    assert all(a.source == "moderation.review" and a.cause == "review:5" for a in undo)
    assert "opal" in undo[0].reason.zh and "opal" in undo[0].reason.en
    no_invite = undo_actions(review, "opal", ReviewConfig(reinvite=False))
    assert [a.kind for a in no_invite] == [ActionKind.UNMUTE, ActionKind.UNBAN]


def test_ham_undoes_revokes_trusts_and_audits(db: Database, tmp_path: Path) -> None:
    rid = make_review(
        db,
        [act(ActionKind.DELETE_MESSAGE, message_id="m1"), act(ActionKind.MUTE, user_id="u1", duration=600)],
    )
    now = BASE_TIME + timedelta(hours=1)
    result = decide(db, rid, "ham", actor="opal", cfg=ReviewConfig(trust_bonus=0.15), dry_run=False, now=now)
    assert [a.kind for a in result.actions] == [ActionKind.UNMUTE] and len(result.outbox_ids) == 1
    assert result.revoked_strikes == 1
    with db.engine.connect() as conn:
        assert trust_bonus(conn, "qq", "u1") == pytest.approx(0.15)
        outbox = conn.execute(select(OutboxRow.__table__)).one()
        audit = conn.execute(select(AuditRow.__table__).order_by(AuditRow.__table__.c.id)).all()
        strike = conn.execute(select(tbl(StrikeRow))).one()
        feedback = conn.execute(select(tbl(FeedbackRow))).one()
        review = get_review(conn, rid)
    assert outbox.kind == "unmute" and outbox.status == "pending"
    assert [(a.actor, a.kind) for a in audit] == [("opal", "unmute"), ("opal", "review_ham")]
    assert strike.revoked and feedback.label == "ham" and feedback.created_by == "opal"
    assert review["status"] == "ham" and review["decided_by"] == "opal"
    assert review["history"]["active_strikes"] == 0 and review["history"]["reviews"] == {"ham": 1}
    assert "加我qq 12345678,ham" in (tmp_path / "feedback.csv").read_text(encoding="utf-8")
    # trust accumulates up to the cap
    rid2 = make_review(db, [])
    decide(
        db,
        rid2,
        "ham",
        actor="opal",
        cfg=ReviewConfig(trust_bonus=0.3, max_trust_bonus=0.4),
        dry_run=False,
        now=now,
    )
    with db.engine.connect() as conn:
        assert trust_bonus(conn, "qq", "u1") == pytest.approx(0.4)


def test_spam_confirms_without_actions_and_feeds_retraining(db: Database, tmp_path: Path) -> None:
    rid = make_review(db, [act(ActionKind.MUTE, user_id="u1", duration=600)], text="代开发票 加v abc888")
    result = decide(db, rid, "spam", actor="adam", cfg=ReviewConfig(), dry_run=True, now=BASE_TIME)
    assert result.actions == [] and result.revoked_strikes == 0
    with db.engine.connect() as conn:
        audit = conn.execute(select(AuditRow.__table__)).one()
        n = export_feedback(conn, tmp_path / "out.csv")
    assert audit.kind == "review_spam" and audit.actor == "adam" and audit.dry_run
    assert n == 1 and (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines() == [
        "text,label",
        "代开发票 加v abc888,spam",
    ]


def test_bad_decisions_are_refused_with_a_clear_error(db: Database) -> None:
    rid = make_review(db, [])
    with pytest.raises(ReviewError, match="expected spam or ham"):
        decide(db, rid, "maybe", actor="x", cfg=ReviewConfig(), dry_run=False, now=BASE_TIME)
    with pytest.raises(ReviewError, match="not found"):
        decide(db, 424242, "spam", actor="x", cfg=ReviewConfig(), dry_run=False, now=BASE_TIME)
    decide(db, rid, "spam", actor="x", cfg=ReviewConfig(), dry_run=False, now=BASE_TIME)
    with pytest.raises(ReviewError, match="already decided"):
        decide(db, rid, "ham", actor="y", cfg=ReviewConfig(), dry_run=False, now=BASE_TIME)


def test_cli_review_decide_and_rules(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qunyun.cli.main import app

    monkeypatch.setenv("QUNYUN_SPAM_FEEDBACK", str(tmp_path / "feedback.csv"))
    monkeypatch.chdir(tmp_path)  # no stray qunyun.toml
    db = Database(sqlite_url)
    db.migrate()
    rid = make_review(db, [act(ActionKind.KICK, user_id="u1")])
    with db.engine.begin() as conn:
        conn.execute(GroupRow.__table__.insert().values(platform="qq", group_id="g1", name="业主群", type="general"))
    db.dispose()
    runner = CliRunner()

    def run(*args: str) -> object:
        result = runner.invoke(app, ["--db", sqlite_url, "--lang", "en", "moderation", *args])
        return result

    listing = run("review", "--json")
    assert listing.exit_code == 0, listing.output
    data = json.loads(listing.stdout)
    assert data["total"] == 1 and data["reviews"][0]["id"] == rid
    shown = run("show", str(rid), "--json")
    assert json.loads(shown.stdout)["history"]["active_strikes"] == 1
    decided = run("decide", str(rid), "ham", "--by", "cli-tester", "--json")
    assert decided.exit_code == 0, decided.output
    out = json.loads(decided.stdout)
    assert [a["kind"] for a in out["actions"]] == ["invite"] and out["revoked_strikes"] == 1
    again = run("decide", str(rid), "spam")
    assert again.exit_code != 0 and "already decided" in again.output

    added = run("rules", "deny-domain", "HTTPS://www.Evil.example.org/", "--json")
    assert json.loads(added.stdout)["value"] == "evil.example.org"
    bad = run("rules", "whitelist", "two words")
    assert bad.exit_code != 0 and "two words" in bad.output
    bad_scope = run("rules", "add-keyword", "代刷", "--scope", "galaxy")
    assert bad_scope.exit_code != 0 and "galaxy" in bad_scope.output
    shown_rules = json.loads(run("rules", "show", "--json").stdout)
    assert [e["value"] for e in shown_rules["lists"]] == ["evil.example.org"]
    removed = run("rules", "remove", str(shown_rules["lists"][0]["id"]), "--json")
    assert json.loads(removed.stdout) == {"id": shown_rules["lists"][0]["id"], "removed": True}

    # a 业主群 where neighbours sell things: the trade rules off for that group only
    before = json.loads(run("rules", "show", "--group", "qq:g1", "--json").stdout)["effective"]
    off = run("rules", "off", "Trade", "--scope", "group:qq:g1", "--json")
    assert off.exit_code == 0, off.output
    assert json.loads(off.stdout)["value"] == "trade"
    bad_family = run("rules", "off", "colour")
    assert bad_family.exit_code != 0 and "colour" in bad_family.output and "promo" in bad_family.output
    after = json.loads(run("rules", "show", "--group", "qq:g1", "--json").stdout)["effective"]
    assert before["trade_rules"] is True and after["trade_rules"] is False and after["promo_rules"] is True
    assert "off trade" in run("rules", "show", "--group", "qq:g1").output
    assert json.loads(run("incidents", "--json").stdout) == {"total": 0, "incidents": []}


def test_cli_decides_several_reviews_at_once(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """批量判定 from the terminal: each id on its own, an unknown one named (exit 1), the rest decided."""
    from qunyun.cli.main import app

    monkeypatch.setenv("QUNYUN_SPAM_FEEDBACK", str(tmp_path / "feedback.csv"))
    monkeypatch.chdir(tmp_path)
    db = Database(sqlite_url)
    db.migrate()
    first = make_review(db, [act(ActionKind.KICK, user_id="u1")], user="u1")
    second = make_review(db, [act(ActionKind.KICK, user_id="u2")], user="u2")
    db.dispose()
    runner = CliRunner()
    args = ["--db", sqlite_url, "--lang", "en", "moderation", "decide"]
    out = runner.invoke(app, [*args, f"{first},{second},999999", "spam", "--json"])
    assert out.exit_code == 1, out.output
    body = json.loads(out.stdout)
    assert [d["id"] for d in body["decided"]] == [first, second] and body["decision"] == "spam"
    assert [e["id"] for e in body["errors"]] == [999999] and "999999" in body["errors"][0]["error"]
    bad = runner.invoke(app, [*args, "1,x", "spam"])
    assert bad.exit_code == 2 and "1,x" in bad.output


def test_each_database_keeps_its_own_feedback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decisions taken on a demo must never train another community's model: without
    $QUNYUN_SPAM_FEEDBACK each database has its own feedback CSV, and the live model reads it."""
    from qunyun.features.moderation.classifier import feedback_path_for
    from qunyun.features.moderation.plugin import ModerationPlugin

    monkeypatch.delenv("QUNYUN_SPAM_FEEDBACK", raising=False)
    monkeypatch.setenv("QUNYUN_DATA_DIR", str(tmp_path / "data"))
    demo, prod = tmp_path / "demo", tmp_path / "prod"
    demo.mkdir()
    prod.mkdir()
    monkeypatch.chdir(demo)
    demo_path = feedback_path_for("sqlite:///qunyun.db")  # relative: resolved against this directory
    assert demo_path == feedback_path_for(f"sqlite:///{demo / 'qunyun.db'}")
    monkeypatch.chdir(prod)
    assert feedback_path_for("sqlite:///qunyun.db") != demo_path
    assert feedback_path_for("postgres://u@h/db") == feedback_path_for("postgresql+psycopg://u@h/db")

    db = Database(f"sqlite:///{demo / 'qunyun.db'}")
    db.migrate()
    rid = make_review(db, [act(ActionKind.KICK, user_id="u1")])
    decide(db, rid, "ham", actor="x", cfg=ReviewConfig(), dry_run=False, now=BASE_TIME)
    assert "加我qq 12345678,ham" in demo_path.read_text(encoding="utf-8")
    assert not (tmp_path / "data" / "spam-feedback.csv").exists()  # nothing in the shared file
    plugin = ModerationPlugin()
    plugin.use_database(db.url)
    assert plugin.feedback == demo_path
    db.dispose()
    monkeypatch.setenv("QUNYUN_SPAM_FEEDBACK", str(tmp_path / "explicit.csv"))
    assert feedback_path_for(db.url) == tmp_path / "explicit.csv"  # an explicit file wins
