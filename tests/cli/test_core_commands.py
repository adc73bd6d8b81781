"""The CLI contracts of the foundation: import summary JSON, members, groups, users, dead letters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qunyun.cli.main import app

runner = CliRunner()


def run(db: str, *args: str) -> object:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


LINES = [
    '{"platform": "qq", "group_id": "123", "group_name": "一群", "message_id": "m1", "user_id": "42",'
    ' "user_name": "张三", "type": "message", "text": "大家好", "time": "2024-05-01T12:00:00Z"}',
    '{"platform": "qq", "group_id": "123", "message_id": "m2", "user_id": "43", "type": "message",'
    ' "text": "你好", "time": "2024-05-01T12:01:00+08:00", "reply_to": "m1", "mentions": ["42"]}',
    "{broken",
    '{"platform": "qq", "group_id": "123", "message_id": "j1", "user_id": "44", "type": "join", "text": null,'
    ' "time": "2024-05-01T12:02:00Z"}',
    "",
    '{"platform": "qq", "group_id": "123", "message_id": "m3", "user_id": "42", "time": "yesterday"}',
]


def test_import_twice_reports_line_numbers_and_is_idempotent(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    src = tmp_path / "events.jsonl"
    src.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    first = run(db, "import", str(src), "--json")
    assert first["imported"] == 3 and first["duplicates"] == 0 and first["rejected"] == 2  # type: ignore[index]
    assert [e["line"] for e in first["errors"]] == [3, 6]  # type: ignore[index]
    assert "time" in first["errors"][1]["reason"]  # type: ignore[index]
    second = run(db, "import", str(src), "--json", "--format", "events")
    assert second == {"imported": 0, "duplicates": 3, "rejected": 2, "errors": first["errors"]}  # type: ignore[index]

    members = run(db, "members", "--group", "123", "--json")
    assert isinstance(members, list)
    by_id = {m["user_id"]: m for m in members}
    assert set(by_id) == {"42", "43", "44"}
    for key in ("user_id", "user_name", "messages", "first_seen", "last_seen"):
        assert key in by_id["42"]
    assert by_id["42"]["messages"] == 1 and by_id["42"]["user_name"] == "张三"
    groups = run(db, "groups", "--json")
    assert groups[0]["name"] == "一群" and groups[0]["members"] == 3  # type: ignore[index]
    dead = run(db, "dead-letter", "--json")
    assert dead["total"] == 4 and dead["entries"][0]["raw"]  # type: ignore[index]


def test_unknown_group_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    result = runner.invoke(app, ["--db", db, "--lang", "en", "members", "--group", "nope", "--json"])
    assert result.exit_code == 2 and "Group not found: nope" in result.output
    result = runner.invoke(app, ["--db", db, "--lang", "en", "import", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and "File not found" in result.output
    odd = tmp_path / "odd.bin"
    odd.write_bytes(b"\x00\x01 nothing we know")
    result = runner.invoke(app, ["--db", db, "import", str(odd), "--json"])
    assert result.exit_code == 2 and "--format" in result.output


def test_user_add_and_token(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    created = run(db, "user", "add", "ops", "--role", "operator", "--json")
    assert created["role"] == "operator" and len(created["password"]) >= 12  # type: ignore[index]
    result = runner.invoke(app, ["--db", db, "--lang", "en", "user", "add", "ops", "--role", "viewer"])
    assert result.exit_code == 2 and "already exists" in result.output
    result = runner.invoke(app, ["--db", db, "user", "add", "x", "--role", "god"])
    assert result.exit_code == 2
    token = run(db, "user", "token", "ops", "--json")
    assert token["token"].startswith("qy_")  # type: ignore[index]


@pytest.mark.slow
def test_shared_irc_log_imports_twice_with_same_counts(tmp_path: Path, shared_dir: Path) -> None:
    db = f"sqlite:///{tmp_path / 'irc.db'}"
    path = shared_dir / "chat" / "ubuntu_irc_train.jsonl.gz"
    first = run(db, "import", str(path), "--json")
    assert first == {"imported": 220463, "duplicates": 0, "rejected": 0, "errors": []}
    second = run(db, "import", str(path), "--json")
    assert second == {"imported": 0, "duplicates": 220463, "rejected": 0, "errors": []}
    members = run(db, "members", "--group", "ubuntu", "--json")
    assert len(members) == 24359  # type: ignore[arg-type]
    assert sum(m["messages"] for m in members) == 197326  # type: ignore[union-attr]
