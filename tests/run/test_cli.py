"""``qunyun connections`` and ``qunyun run``'s refusals, through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qunyun.actions import Action, ActionKind, Reason
from qunyun.cli.main import app
from qunyun.engine.executor import submit_actions
from qunyun.run.status import write_status
from qunyun.store.db import Database

runner = CliRunner()


def test_connections_json_and_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    db = Database(url)
    db.migrate()
    with db.engine.begin() as conn:
        write_status(
            conn,
            {
                "connection:qq:main": {
                    "platform": "qq",
                    "account": "main",
                    "state": "connected",
                    "last_event_at": None,
                    "lag_seconds": 1.25,
                    "detail": None,
                }
            },
        )
        submit_actions(
            conn,
            [
                Action(
                    kind=ActionKind.SEND_MESSAGE,
                    platform="qq",
                    group_id="1",
                    text="hi",
                    reason=Reason(zh="测", en="t"),
                    source="test",
                )
            ],
            dry_run=False,
        )
    db.dispose()
    result = runner.invoke(app, ["--db", url, "connections", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["accounts"][0]["account"] == "main" and data["outbox"]["counts"] == {"pending": 1}
    table = runner.invoke(app, ["--db", url, "--lang", "en", "connections"])
    assert table.exit_code == 0 and "qq:main" in table.stdout and "1.2" in table.stdout and "pending 1" in table.stdout


def test_run_refuses_without_accounts_or_with_a_bad_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["--db", url, "--config", str(empty), "--lang", "en", "run"])
    assert result.exit_code == 2 and "No [[accounts]]" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[[accounts]]\nname = "x"\nprotocol = "onebot"\nmode = "ws"\n', encoding="utf-8")
    result = runner.invoke(app, ["--db", url, "--config", str(bad), "--lang", "en", "run"])
    assert result.exit_code == 2 and "accounts[0] (x)" in result.output and "needs url" in result.output
