"""Login, logout, CSRF, language switch, roles — and no route (core or plugin) reachable without login."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from starlette.routing import Mount

from qunyun.app import QunyunApp
from qunyun.engine.plugins import discover
from qunyun.store.tables import StaffUserRow
from qunyun.web.app import create_app
from qunyun.web.auth import is_api, is_public, safe_next

from .conftest import PASSWORDS, ScorePlugin, build_app, csrf_of, login

PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


def _concrete(path: str) -> str:
    return PARAM.sub(lambda m: "1" if m.group(1).endswith("id") else "x", path)


def all_routes(app: FastAPI) -> list[tuple[str, set[str], Any]]:
    """(path, methods, route) of every route, included routers flattened (FastAPI >= 0.16x nests them)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        return [(r.path, set(getattr(r, "methods", None) or ()), r) for r in app.routes]
    return [(rc.path, set(rc.methods or ()), rc.original_route) for rc in iter_route_contexts(app.routes)]


def test_every_route_requires_login(sqlite_url: str, tmp_path: Path) -> None:
    """Every route of the app — the shell's, the API's and every installed plugin's — turns anonymous
    requests away: pages redirect to /login, the API answers 401. Catches a future page that forgets."""
    qapp = build_app(sqlite_url, tmp_path, plugins=[*discover(), ScorePlugin()])
    app = create_app(qapp)
    checked: list[str] = []
    with TestClient(app) as client:
        for route_path, methods, route in all_routes(app):
            if isinstance(route, Mount):
                assert route_path == "/static", f"unexpected mount {route_path}"
                continue
            path = _concrete(route_path)
            if is_public(path):
                continue
            for method in sorted(methods or {"GET"}):
                if method == "HEAD":
                    continue
                resp = client.request(method, path, follow_redirects=False)
                if is_api(path):
                    assert resp.status_code == 401, f"{method} {route_path} → {resp.status_code}"
                    assert resp.json()["detail"]
                else:
                    assert resp.status_code == 303, f"{method} {route_path} → {resp.status_code}"
                    assert resp.headers["location"].startswith("/login?next="), route_path
                checked.append(f"{method} {route_path}")
    for expected in ("GET /", "GET /members", "POST /outbox/{outbox_id}/retry", "GET /plugin-page",
                     "POST /plugin-page/act", "GET /api/v1/plugin/ping", "POST /api/v1/events",
                     "GET /openapi.json", "GET /api/v1/docs", "GET /users"):
        assert expected in checked
    qapp.close()


def test_public_paths_need_no_login(client: TestClient) -> None:
    client.cookies.clear()
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/login").status_code == 200
    js = client.get("/static/vendor/echarts.min.js")
    assert js.status_code == 200 and "echarts" in js.text[:5000].lower()
    assert client.get("/static/css/qunyun.css").status_code == 200
    for sneaky in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py"):
        resp = client.get(sneaky, follow_redirects=False)
        assert resp.status_code in (303, 400, 404) and "create_app" not in resp.text, sneaky


def test_login_logout_cycle(client: TestClient) -> None:
    anon = client.get("/members?q=a", follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"] == "/login?next=%2Fmembers%3Fq%3Da"
    bad = login(client, "olivia", "wrong-password")
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    assert login(client, "nobody", "whatever-pass").status_code == 401
    ok = login(client, "olivia", next="/members?q=a")
    assert ok.status_code == 303 and ok.headers["location"] == "/members?q=a"
    page = client.get("/")
    assert page.status_code == 200 and "olivia" in page.text
    assert client.get("/login", follow_redirects=False).status_code == 303  # already signed in
    out = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert "已退出登录" in client.get("/login").text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_rotates_the_csrf_token(client: TestClient) -> None:
    before = csrf_of(client.get("/login").text)
    login(client, "olivia")
    after = csrf_of(client.get("/").text)
    assert before != after


def test_no_open_redirect_after_login(client: TestClient) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "\\\\evil", ""):
        assert safe_next(target) == "/"
        resp = login(client, "olivia", next=target)
        assert resp.headers["location"] == "/"
        client.cookies.clear()
    assert safe_next("/groups?x=1") == "/groups?x=1"


def test_csrf_is_checked_on_every_form(client: TestClient) -> None:
    page = client.get("/login")
    no_token = client.post("/login", data={"username": "olivia", "password": PASSWORDS["olivia"]})
    assert no_token.status_code == 403 and "表单已过期" in no_token.text
    form = {"username": "olivia", "password": PASSWORDS["olivia"], "csrf_token": "x" + csrf_of(page.text)}
    wrong = client.post("/login", data=form)
    assert wrong.status_code == 403
    login(client, "olivia")
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    retry = client.post("/outbox/1/retry", data={"csrf_token": "nope"}, follow_redirects=False)
    assert retry.status_code == 403
    create = client.post("/users", data={"name": "x", "password": "12345678", "role": "viewer"})
    assert create.status_code == 403
    # the failed POSTs changed nothing: still signed in, nobody created
    assert "用户名" in client.get("/users").text and ">x<" not in client.get("/users").text


def test_language_switch_sticks_and_is_saved(client: TestClient, sqlite_qapp: QunyunApp) -> None:
    assert '<html lang="zh-CN">' in client.get("/login").text
    login(client, "vera")
    zh = client.get("/")
    assert "每日消息数" in zh.text and "English" in zh.text
    en = client.get("/groups?lang=en")
    assert "Groups" in en.text and "中文" in en.text and '<html lang="en">' in en.text
    assert "Messages per day" in client.get("/").text  # stays in the session
    with sqlite_qapp.db.engine.connect() as conn:
        saved = conn.execute(StaffUserRow.__table__.select().where(StaffUserRow.name == "vera")).one().lang
    assert saved == "en"
    client.cookies.clear()
    login(client, "vera")
    assert "Messages per day" in client.get("/").text  # the next session opens in the saved language
    assert "每日消息数" in client.get("/?lang=zh-CN").text
    assert "每日消息数" in client.get("/?lang=klingon").text  # unknown value: ignored


def test_roles_limit_pages_and_actions(client: TestClient) -> None:
    login(client, "vera")
    home = client.get("/")
    assert 'href="/users"' not in home.text and 'href="/plugin-page"' in home.text
    assert client.get("/users").status_code == 403
    token = csrf_of(home.text)
    denied = client.post("/outbox/1/retry", data={"csrf_token": token}, follow_redirects=False)
    assert denied.status_code == 403 and "operator" in denied.text
    assert 'action="/outbox/1/retry"' not in client.get("/outbox").text
    client.cookies.clear()
    login(client, "opal")
    page = client.get("/outbox")
    assert 'action="/outbox/1/retry"' in page.text
    done = client.post("/outbox/1/retry", data={"csrf_token": csrf_of(page.text), "back": "/outbox"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/outbox"
    assert "已重新排队：#1" in client.get("/outbox").text
    again = client.post("/outbox/1/retry", data={"csrf_token": csrf_of(page.text)})
    assert "不是失败状态" in again.text
    assert client.get("/users").status_code == 403


def test_disabled_user_loses_the_session(client: TestClient, sqlite_qapp: QunyunApp) -> None:
    login(client, "opal")
    assert client.get("/").status_code == 200
    with sqlite_qapp.db.engine.begin() as conn:
        conn.execute(update(StaffUserRow).where(StaffUserRow.name == "opal").values(disabled=True))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_plugin_page_uses_shell_and_auth(client: TestClient) -> None:
    login(client, "vera")
    page = client.get("/plugin-page")
    assert page.status_code == 200 and '<p id="answer">42</p>' in page.text and "群运" in page.text
    assert 'class="active"' in page.text
    denied = client.post("/plugin-page/act", data={"csrf_token": csrf_of(page.text)})
    assert denied.status_code == 403
    client.cookies.clear()
    login(client, "opal")
    page = client.get("/plugin-page")
    assert client.post("/plugin-page/act", data={"csrf_token": csrf_of(page.text)}).json() == {"done": "opal"}
    assert client.post("/plugin-page/act", data={}).status_code == 403
