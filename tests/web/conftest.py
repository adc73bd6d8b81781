"""A small store (imported with the native JSONL importer) and a web app over it (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pytest
from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient
from sqlalchemy import update

from qunyun import staff
from qunyun.actions import Action, ActionKind, Reason
from qunyun.app import QunyunApp, open_app
from qunyun.config import Settings
from qunyun.engine.executor import FAILED, submit_actions
from qunyun.engine.ingest import import_file
from qunyun.engine.plugins import Plugin
from qunyun.staff import create_token, create_user
from qunyun.store.tables import AuditRow, OutboxRow
from qunyun.web.deps import csrf_protect, render, require_role

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
PASSWORDS = {
    "olivia": "owner-pass-1",
    "adam": "admin-pass-1",
    "opal": "operator-pass-1",
    "vera": "viewer-pass-1",
}
ROLES = {"olivia": "owner", "adam": "admin", "opal": "operator", "vera": "viewer"}
GROUPS = [
    ("qq", "1001", "Python 学习一群"),
    ("qq", "1002", "Python 学习二群"),
    ("telegram", "-100777", "Growth hackers"),
]
USERS = [("u1", "小明"), ("u2", "阿花"), ("u3", "Bob"), ("u4", "王老师"), ("u5", "Zed")]


def sample_lines() -> list[str]:
    """~30 days of chat in three groups, joins, one leave, and one malformed line (line 5)."""
    lines: list[str] = []
    n = 0
    for gi, (platform, gid, gname) in enumerate(GROUPS):
        for ui, (uid, uname) in enumerate(USERS[: 3 + gi]):
            n += 1
            lines.append(
                json.dumps(
                    {
                        "platform": platform,
                        "group_id": gid,
                        "group_name": gname,
                        "message_id": f"j{n}",
                        "user_id": uid,
                        "user_name": uname,
                        "type": "join",
                        "text": None,
                        "time": (START + timedelta(minutes=ui)).isoformat(),
                    },
                    ensure_ascii=False,
                )
            )
        for day in range(30):
            for k in range((day * 7 + gi * 3) % 5 + 1):
                n += 1
                uid, uname = USERS[(day + k + gi) % (3 + gi)]
                lines.append(
                    json.dumps(
                        {
                            "platform": platform,
                            "group_id": gid,
                            "group_name": gname,
                            "message_id": f"m{n}",
                            "user_id": uid,
                            "user_name": uname,
                            "type": "message",
                            "text": f"第{day}天 消息{k} <b>hi</b>",
                            "time": (START + timedelta(days=day, hours=k)).isoformat(),
                        },
                        ensure_ascii=False,
                    )
                )
    lines.insert(4, '{"platform": "qq", "group_id": "1001", "message_id": broken')
    n += 1
    lines.append(
        json.dumps(
            {
                "platform": "qq",
                "group_id": "1001",
                "message_id": f"l{n}",
                "user_id": "u3",
                "user_name": "Bob",
                "type": "leave",
                "time": (START + timedelta(days=29, hours=20)).isoformat(),
            }
        )
    )
    return lines


def build_app(
    db_url: str, tmp_path: Path, plugins: list[Plugin] | None = None, dry_run: bool = False
) -> QunyunApp:
    settings = Settings()
    settings.database.url = db_url
    settings.web.secret_key = "test-secret-key"
    settings.engine.dry_run = dry_run
    qapp = open_app(settings=settings, db_url=db_url, plugins=[] if plugins is None else plugins)
    src = tmp_path / "sample.jsonl"
    src.write_text("\n".join(sample_lines()) + "\n", encoding="utf-8")
    summary = import_file(qapp.engine, src)
    assert summary.rejected == 1 and summary.imported > 100
    with qapp.db.engine.begin() as conn:
        for name, password in PASSWORDS.items():
            create_user(conn, name, password, ROLES[name], lang="zh-CN")
        actions = [
            Action(
                kind=ActionKind.MUTE,
                platform="qq",
                group_id="1001",
                user_id="u2",
                params={"seconds": 600},
                source="test.rules",
                reason=Reason(zh="刷屏", en="Flooding", evidence={"messages": 9}),
            ),
            Action(
                kind=ActionKind.SEND_MESSAGE,
                platform="qq",
                group_id="1002",
                text="欢迎新同学",
                source="test.welcome",
                reason=Reason(zh="新人欢迎", en="Welcome newcomer"),
            ),
        ]
        ids = submit_actions(conn, actions, dry_run=False)
        conn.execute(
            update(OutboxRow.__table__)
            .where(OutboxRow.__table__.c.id == ids[0])
            .values(status=FAILED, attempts=5, last_error="group 1001: bot is not an admin")
        )
        conn.execute(update(AuditRow.__table__).where(AuditRow.__table__.c.outbox_id == ids[0]).values(status=FAILED))
    return qapp


def token_for(qapp: QunyunApp, name: str) -> str:
    from sqlalchemy import select

    from qunyun.store.tables import StaffUserRow

    with qapp.db.engine.begin() as conn:
        uid = conn.execute(select(StaffUserRow.id).where(StaffUserRow.name == name)).scalar_one()
        return create_token(conn, uid, "test")


@pytest.fixture(autouse=True, scope="session")
def cheap_argon2() -> Iterator[None]:
    """Real argon2, test-sized cost: the default (64 MiB, 3 passes) takes ~0.5 s a hash on a busy box."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(staff, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def login(client: TestClient, name: str, password: str | None = None, **extra: Any) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": name,
            "password": password or PASSWORDS[name],
            "csrf_token": csrf_of(page.text),
            **extra,
        },
        follow_redirects=False,
    )


Operator = Annotated[dict[str, Any], Depends(require_role("operator"))]


class ScorePlugin:
    """A third-party-style plugin: a page, an API route, a nav entry, a template dir, a member enricher."""

    name = "webtest"

    def setup(self, registry: Any) -> None:
        pages = APIRouter()

        @pages.get("/plugin-page")
        def plugin_page(request: Request) -> Any:
            return render(request, "plugin_page.html", {"answer": 42})

        @pages.post("/plugin-page/act", dependencies=[Depends(csrf_protect)])
        def plugin_act(request: Request, user: Operator) -> dict[str, str]:
            return {"done": user["name"]}

        api = APIRouter()

        @api.get("/plugin/ping")
        def ping() -> dict[str, str]:
            return {"pong": "ok"}

        def enrich(conn: Any, ref: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{**r, "score": r["messages"] * 2, "reason": "活跃"} for r in rows]

        registry.add_web_router(pages)
        registry.add_api_router(api)
        registry.add_nav("nav.plugin_test", "/plugin-page", order=50)
        registry.add_template_dir(Path(__file__).parent / "plugin_templates")
        registry.add_member_enricher(enrich)


def _backend_url(kind: str, tmp: Path) -> Iterator[str]:
    from tests.conftest import _pg_database

    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'web.db'}"
    else:
        yield from _pg_database()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_qapp(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QunyunApp]:
    """One read-only store per backend for the whole module (tests that write use ``qapp``)."""
    tmp = tmp_path_factory.mktemp("web")
    for url in _backend_url(request.param, tmp):
        app_ = build_app(url, tmp, plugins=[ScorePlugin()])
        try:
            yield app_
        finally:
            app_.close()


@pytest.fixture(scope="module")
def shared_client(shared_qapp: QunyunApp) -> Iterator[TestClient]:
    """Signed in as the owner."""
    from qunyun.web.app import create_app

    with TestClient(create_app(shared_qapp)) as c:
        assert login(c, "olivia").status_code == 303
        yield c


@pytest.fixture
def qapp(db_url: str, tmp_path: Path) -> Iterator[QunyunApp]:
    app_ = build_app(db_url, tmp_path)
    yield app_
    app_.close()


@pytest.fixture
def sqlite_qapp(sqlite_url: str, tmp_path: Path) -> Iterator[QunyunApp]:
    app_ = build_app(sqlite_url, tmp_path, plugins=[ScorePlugin()])
    yield app_
    app_.close()


@pytest.fixture
def client(sqlite_qapp: QunyunApp) -> Iterator[TestClient]:
    from qunyun.web.app import create_app

    with TestClient(create_app(sqlite_qapp)) as c:
        yield c
