"""REST API /api/v1: token auth, every endpoint against real data on SQLite and PostgreSQL, ingest, roles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from qunyun.app import QunyunApp
from qunyun.store.tables import DeadLetterRow, MemberRow
from qunyun.web.app import create_app

from .conftest import csrf_of, login, token_for


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def api(shared_qapp: QunyunApp) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client without cookies and a viewer's token (read-only tests on the shared store)."""
    with TestClient(create_app(shared_qapp)) as c:
        yield c, bearer(token_for(shared_qapp, "vera"))


def test_no_or_bad_token_is_401(api: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = api
    resp = client.get("/api/v1/overview")
    assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/overview", headers=bearer("qy_not-a-token")).status_code == 401
    assert client.get("/api/v1/overview", headers={"Authorization": "Basic dmVyYTp4"}).status_code == 401


def test_me_and_overview(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    assert client.get("/api/v1/me", headers=auth).json() == {"id": 4, "name": "vera", "role": "viewer", "lang": "zh-CN"}
    ov = client.get("/api/v1/overview", headers=auth).json()
    assert ov["groups"] == 3 and ov["messages"] == 270 and ov["members"] == 9
    assert ov["last_message"] == "2024-05-30T12:00:00Z" and 0 < ov["active_last_day"] <= 9


def test_groups_and_group(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    groups = client.get("/api/v1/groups", headers=auth).json()
    assert [(g["platform"], g["group_id"]) for g in groups] == [("qq", "1001"), ("qq", "1002"), ("telegram", "-100777")]
    assert {g["name"] for g in groups} == {"Python 学习一群", "Python 学习二群", "Growth hackers"}
    one = client.get("/api/v1/groups/telegram/-100777", headers=auth).json()
    assert one["members"] == 5 and one["messages"] == 90 and one["active_last_day"] >= 1
    missing = client.get("/api/v1/groups/qq/404404", headers=auth)
    assert missing.status_code == 404 and "404404" in missing.json()["detail"]


def test_members_search_paging_and_enrichers(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    page = client.get("/api/v1/groups/qq/1002/members?limit=2", headers=auth).json()
    assert page["total"] == 4 and len(page["items"]) == 2 and page["limit"] == 2
    rest = client.get("/api/v1/groups/qq/1002/members?offset=2&limit=2", headers=auth).json()
    ids = [m["user_id"] for m in page["items"] + rest["items"]]
    assert sorted(ids) == ["u1", "u2", "u3", "u4"]
    first = page["items"][0]
    assert first["score"] == first["messages"] * 2 and first["reason"] == "活跃"  # the plugin's enricher
    found = client.get("/api/v1/groups/qq/1002/members", params={"q": "王"}, headers=auth).json()
    assert found["total"] == 1 and found["items"][0]["user_name"] == "王老师"
    assert client.get("/api/v1/groups/qq/1002/members?limit=0", headers=auth).status_code == 422
    assert client.get("/api/v1/groups/qq/1002/members?limit=501", headers=auth).status_code == 422
    assert client.get("/api/v1/groups/qq/1002/members?order=evil", headers=auth).status_code == 422


def test_messages_per_day(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    days = client.get("/api/v1/groups/qq/1001/messages-per-day?days=30", headers=auth).json()
    assert len(days) == 30 and sum(d["messages"] for d in days) == 90
    assert days[0]["date"] == "2024-05-01" and days[-1]["date"] == "2024-05-30"
    total = client.get("/api/v1/messages-per-day?days=60", headers=auth).json()
    assert len(total) == 60 and sum(d["messages"] for d in total) == 270
    assert client.get("/api/v1/groups/qq/1001/messages-per-day?days=0", headers=auth).status_code == 422


def test_audit_dead_letters_outbox(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    audit = client.get("/api/v1/audit", headers=auth).json()
    assert audit["total"] == 2
    mute = next(a for a in audit["items"] if a["kind"] == "mute")
    assert mute["reason_zh"] == "刷屏" and mute["reason_en"] == "Flooding" and mute["evidence"] == {"messages": 9}
    assert client.get("/api/v1/audit?source=test.welcome", headers=auth).json()["total"] == 1
    dead = client.get("/api/v1/dead-letters", headers=auth).json()
    assert dead["total"] == 1 and dead["items"][0]["line"] == 5 and "invalid JSON" in dead["items"][0]["reason"]
    failed = client.get("/api/v1/outbox?status=failed", headers=auth).json()
    assert failed["total"] == 1 and failed["items"][0]["last_error"] == "group 1001: bot is not an admin"
    assert client.get("/api/v1/outbox", headers=auth).json()["total"] == 2
    assert client.get("/api/v1/outbox?status=bogus", headers=auth).status_code == 422


def test_openapi_describes_the_api(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    assert client.get("/openapi.json").status_code == 401
    spec = client.get("/openapi.json", headers=auth).json()
    paths = spec["paths"]
    for path in (
        "/api/v1/overview",
        "/api/v1/groups",
        "/api/v1/groups/{platform}/{group_id}",
        "/api/v1/groups/{platform}/{group_id}/members",
        "/api/v1/groups/{platform}/{group_id}/messages-per-day",
        "/api/v1/audit",
        "/api/v1/dead-letters",
        "/api/v1/outbox",
        "/api/v1/outbox/{outbox_id}/retry",
        "/api/v1/events",
        "/api/v1/plugin/ping",
        "/healthz",
    ):
        assert path in paths, path
    assert not any(p in paths for p in ("/", "/members", "/login", "/plugin-page"))  # pages are not API
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "OverviewOut" in spec["components"]["schemas"]
    docs = client.get("/api/v1/docs", headers=auth)
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text


# -- writes: a fresh store per test, on both backends --------------------------------------------
@pytest.fixture
def writer(qapp: QunyunApp) -> Iterator[tuple[TestClient, QunyunApp]]:
    with TestClient(create_app(qapp)) as c:
        yield c, qapp


def test_retry_needs_operator(writer: tuple[TestClient, QunyunApp]) -> None:
    client, qapp = writer
    viewer, operator = bearer(token_for(qapp, "vera")), bearer(token_for(qapp, "opal"))
    assert client.post("/api/v1/outbox/1/retry", headers=viewer).status_code == 403
    ok = client.post("/api/v1/outbox/1/retry", headers=operator)
    assert ok.status_code == 200 and ok.json() == {"id": 1, "retried": True, "status": "pending"}
    assert client.post("/api/v1/outbox/1/retry", headers=operator).status_code == 409
    assert client.post("/api/v1/outbox/999/retry", headers=operator).status_code == 404
    audit = client.get("/api/v1/audit", headers=operator).json()["items"]
    assert next(a for a in audit if a["outbox_id"] == 1)["status"] == "pending"


def _ev(mid: str, **kw: Any) -> dict[str, Any]:
    return {
        "platform": "qq",
        "group_id": "1001",
        "message_id": mid,
        "user_id": "u9",
        "user_name": "新人",
        "type": "message",
        "text": "大家好",
        "time": "2024-06-01T10:00:00+08:00",
        **kw,
    }


def test_ingest_events(writer: tuple[TestClient, QunyunApp]) -> None:
    client, qapp = writer
    operator = bearer(token_for(qapp, "opal"))
    batch: list[Any] = [
        _ev("api-1", type="join", text=None),
        _ev("api-2", user_id=42),  # integer ids are accepted as strings
        _ev("api-1", type="join", text=None),  # same key again: a duplicate, not an error
        {"platform": "qq", "group_id": "1001", "message_id": "api-3", "user_id": "u9", "text": "no time"},
        "not an object",
        _ev("api-4", time="2024-06-01T10:00:00"),  # naive time
    ]
    before = client.get("/api/v1/messages-per-day", headers=operator).json()
    assert sum(d["messages"] for d in before) == 270 and before[-1]["date"] == "2024-05-30"
    resp = client.post("/api/v1/events", json=batch, headers=operator)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert (out["imported"], out["duplicates"], out["rejected"]) == (2, 1, 3)
    assert [e["index"] for e in out["errors"]] == [3, 4, 5]
    assert "time" in out["errors"][0]["reason"] and "expected a JSON object" in out["errors"][1]["reason"]
    assert [r["status"] for r in out["results"]] == [
        "stored",
        "stored",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
    ]
    with qapp.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(DeadLetterRow)).scalar_one() == 1 + 3
        sources = set(conn.execute(select(DeadLetterRow.source)).scalars())
        assert "api:opal" in sources
        members = set(conn.execute(select(MemberRow.user_id).where(MemberRow.group_id == "1001")).scalars())
        assert {"u9", "42"} <= members
    after = client.get("/api/v1/messages-per-day", headers=operator).json()  # the chart cache saw the new event
    assert sum(d["messages"] for d in after) == 271 and after[-1] == {"date": "2024-06-01", "messages": 1}
    again = client.post("/api/v1/events", json=batch[:2], headers=operator).json()
    assert (again["imported"], again["duplicates"]) == (0, 2)


def test_ingest_rejects_bad_bodies(writer: tuple[TestClient, QunyunApp]) -> None:
    client, qapp = writer
    operator, viewer = bearer(token_for(qapp, "opal")), bearer(token_for(qapp, "vera"))
    assert client.post("/api/v1/events", json=[_ev("x")], headers=viewer).status_code == 403
    assert client.post("/api/v1/events", json={"events": []}, headers=operator).status_code == 422
    bad = client.post("/api/v1/events", content=b"[{", headers={**operator, "content-type": "application/json"})
    assert bad.status_code == 422
    too_many = client.post("/api/v1/events", json=[_ev(f"m{i}") for i in range(5001)], headers=operator)
    assert too_many.status_code == 413


def test_session_writes_need_the_csrf_header(writer: tuple[TestClient, QunyunApp]) -> None:
    client, _ = writer
    login(client, "opal")
    assert client.get("/api/v1/me").json()["name"] == "opal"  # reads work with the session alone
    assert client.post("/api/v1/outbox/1/retry").status_code == 403
    token = csrf_of(client.get("/").text)
    assert client.post("/api/v1/outbox/1/retry", headers={"X-CSRF-Token": token}).status_code == 200


def test_users_api(writer: tuple[TestClient, QunyunApp]) -> None:
    client, qapp = writer
    admin, operator = bearer(token_for(qapp, "adam")), bearer(token_for(qapp, "opal"))
    assert client.get("/api/v1/users", headers=operator).status_code == 403
    names = [u["name"] for u in client.get("/api/v1/users", headers=admin).json()]
    assert names == ["olivia", "adam", "opal", "vera"]
    made = client.post(
        "/api/v1/users", json={"name": "nina", "password": "nina-pass-1", "role": "operator"}, headers=admin
    )
    assert made.status_code == 201 and made.json()["role"] == "operator"
    assert (
        client.post("/api/v1/users", json={"name": "nina", "password": "nina-pass-1"}, headers=admin).status_code == 409
    )
    assert (
        client.post(
            "/api/v1/users", json={"name": "boss", "password": "boss-pass-1", "role": "owner"}, headers=admin
        ).status_code
        == 403
    )
    short = client.post("/api/v1/users", json={"name": "z", "password": "short"}, headers=admin)
    assert short.status_code == 422 and "password" in str(short.json())
    assert login(client, "nina", "nina-pass-1").status_code == 303
