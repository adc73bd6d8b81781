"""``qunyun import`` with the chat-export formats: auto-detection, --option, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qunyun.cli.main import app

runner = CliRunner()


def invoke(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db, "import", *args])
    return result.exit_code, result.stdout, result.stderr


def test_irc_log_needs_a_date_then_imports(tmp_path: Path, shared_dir: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    log = tmp_path / "ubuntu.log"
    log.write_bytes((shared_dir / "chat" / "ubuntu_irc_raw_sample.txt").read_bytes())
    code, _, err = invoke(db, str(log), "--json")
    assert code == 2 and "--option date=YYYY-MM-DD" in err
    code, _, err = invoke(db, str(log), "-o", "date", "--json")
    assert code == 2 and "KEY=VALUE" in err
    code, _, err = invoke(db, str(log), "-o", "colour=red", "--json")
    assert code == 2 and "unknown option(s) colour" in err
    code, out, _ = invoke(db, str(log), "-o", "date=2004-12-25", "-o", "channel=ubuntu", "--json")
    assert code == 0 and json.loads(out.splitlines()[-1]) == {
        "imported": 300,
        "duplicates": 0,
        "rejected": 0,
        "errors": [],
    }


def test_telegram_export_auto_detected(tmp_path: Path, shared_dir: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    code, out, _ = invoke(db, str(shared_dir / "exports" / "telegram_result_sample.json"), "--json")
    assert code == 0 and json.loads(out.splitlines()[-1])["imported"] == 256
    code, _, err = invoke(db, str(shared_dir / "exports" / "telegram_result_sample.json"), "-f", "onebot", "-o", "x=1")
    assert code == 2 and "takes no options" in err
