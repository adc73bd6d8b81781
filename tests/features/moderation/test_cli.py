from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from qunyun.features.moderation.cli import app

runner = CliRunner()


def test_check_json() -> None:
    result = runner.invoke(app, ["check", "加微信 abc123 兼职日结", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"label", "score", "reasons"}
    assert data["label"] == "spam" and 0 <= data["score"] <= 1 and isinstance(data["reasons"], list)


def test_classify_roundtrip_multiline_bom(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    rows = [
        ["1", "hello\nworld, how are you?", "ham"],
        ["2", '加微信 abc123\n兼职日结 "高薪"', "spam"],
        ["3", "", "ham"],
        ["4", "see https://help.ubuntu.com/community/SwapFaq", "ham"],
    ]
    with src.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label"])
        w.writerows(rows)
    out = tmp_path / "out.csv"
    args = [
        "classify",
        "--input",
        str(src),
        "--text-column",
        "text",
        "--output",
        str(out),
        "--chunk-size",
        "2",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as fh:
        got = list(csv.DictReader(fh))
    assert [r["id"] for r in got] == ["1", "2", "3", "4"]
    assert got[0]["text"] == rows[0][1] and got[1]["text"] == rows[1][1]
    assert [r["input_label"] for r in got] == [r[2] for r in rows]
    assert [r["label"] for r in got] == ["ham", "spam", "ham", "ham"]
    assert all(0 <= float(r["score"]) <= 1 for r in got)
    assert "contact:wechat" in got[1]["reasons"].split(";")


def test_classify_missing_column(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,message\n1,hi\n", encoding="utf-8")
    args = ["classify", "--input", str(src), "--text-column", "text", "--output", str(tmp_path / "o.csv")]
    result = runner.invoke(app, args, env={"QUNYUN_LANG": "en"})
    assert result.exit_code == 2
    assert "text" in result.output and "id, message" in result.output


def _classified(tmp_path: Path, data: bytes, *extra: str) -> tuple[int, str, list[dict[str, str]]]:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(data)
    args = ["classify", "--input", str(src), "--output", str(out), "--no-progress", *extra]
    result = runner.invoke(app, args, env={"QUNYUN_LANG": "en"})
    if result.exit_code != 0:
        return result.exit_code, result.output, []
    with out.open(encoding="utf-8", newline="") as fh:
        return result.exit_code, result.output, list(csv.DictReader(fh))


def test_classify_reads_chinese_excel_exports_and_reports_undecodable_rows(tmp_path: Path) -> None:
    text = "id,text\n1,加微信abc12345领取兼职日结\n2,今天天气不错，晚上一起吃饭吧\n"
    # GBK (a Chinese Excel/WPS export) is detected, said, and read correctly
    code, output, rows = _classified(tmp_path, text.encode("gbk"))
    assert code == 0 and "gb18030" in output
    assert [r["text"] for r in rows] == ["加微信abc12345领取兼职日结", "今天天气不错，晚上一起吃饭吧"]
    assert [r["label"] for r in rows] == ["spam", "ham"]
    # UTF-16 with its BOM, and an explicit --encoding
    assert [r["label"] for r in _classified(tmp_path, text.encode("utf-16"))[2]] == ["spam", "ham"]
    assert [r["label"] for r in _classified(tmp_path, text.encode("gbk"), "--encoding", "gbk")[2]] == ["spam", "ham"]
    # UTF-8 with one stray byte: still UTF-8 (not garbled as GB18030), the bad row is named
    stray = text.encode("utf-8").replace(b"2,", b"2,\xff\xfe ")
    code, output, rows = _classified(tmp_path, stray)
    assert code == 0 and rows[0]["text"] == "加微信abc12345领取兼职日结" and rows[0]["label"] == "spam"
    assert "cannot decode" in output and "data rows: 2" in output
    code, output, _ = _classified(tmp_path, text.encode("utf-8"), "--encoding", "klingon")
    assert code == 2 and "klingon" in output


def test_train_and_eval_json(tmp_path: Path) -> None:
    fb = tmp_path / "fb.csv"
    fb.write_text("text,label\n老地方见,ham\n", encoding="utf-8")
    result = runner.invoke(app, ["train", "--feedback", str(fb), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["feedback_rows"] == 1 and Path(data["path"]).is_file()
    result = runner.invoke(app, ["eval", "--json"])
    assert result.exit_code == 0, result.output
    sets = json.loads(result.stdout)["sets"]
    assert set(sets) == {"zh_qq", "en_sms", "tg"}
    assert all(0 <= s["rules+model"]["f1"] <= 1 for s in sets.values())


def test_train_missing_data(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--data", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert str(tmp_path / "none") in result.output


def test_mounted_in_main_cli() -> None:
    from qunyun.engine.plugins import build_registry

    names = [name for name, _, _ in build_registry().cli_apps]
    assert "spam" in names


def test_classify_finds_a_text_column_that_differs_only_in_case(tmp_path: Path) -> None:
    code, output, rows = _classified(tmp_path, "id,Text \n1,加微信abc12345领取兼职日结\n".encode())
    assert code == 0 and "Text" in output and rows[0]["label"] == "spam"
    code, output, _ = _classified(tmp_path, b"id,TEXT,text \n1,a,b\n")
    assert code == 2 and "TEXT" in output  # two candidates: an error naming the columns
