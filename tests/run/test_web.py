"""The /connections page and GET /api/v1/connections (as the dashboard serves them)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from qunyun.events import utcnow
from qunyun.run.plugin import RunPlugin
from qunyun.run.status import write_status
from qunyun.web.app import create_app
from tests.web.conftest import build_app, login, token_for


def _seed(qapp, stale: bool = False) -> None:  # type: ignore[no-untyped-def]
    now = utcnow() - (timedelta(minutes=5) if stale else timedelta(0))
    with qapp.db.engine.begin() as conn:
        write_status(
            conn,
            {
                "connection:qq:qq-main": {
                    "platform": "qq",
                    "account": "qq-main",
                    "state": "connected",
                    "last_event_at": now,
                    "lag_seconds": 0.4,
                    "detail": None,
                    "protocol": "onebot",
                    "mode": "ws",
                },
                "connection:qq:qq-2": {
                    "platform": "qq",
                    "account": "qq-2",
                    "state": "disconnected",
                    "last_event_at": None,
                    "lag_seconds": None,
                    "detail": "ConnectionRefusedError: [Errno 111]",
                },
                "bot:process": {
                    "pid": 1,
                    "state": "running",
                    "started_at": now,
                    "ingest": {
                        "received": 10,
                        "stored": 9,
                        "duplicates": 1,
                        "meta": 0,
                        "dead": 0,
                        "batches": 2,
                        "actions": 0,
                        "confirmed": 0,
                    },
                },
            },
            now=now,
        )


def test_connections_api_and_page(db_url: str, tmp_path: Path) -> None:
    qapp = build_app(db_url, tmp_path, plugins=[RunPlugin()])
    _seed(qapp)
    client = TestClient(create_app(qapp))
    assert client.get("/api/v1/connections").status_code == 401
    token = token_for(qapp, "vera")
    data = client.get("/api/v1/connections", headers={"Authorization": f"Bearer {token}"}).json()
    accounts = {a["account"]: a for a in data["accounts"]}
    assert accounts["qq-main"]["state"] == "connected" and accounts["qq-main"]["lag_seconds"] == 0.4
    assert not accounts["qq-main"]["stale"] and "111" in accounts["qq-2"]["detail"]
    assert data["process"]["ingest"]["stored"] == 9
    assert data["outbox"]["counts"]["failed"] == 1
    assert data["outbox"]["problems"][0]["error"] == "group 1001: bot is not an admin"
    login(client, "vera")
    page = client.get("/connections")
    assert page.status_code == 200
    assert "qq:qq-main" in page.text and "已连接" in page.text and "ConnectionRefusedError" in page.text
    assert "group 1001: bot is not an admin" in page.text and 'href="/outbox"' in page.text
    assert 'href="/connections"' in page.text  # nav entry
    en = client.get("/connections?lang=en")
    assert "Platform connections" in en.text and "connected" in en.text
    qapp.close()


def test_stale_status_is_flagged(sqlite_url: str, tmp_path: Path) -> None:
    qapp = build_app(sqlite_url, tmp_path, plugins=[RunPlugin()])
    _seed(qapp, stale=True)
    token = token_for(qapp, "vera")
    client = TestClient(create_app(qapp))
    data = client.get("/api/v1/connections", headers={"Authorization": f"Bearer {token}"}).json()
    assert all(a["stale"] for a in data["accounts"]) and data["process"]["stale"]
    qapp.close()
