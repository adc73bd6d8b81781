"""Dashboard pages and REST endpoints of the moderation plugin (review queue, incidents, rules)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from qunyun.app import QunyunApp
from qunyun.features.moderation.decisions import moderation_settings
from qunyun.features.moderation.plugin import ModerationPlugin
from qunyun.features.moderation.scope import effective_rules
from qunyun.features.moderation.tables import ReviewRow, community_of, tbl
from qunyun.store.tables import AuditRow, OutboxRow
from qunyun.testing import BASE_TIME, message
from tests.web.conftest import build_app, csrf_of, login, token_for

SPAM = "兼职日结工资，加微信 abc12345 领取名额，动动手指日赚三百"
SOLO = "代开发票，低息贷款秒下款，加我qq 88886666 详谈"


def moderated_app(db_url: str, tmp_path: Path) -> QunyunApp:
    qapp = build_app(db_url, tmp_path, plugins=[ModerationPlugin()])
    qapp.settings.features["moderation"] = {"rules": {"use_model": False}, "waves": {"min_groups": 3}}
    t0 = BASE_TIME + timedelta(days=60)
    events = [message(SOLO, group_id="1001", user_id="spammer", user_name="广告哥", time=t0)]
    events += [
        message(
            SPAM + "!",
            group_id=g,
            user_id="s2",
            message_id=f"wave{i}",
            time=t0 + timedelta(minutes=1, seconds=i),
        )
        for i, g in enumerate(["1001", "1002", "1003"])
    ]
    qapp.engine.process(events)
    return qapp


@pytest.fixture
def mod_app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[QunyunApp]:
    monkeypatch.setenv("QUNYUN_SPAM_FEEDBACK", str(tmp_path / "feedback.csv"))
    app_ = moderated_app(db_url, tmp_path)
    yield app_
    app_.close()


def _review_ids(qapp: QunyunApp) -> dict[str, int]:
    with qapp.db.engine.connect() as conn:
        rows = conn.execute(select(tbl(ReviewRow).c.id, tbl(ReviewRow).c.kind, tbl(ReviewRow).c.user_id)).all()
    return {f"{kind}:{user}": rid for rid, kind, user in rows}


def test_api_review_queue_decision_and_rules(mod_app: QunyunApp) -> None:
    from qunyun.web.app import create_app

    ids = _review_ids(mod_app)
    assert "message:spammer" in ids and "incident:s2" in ids
    with TestClient(create_app(mod_app)) as client:
        op = {"Authorization": f"Bearer {token_for(mod_app, 'opal')}"}
        viewer = {"Authorization": f"Bearer {token_for(mod_app, 'vera')}"}
        listing = client.get("/api/v1/moderation/reviews", headers=viewer).json()
        assert listing["total"] >= 2 and all(r["status"] == "pending" for r in listing["reviews"])
        one = client.get(f"/api/v1/moderation/reviews/{ids['message:spammer']}", headers=viewer).json()
        assert one["text"] == SOLO and "contact:qq" in one["reasons"]
        assert one["history"]["active_strikes"] == 1 and one["actions"][0]["kind"] == "delete_message"

        assert (
            client.post(
                f"/api/v1/moderation/reviews/{ids['message:spammer']}/decision",
                headers=viewer,
                json={"decision": "ham"},
            ).status_code
            == 403
        )
        bad = client.post(
            f"/api/v1/moderation/reviews/{ids['message:spammer']}/decision",
            headers=op,
            json={"decision": "maybe"},
        )
        assert bad.status_code == 422
        done = client.post(
            f"/api/v1/moderation/reviews/{ids['incident:s2']}/decision", headers=op, json={"decision": "ham"}
        )
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["decided_by"] == "opal" and {a["kind"] for a in body["actions"]} == {"unban", "invite", "unmute"}
        again = client.post(
            f"/api/v1/moderation/reviews/{ids['incident:s2']}/decision", headers=op, json={"decision": "spam"}
        )
        assert again.status_code == 409
        assert client.get("/api/v1/moderation/reviews/999999", headers=viewer).status_code == 404

        incidents = client.get("/api/v1/moderation/incidents", headers=viewer).json()
        assert incidents["total"] == 1 and incidents["incidents"][0]["status"] == "dismissed"
        inc = client.get(f"/api/v1/moderation/incidents/{incidents['incidents'][0]['id']}", headers=viewer).json()
        assert len(inc["copies"]) == 3 and inc["senders"] == ["s2"]

        added = client.post(
            "/api/v1/moderation/rules",
            headers=op,
            json={"kind": "deny_domain", "value": "https://www.Spam.example.com/", "scope": "*"},
        )
        assert added.status_code == 201 and added.json()["value"] == "spam.example.com"
        wrong = client.post("/api/v1/moderation/rules", headers=op, json={"kind": "colour", "value": "red"})
        assert wrong.status_code == 422 and "colour" in wrong.json()["detail"]
        eff = client.get("/api/v1/moderation/rules", params={"group": "qq:1001"}, headers=viewer).json()
        assert "spam.example.com" in eff["effective"]["deny_domains"] and eff["group"] == "qq:1001"
        assert client.delete(f"/api/v1/moderation/rules/{added.json()['id']}", headers=op).status_code == 200
        assert client.delete(f"/api/v1/moderation/rules/{added.json()['id']}", headers=op).status_code == 404

    with mod_app.db.engine.connect() as conn:
        audit = conn.execute(select(AuditRow.__table__).where(AuditRow.__table__.c.actor == "opal")).all()
        undo = conn.execute(select(OutboxRow.__table__).where(OutboxRow.__table__.c.kind == "unban")).all()
    assert any(a.kind == "review_ham" for a in audit) and len(undo) >= 3


def test_dashboard_review_page_buttons_need_csrf_and_operator(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qunyun.web.app import create_app

    monkeypatch.setenv("QUNYUN_SPAM_FEEDBACK", str(tmp_path / "feedback.csv"))
    qapp = moderated_app(sqlite_url, tmp_path)
    rid = _review_ids(qapp)["message:spammer"]
    with TestClient(create_app(qapp)) as client:
        assert login(client, "vera").status_code == 303
        page = client.get("/moderation/review")
        assert page.status_code == 200 and "88886666" in page.text and "广告哥" in page.text
        assert 'title="联系方式' in page.text  # each reason badge explains its family
        assert f"/moderation/review/{rid}/decide" not in page.text  # viewers see no buttons
        denied = client.post(
            f"/moderation/review/{rid}/decide",
            data={"decision": "ham", "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert denied.status_code == 403
        client.post("/logout", data={"csrf_token": csrf_of(page.text)})

        assert login(client, "opal").status_code == 303
        page = client.get("/moderation/review")
        assert f"/moderation/review/{rid}/decide" in page.text
        forged = client.post(
            f"/moderation/review/{rid}/decide",
            data={"decision": "ham", "csrf_token": "nope"},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        ok = client.post(
            f"/moderation/review/{rid}/decide",
            data={"decision": "spam", "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert ok.status_code == 303
        after = client.get(ok.headers["location"])
        assert f"#{rid}" in after.text  # the flash names the review
        with qapp.db.engine.connect() as conn:
            status = conn.execute(select(tbl(ReviewRow).c.status).where(tbl(ReviewRow).c.id == rid)).scalar_one()
        assert status == "spam"

        inc = client.get("/moderation/incidents")
        assert inc.status_code == 200 and "incident-1" in inc.text
        rules = client.get("/moderation/rules")
        assert rules.status_code == 200 and '<option value="promo">' in rules.text  # the families are suggested
        token = csrf_of(rules.text)
        client.post(
            "/moderation/rules/add",
            data={"kind": "keyword", "value": "代刷", "scope": "*", "csrf_token": token},
        )
        bad = client.post(
            "/moderation/rules/add",
            data={"kind": "deny_domain", "value": "not a domain", "scope": "*", "csrf_token": token},
        )
        assert "not a domain" in bad.text  # the flash names what was wrong
        assert "代刷" in client.get("/moderation/rules").text
        client.post(
            "/moderation/rules/add",
            data={"kind": "rule_off", "value": "promo", "scope": "group:qq:1001", "csrf_token": token},
        )
        listed = client.get("/moderation/rules").text
        assert "关闭规则族" in listed and "group:qq:1001" in listed
        with qapp.db.engine.connect() as conn:
            eff = effective_rules(moderation_settings(qapp), conn, "qq", "1001", community_of(conn, "qq", "1001"))
        assert eff.promo_rules is False and eff.trade_rules is True
        nav = client.get("/moderation/review").text
        assert 'href="/moderation/review"' in nav
    qapp.close()


def test_review_badges_show_shapes_and_contacts_before_keywords() -> None:
    from qunyun.features.moderation.web import _badges

    reasons = [f"keyword:w{i}" for i in range(7)] + ["contact:qq", "model:0.31"]
    shown, more = _badges(reasons)
    assert shown[:2] == ["contact:qq", "model:0.31"] and len(shown) == 6 and more == 3
