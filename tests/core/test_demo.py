"""The demo community is deterministic, has the promised shape, and its admin can log in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from qunyun.app import open_app
from qunyun.demo import GROUPS, build_demo, generate
from qunyun.staff import authenticate
from qunyun.store.queries import list_groups


def test_same_seed_same_events() -> None:
    a = [(e.group_id, e.message_id, e.user_id, e.text, e.time) for e in generate(3, 0.02, date(2025, 1, 31))]
    b = [(e.group_id, e.message_id, e.user_id, e.text, e.time) for e in generate(3, 0.02, date(2025, 1, 31))]
    assert a == b and len(a) > 2000
    kinds = {e.type.value for e in generate(3, 0.02, date(2025, 1, 31))}
    assert {"message", "join", "leave"} <= kinds


def test_build_demo_shape_and_login(tmp_path: Path) -> None:
    app = open_app(db_url=f"sqlite:///{tmp_path / 'demo.db'}", plugins=[])
    result = build_demo(app, seed=5, scale=0.02, password="pw-123456", end=date(2025, 1, 31))
    assert result["groups"] == len(GROUPS) and result["messages"] > 2000
    with app.db.engine.connect() as conn:
        groups = {g["group_id"]: g for g in list_groups(conn)}
    assert groups["610001"]["tier"] == "一群" and groups["610003"]["tier"] == "留级群"
    assert groups["620001"]["type"] == "learning" and groups["630001"]["type"] == "conversion"
    assert {g["platform"] for g in groups.values()} == {"qq", "telegram", "wecom"}
    with app.db.engine.connect() as conn:
        assert authenticate(conn, "admin", "pw-123456")
    again = build_demo(app, seed=5, scale=0.02, password="pw-2", end=date(2025, 1, 31))
    assert again["imported"] == 0 and again["messages"] == result["messages"]
    with app.db.engine.connect() as conn:
        assert authenticate(conn, "admin", "pw-2") and not authenticate(conn, "admin", "pw-123456")
    app.close()
