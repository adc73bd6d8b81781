"""Try a message (试一试): the preview says what the policy then really does, and writes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from qunyun.features.moderation.preview import preview
from qunyun.features.moderation.tables import ReviewRow, StrikeRow, WaveEntryRow, tbl
from qunyun.store.queries import GroupRef
from qunyun.testing import BASE_TIME, BotTester, message
from tests.features.moderation.test_engine_e2e import NORMAL, SPAM, bot, settings
from tests.web.conftest import csrf_of, login, token_for

T0 = BASE_TIME + timedelta(hours=1)
VOCAB = "红包群 私聊我 福利多多"  # vocabulary only: no contact, link or QR code


def _counts(b: BotTester) -> tuple[int, int, int]:
    with b.db.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(tbl(t))).scalar_one()
            for t in (ReviewRow, StrikeRow, WaveEntryRow)
        )


def _preview(b: BotTester, text: str, group_id: str | None = None, **kw: Any) -> dict[str, Any]:
    kw.setdefault("now", T0)
    group = GroupRef("qq", group_id) if group_id else None
    with b.db.engine.connect() as conn:
        return preview(conn, b.settings, text, group=group, **kw).to_dict()


def test_preview_matches_what_the_policy_then_does(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url)
    b.outcome(message(NORMAL, group_id="2001", user_id="good", time=BASE_TIME))
    before = _counts(b)
    first = _preview(b, SPAM, group_id="2001", user_id="s1")
    assert first["outcome"] == "act" and first["step"]["index"] == 0 and first["step"]["action"] == "warn"
    assert first["label"] == "spam" and "contact:wechat" in first["reasons"] and first["threshold"] == 0.5
    assert [f["code"] for f in first["findings"]].count("contact:wechat") == 1  # a code counts once
    assert "删除消息" in first["summary"]["zh"] and "step 1" in first["summary"]["en"]
    assert _counts(b) == before  # a preview writes no review, strike or wave signature

    actions = b.feed(message(SPAM, group_id="2001", user_id="s1", time=T0))
    assert {a.kind.value for a in actions} == {"delete_message", "warn"}  # deleted and warned
    # the member's second offence a minute later: the preview names the next step, the policy takes it
    later = T0 + timedelta(minutes=1)
    second = _preview(b, SPAM + "!", group_id="2001", user_id="s1", now=later)
    assert second["step"]["index"] == 1 and second["step"]["action"] == "mute" and second["step"]["duration"] == 600
    assert second["step"]["strike_points"] == pytest.approx(2.0, abs=0.01)
    actions = b.feed(message(SPAM + "!", group_id="2001", user_id="s1", message_id="m2", time=later))
    mutes = [a for a in actions if a.kind.value == "mute"]
    assert len(mutes) == 1 and mutes[0].duration == 600
    b.close()


def test_preview_outcomes_flag_spared_trusted_rules_off(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url, cfg={"trusted_users": ["qq:kol"], "groups": {"qq:2009": {"enabled": False}}})
    for i in range(25):  # an established member of 2001 (20+ messages)
        b.outcome(message(f"{NORMAL} {i}", group_id="2001", user_id="old", time=BASE_TIME + timedelta(seconds=i)))
    assert _preview(b, VOCAB, group_id="2001", user_id="stranger")["outcome"] == "flag"
    assert _preview(b, VOCAB, group_id="2001", user_id="old")["outcome"] == "spared"
    assert _preview(b, SPAM, group_id="2001", user_id="old")["outcome"] == "act"  # hard evidence still counts
    trusted = _preview(b, SPAM, group_id="2001", user_id="kol")
    assert trusted["outcome"] == "trusted" and trusted["findings"] == []
    assert _preview(b, SPAM, group_id="2009")["outcome"] == "rules_off"
    assert _preview(b, NORMAL, group_id="2001")["outcome"] == "none"
    new = _preview(b, VOCAB, group_id="2001", user_id="stranger", newcomer=True)
    assert new["newcomer"] is True and new["threshold"] < 0.5
    assert _preview(b, SPAM)["group"] is None  # the global rules
    b.close()


def test_preview_consults_the_members_features_kols(db_url: str, feedback_csv: Path) -> None:
    """A KOL by the members feature's roles is trusted, as the live policy trusts them once the
    refresh job ran; the preview computes the group's roles itself and says why."""
    from qunyun.features.members.plugin import MembersPlugin
    from qunyun.features.moderation.plugin import ModerationPlugin, plugin_of
    from tests.features.members.community import role_community

    s = settings(trusted_users=["qq:friend"])
    s.features["members"] = {"reference": "last_event", "clock": "calendar", "admins": ["qq:boss"]}
    b = BotTester([MembersPlugin(), ModerationPlugin()], db_url=db_url, settings=s)
    b.feed_many(role_community())
    kol = _preview(b, SPAM, group_id="g1", user_id="expert")
    assert kol["outcome"] == "trusted" and kol["trusted_as"] == "role_kol"
    assert "意见领袖" in kol["summary"]["zh"] and "opinion leaders" in kol["summary"]["en"]
    assert _preview(b, SPAM, group_id="g1", user_id="boss")["trusted_as"] == "staff"
    assert _preview(b, SPAM, group_id="g1", user_id="friend")["trusted_as"] == "whitelist"
    talker = _preview(b, SPAM, group_id="g1", user_id="talker1")  # core, not trusted: acted on
    assert talker["outcome"] == "act" and talker["trusted_as"] is None
    # the live policy agrees once its cache holds the same roles (what the refresh job computes)
    plugin = ModerationPlugin()
    with b.db.engine.connect() as conn:
        assert plugin.trusted.refresh(conn, b.settings) == 1
    assert plugin.trusted.role("qq", "g1", "expert") == "kol" and plugin.trusted.role("qq", "g1", "talker1") is None
    # the dashboard, API and CLI preview with the app's own plugin: they read its cache (the roles
    # the live job computed) and recompute a group only when its roles are missing or stale
    live = plugin_of(b.registry)
    assert isinstance(live, ModerationPlugin)
    live.trusted.set("qq", "g1", {"talker1": "kol"})
    assert _preview(b, SPAM, group_id="g1", user_id="talker1", plugin=live)["trusted_as"] == "role_kol"
    assert live.trusted.has("qq", "g1", max_age=600) and not live.trusted.has("qq", "g1", max_age=-1)
    b.close()


def test_preview_names_rule_families_switched_off(db_url: str, feedback_csv: Path) -> None:
    from qunyun.features.moderation import scope as sc

    b = bot(db_url)
    b.outcome(message(NORMAL, group_id="2001", user_id="good", time=BASE_TIME))
    trade = "出一个号 40r 私聊"
    on = _preview(b, trade, group_id="2001")
    assert any(c.startswith("trade:") for c in on["reasons"]) and on["rules_off"] == ["model"]  # rules-only tests
    with b.db.engine.begin() as conn:
        sc.add_list_entry(conn, "group:qq:2001", "rule_off", "trade", by="t", now=T0)
    off = _preview(b, trade, group_id="2001")
    assert off["rules_off"] == ["trade", "model"] and not any(c.startswith("trade:") for c in off["reasons"])
    b.close()


def test_preview_api_page_and_cli(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qunyun.cli.main import app as cli
    from qunyun.web.app import create_app
    from tests.features.moderation.test_web import moderated_app

    monkeypatch.setenv("QUNYUN_SPAM_FEEDBACK", str(tmp_path / "feedback.csv"))
    monkeypatch.chdir(tmp_path)
    qapp = moderated_app(sqlite_url, tmp_path)
    with TestClient(create_app(qapp)) as client:
        viewer = {"Authorization": f"Bearer {token_for(qapp, 'vera')}"}
        r = client.post("/api/v1/moderation/preview", headers=viewer, json={"text": SPAM, "group": "qq:1001"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["outcome"] == "act" and body["group"] == "qq:1001" and body["step"]["action"] == "warn"
        unknown = client.post("/api/v1/moderation/preview", headers=viewer, json={"text": "x", "group": "nope"})
        assert unknown.status_code == 404
        empty = client.post("/api/v1/moderation/preview", headers=viewer, json={"text": "  "})
        assert empty.status_code == 422
        assert client.post("/api/v1/moderation/preview", json={"text": SPAM}).status_code == 401

        assert login(client, "vera").status_code == 303  # a viewer may try messages: nothing is written
        page = client.get("/moderation/preview?group=qq:1001")
        assert page.status_code == 200 and 'value="qq:1001" selected' in page.text
        shown = client.post(
            "/moderation/preview",
            data={"text": SPAM, "group": "qq:1001", "user_id": "", "newcomer": "", "csrf_token": csrf_of(page.text)},
        )
        assert shown.status_code == 200 and "会被处理" in shown.text and "contact:wechat" in shown.text
        forged = client.post("/moderation/preview", data={"text": SPAM, "csrf_token": "nope"})
        assert forged.status_code == 403
        assert 'href="/moderation/preview"' in client.get("/moderation/rules").text
        review = client.get("/moderation/review").text  # each queued message opens in the preview
        assert "/moderation/preview?text=" in review and "group=qq%3A1001" in review
        prefill = {"text": "代开发票", "group": "qq:1001", "user_id": "spammer"}
        filled = client.get("/moderation/preview", params=prefill)
        assert ">代开发票</textarea>" in filled.text and 'value="spammer"' in filled.text
    qapp.close()

    result = CliRunner().invoke(
        cli, ["--db", sqlite_url, "moderation", "preview", SPAM, "--group", "qq:1001", "--user", "spammer", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["outcome"] == "act" and out["user_id"] == "spammer" and out["group"] == "qq:1001"
    args = ["--db", sqlite_url, "--lang", "en", "moderation", "preview", SPAM, "--group", "zz"]
    missing = CliRunner().invoke(cli, args)
    assert missing.exit_code == 2 and "zz" in missing.output


def test_review_queue_filters_and_bulk_decisions(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator triages a page at once: filter by group or by "flag only", tick, decide."""
    from qunyun.features.moderation.review import list_reviews
    from qunyun.web.app import create_app
    from tests.features.moderation.test_web import moderated_app

    monkeypatch.setenv("QUNYUN_SPAM_FEEDBACK", str(tmp_path / "feedback.csv"))
    qapp = moderated_app(sqlite_url, tmp_path)
    qapp.engine.process([message(VOCAB, group_id="1002", user_id="fresh", message_id="v1", time=T0)])
    with qapp.db.engine.connect() as conn:
        everything = list_reviews(conn, status=None)[1]
        flags = list_reviews(conn, status=None, flagged=True)[1]
        acted = list_reviews(conn, status=None, flagged=False)[1]
        in_1001 = list_reviews(conn, status=None, group=GroupRef("qq", "1001"))[1]
    assert [r["user_id"] for r in flags] == ["fresh"] and len(flags) + len(acted) == len(everything)
    assert in_1001 and {r["group_id"] for r in in_1001} == {"1001"}
    with TestClient(create_app(qapp)) as client:
        op = {"Authorization": f"Bearer {token_for(qapp, 'opal')}"}
        viewer = {"Authorization": f"Bearer {token_for(qapp, 'vera')}"}
        got = client.get("/api/v1/moderation/reviews", params={"flagged": "true", "status": "all"}, headers=viewer)
        assert [r["user_id"] for r in got.json()["reviews"]] == ["fresh"]
        assert client.get("/api/v1/moderation/reviews", params={"group": "nope"}, headers=viewer).status_code == 404
        ids = [r["id"] for r in acted]
        denied = client.post(
            "/api/v1/moderation/reviews/decisions", headers=viewer, json={"ids": ids, "decision": "spam"}
        )
        assert denied.status_code == 403
        lone = [r["id"] for r in acted if r["user_id"] == "spammer"]
        first = client.post(
            "/api/v1/moderation/reviews/decisions", headers=op, json={"ids": lone, "decision": "spam"}
        ).json()
        assert [d["id"] for d in first["decided"]] == lone and first["errors"] == []
        # the whole list again, with one that does not exist: the wave's incident settles its copies'
        # message reviews with it (no error for them); the one decided before and the unknown one are named
        rest = client.post(
            "/api/v1/moderation/reviews/decisions", headers=op, json={"ids": [*ids, 999999], "decision": "spam"}
        ).json()
        incident = next(d for d in rest["decided"] if d["linked"])
        assert [d["id"] for d in rest["decided"]] == [incident["id"]]
        assert set(incident["linked"]) == set(ids) - set(lone) - {incident["id"]}
        assert {e["id"] for e in rest["errors"]} == {*lone, 999999}
        empty = client.post("/api/v1/moderation/reviews/decisions", headers=op, json={"ids": [], "decision": "ham"})
        assert empty.status_code == 422

        assert login(client, "opal").status_code == 303
        page = client.get("/moderation/review", params={"kind": "flag"})
        flag_id = flags[0]["id"]
        assert f'name="ids" value="{flag_id}"' in page.text and 'id="bulk-form"' in page.text
        assert page.text.count('name="ids" value=') == 1  # only the flag is listed
        nothing = client.post("/moderation/review/bulk", data={"decision": "ham", "csrf_token": csrf_of(page.text)})
        assert "没有勾选" in nothing.text
        done = client.post(
            "/moderation/review/bulk", data={"decision": "ham", "ids": [flag_id], "csrf_token": csrf_of(page.text)}
        )
        assert done.status_code == 200 and "已批量判定 1 条" in done.text
        forged = client.post("/moderation/review/bulk", data={"decision": "ham", "ids": [flag_id], "csrf_token": "x"})
        assert forged.status_code == 403
        by_group = client.get("/moderation/review", params={"group": "qq:1001", "status": "all"}).text
        assert 'value="qq:1001" selected' in by_group and "qq:1002" not in by_group.split("<tbody>")[1]
    with qapp.db.engine.connect() as conn:
        assert list_reviews(conn, status="pending")[0] == 0
    qapp.close()

    from qunyun.cli.main import app as cli

    def review(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--db", sqlite_url, "--lang", "en", "moderation", "review", *args])

    flagged = json.loads(review("--status", "all", "--kind", "flag", "--json").stdout)
    assert [r["user_id"] for r in flagged["reviews"]] == ["fresh"]
    in_group = json.loads(review("--status", "all", "--group", "qq:1002", "--json").stdout)
    assert in_group["total"] >= 1 and {r["group_id"] for r in in_group["reviews"]} == {"1002"}
    bad = review("--kind", "maybe")
    assert bad.exit_code == 2 and "maybe" in bad.output


def test_every_trust_reason_is_said_in_both_languages() -> None:
    from qunyun.features.moderation.plugin import TRUST_REASONS
    from qunyun.features.moderation.preview import Preview

    for reason in TRUST_REASONS:
        p = Preview(text="x", platform="qq", group_id="1", community=None, user_id="u", outcome="trusted")
        p.trusted_as = reason
        zh, en = p.summary("zh-CN"), p.summary("en")
        assert zh.startswith("不处理") and en.startswith("Left alone") and zh != en, reason
