"""Dashboard pages and REST endpoints of members and tiers, through the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from qunyun.features.members.plugin import MembersPlugin
from qunyun.features.tiers.config import ChainSpec, TierSpec
from qunyun.features.tiers.plugin import TiersPlugin
from qunyun.features.tiers.review import save_chain
from qunyun.web.app import create_app
from tests.web.conftest import build_app, csrf_of, login


def test_pages_and_api(db_url: str, tmp_path: Path) -> None:
    qapp = build_app(db_url, tmp_path, plugins=[MembersPlugin(), TiersPlugin()])
    with qapp.db.engine.begin() as conn:
        save_chain(
            conn,
            "main",
            ChainSpec(
                tiers=[TierSpec(group="qq:1001", name="一群"), TierSpec(group="qq:1002", name="二群")],
                move_up=1,
                move_down=1,
                min_tenure_days=0,
            ),
        )
    try:
        with TestClient(create_app(qapp)) as client:
            assert login(client, "opal").status_code == 303
            page = client.get("/leaderboard", params={"group": "qq:1001", "period": "month"})
            assert page.status_code == 200 and "话痨榜" in page.text and "小明" in page.text
            assert "潜水者" in page.text or "普通成员" in page.text  # role distribution
            members = client.get("/members", params={"group": "qq:1001"})
            assert members.status_code == 200 and "score" in members.text
            api = client.get("/api/v1/leaderboard", params={"group": "qq:1001", "period": "month"}).json()
            assert api["rows"][0]["rank"] == 1 and api["rows"][0]["value"] > 0
            roles = client.get("/api/v1/groups/qq/1001/roles").json()
            assert sum(roles["roles"].values()) == roles["members"] > 0
            assert client.get("/api/v1/leaderboard", params={"board": "nope"}).status_code == 422

            prof = client.get("/profiles/qq/u1")
            assert prof.status_code == 200 and "小明" in prof.text
            saved = client.post(
                "/profiles/qq/u1",
                data={"csrf_token": csrf_of(prof.text), "region": "杭州", "tags": "vip, 讲师"},
                follow_redirects=False,
            )
            assert saved.status_code == 303
            got = client.get("/api/v1/profiles/qq/u1").json()
            assert got["region"] == "杭州" and got["tags"] == ["vip", "讲师"]
            assert client.get("/profiles/qq/nobody").status_code == 404

            tiers = client.get("/tiers")
            assert tiers.status_code == 200 and "一群" in tiers.text
            bad = client.post(
                "/tiers/chains",
                data={"csrf_token": csrf_of(tiers.text), "name": "x", "groups": "qq:1001, telegram:-100777"},
            )
            assert bad.status_code == 200 and "one platform" in bad.text  # shown back, nothing saved
            client.post(
                "/tiers/chains",
                data={
                    "csrf_token": csrf_of(tiers.text),
                    "name": "web",
                    "groups": "qq:1001, qq:1002",
                    "move_up": "2",
                },
            )
            chains = {c["name"]: c for c in client.get("/api/v1/tiers/chains").json()}
            assert chains["web"]["move_up"] == 2 and chains["web"]["source"] == "database"
            made = client.post(
                "/tiers/chains/main/plan", data={"csrf_token": csrf_of(tiers.text)}, follow_redirects=False
            )
            assert made.status_code == 303
            plan_url = made.headers["location"]
            plan_id = int(plan_url.rsplit("/", 1)[1])
            plan = client.get(f"/api/v1/tiers/plans/{plan_id}").json()
            assert plan["status"] == "draft" and plan["moves"]
            page = client.get(plan_url)
            move = plan["moves"][0]["id"]
            client.post(f"/tiers/plans/{plan_id}/moves/{move}/drop", data={"csrf_token": csrf_of(page.text)})
            assert client.get(f"/api/v1/tiers/plans/{plan_id}").json()["moves"][0]["dropped"] is True
            client.post(f"/tiers/plans/{plan_id}/approve", data={"csrf_token": csrf_of(page.text)})
            assert client.get(f"/api/v1/tiers/plans/{plan_id}").json()["status"] == "applied"
        with TestClient(create_app(qapp)) as viewer:
            login(viewer, "vera")
            assert viewer.get("/tiers").status_code == 403
            assert viewer.get("/leaderboard").status_code == 200
    finally:
        qapp.close()
