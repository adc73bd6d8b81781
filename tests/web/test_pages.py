"""Every dashboard page renders real data (SQLite and PostgreSQL), escapes it, and pages/searches right."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from qunyun.app import QunyunApp
from qunyun.testing import make_event
from qunyun.web.app import create_app

from .conftest import csrf_of, login


def chart_json(html: str, chart_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', html, re.S)
    assert match, f"no embedded data for {chart_id}"
    return json.loads(match.group(1))


def rows(html: str) -> int:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr>") - body.count('class="empty"')


def test_overview(shared_client: TestClient) -> None:
    html = shared_client.get("/?lang=zh-CN").text
    assert re.search(r'id="stat-groups">3<', html) and re.search(r'id="stat-messages">270<', html)
    assert re.search(r'id="stat-members">9<', html)
    series = chart_json(html, "chart-overview")
    assert len(series["dates"]) == 60 and sum(series["values"]) == 270 and series["name"] == "每日消息数"
    assert series["dates"][-1] == "2024-05-30"
    assert '<script src="/static/vendor/echarts.min.js"></script>' in html
    assert "Python 学习一群" in html and 'href="/groups/telegram/-100777"' in html


def test_groups_and_group_detail(shared_client: TestClient) -> None:
    html = shared_client.get("/groups").text
    assert rows(html) == 3 and "Growth hackers" in html
    detail = shared_client.get("/groups/qq/1001").text
    assert sum(chart_json(detail, "chart-group")["values"]) == 90
    assert "小明" in detail and "阿花" in detail and "退群" in detail  # top members, recent events
    assert "&lt;b&gt;hi&lt;/b&gt;" in detail and "<b>hi</b>" not in detail  # message text is escaped
    assert "分数" in detail  # the plugin's enricher column (score) has a translated header
    missing = shared_client.get("/groups/qq/nope")
    assert missing.status_code == 404 and "找不到群" in missing.text


def test_members_search_and_group_filter(shared_client: TestClient) -> None:
    everyone = shared_client.get("/members").text
    assert rows(everyone) == 12 and "共 12 条" in everyone
    assert "分数" in everyone and "活跃" in everyone  # enricher columns
    one_group = shared_client.get("/members", params={"group": "qq:1001"}).text
    assert rows(one_group) == 3 and 'value="qq:1001" selected' in one_group
    found = shared_client.get("/members", params={"q": "小明"}).text
    assert rows(found) == 3 and "阿花" not in found
    by_id = shared_client.get("/members", params={"group": "telegram:-100777", "q": "U5"}).text
    assert rows(by_id) == 1 and "Zed" in by_id
    assert shared_client.get("/members", params={"group": "nope"}).status_code == 404
    assert shared_client.get("/members", params={"page": 0}).status_code == 422


def test_audit_dead_letters_outbox_pages(shared_client: TestClient) -> None:
    audit = shared_client.get("/audit?lang=zh-CN").text
    assert rows(audit) == 2 and "刷屏" in audit and "禁言" in audit
    assert "Flooding" in shared_client.get("/audit?lang=en").text
    dead = shared_client.get("/dead-letters?lang=zh-CN").text
    assert rows(dead) == 1 and "invalid JSON" in dead and "broken" in dead
    outbox = shared_client.get("/outbox").text
    assert rows(outbox) == 2 and "bot is not an admin" in outbox and 'action="/outbox/1/retry"' in outbox
    assert 'action="/outbox/2/retry"' not in outbox  # only failed/unknown rows can be retried
    failed = shared_client.get("/outbox?status=failed").text
    assert rows(failed) == 1
    assert shared_client.get("/outbox?status=bogus").status_code == 400


def test_users_page_lists_staff(shared_client: TestClient) -> None:
    html = shared_client.get("/users").text
    assert all(name in html for name in ("olivia", "adam", "opal", "vera"))
    assert '<option value="owner"' in html  # an owner may create owners


def test_unknown_page_is_a_404_in_the_shell(shared_client: TestClient) -> None:
    resp = shared_client.get("/no-such-page")
    assert resp.status_code == 404 and "页面不存在" in resp.text and "群运" in resp.text


# -- writes ---------------------------------------------------------------------------------------
@pytest.fixture
def owner(qapp: QunyunApp) -> Iterator[TestClient]:
    with TestClient(create_app(qapp)) as c:
        login(c, "adam")
        yield c


def test_members_paging_50_per_page(owner: TestClient, qapp: QunyunApp) -> None:
    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    qapp.engine.process(
        [
            make_event("join", platform="qq", group_id="5555", user_id=f"p{i:03d}", time=t0 + timedelta(seconds=i))
            for i in range(120)
        ]
    )
    first = owner.get("/members", params={"group": "qq:5555"}).text
    assert rows(first) == 50 and "第 1 / 3 页" in first and "page=2" in first and "上一页" not in first
    last = owner.get("/members", params={"group": "qq:5555", "page": 3}).text
    assert rows(last) == 20 and "下一页" not in last and "page=2" in last
    assert rows(owner.get("/members", params={"group": "qq:5555", "page": 9}).text) == 0


def test_create_user_from_the_page(owner: TestClient) -> None:
    page = owner.get("/users")
    assert '<option value="owner"' not in page.text  # an admin cannot create owners
    token = csrf_of(page.text)
    made = owner.post(
        "/users",
        data={"csrf_token": token, "name": "nina", "password": "nina-pass-1", "role": "operator", "lang": "en"},
    )
    assert made.status_code == 200 and "已创建用户 nina" in made.text
    dup = owner.post("/users", data={"csrf_token": token, "name": "nina", "password": "nina-pass-1", "role": "viewer"})
    assert "用户已存在" in dup.text
    short = owner.post("/users", data={"csrf_token": token, "name": "zed", "password": "short", "role": "viewer"})
    assert "至少 8 个字符" in short.text and "zed" not in short.text.split("<tbody>")[1]
    escalate = owner.post(
        "/users", data={"csrf_token": token, "name": "boss", "password": "boss-pass-1", "role": "owner"}
    )
    assert "不能创建高于自己角色的用户" in escalate.text
    bad_role = owner.post("/users", data={"csrf_token": token, "name": "x", "password": "x-pass-123", "role": "god"})
    assert bad_role.status_code == 422 and "role" in bad_role.text
    owner.cookies.clear()
    assert login(owner, "nina", "nina-pass-1").status_code == 303
    assert "Messages per day" in owner.get("/").text  # nina's saved language
