from __future__ import annotations

import io
from pathlib import Path

from qunyun.app import QunyunApp
from qunyun.events import Event, EventType
from qunyun.importers.base import Rejected
from qunyun.importers.qq_txt import QQTxtImporter
from tests.importers.conftest import run_import

EXPORT = """消息记录（此消息记录为文本格式，不支持重新导入）

================================================================
消息分组:我的QQ群
================================================================
消息对象:运营交流群
================================================================

2024-05-01 12:00:00 小明(123456)
大家好
第二行

2024-05-01 12:00:00 小明(123456)
大家好
第二行

2024-13-01 12:00:05 坏时间(1234567)
这条的正文也留在拒绝记录里

2024-05-01 12:00:05 邮箱用户<a@b.com>
[图片]

2024-05-01 12:00:09 系统消息(10000)
小红加入本群。

================================================================
消息分组:我的QQ群
================================================================
消息对象:第二个群(987654321)
================================================================

2016-03-21 9:37:31 PM 老王(888888)
晚上好
"""


def read(data: bytes, **opts: str) -> list[Event | Rejected]:
    imp = QQTxtImporter().with_options(**opts) if opts else QQTxtImporter()
    return list(imp.read(io.BytesIO(data), source="/x/qq.txt"))


def test_sections_messages_and_bad_header() -> None:
    recs = read(EXPORT.encode("utf-8-sig"))
    events = [r for r in recs if isinstance(r, Event)]
    rejected = [r for r in recs if isinstance(r, Rejected)]
    assert len(rejected) == 1 and rejected[0].line == 17 and "invalid date/time" in rejected[0].reason
    assert rejected[0].raw is not None and "正文也留在" in rejected[0].raw
    a, b = events[0], events[1]
    assert (a.group_id, a.user_id, a.user_name, a.text) == ("运营交流群", "123456", "小明", "大家好\n第二行")
    assert a.time.isoformat() == "2024-05-01T04:00:00+00:00"  # Asia/Shanghai by default
    assert a.message_id != b.message_id and b.message_id.endswith("#2")
    assert events[2].user_id == "a@b.com" and any(s.type == "image" for s in events[2].segments)
    assert events[3].type is EventType.SYSTEM
    last = events[-1]
    assert (last.group_id, last.group_name) == (
        "987654321",
        "第二个群",
    ) and last.time.isoformat() == "2016-03-21T13:37:31+00:00"


def test_encodings_and_options() -> None:
    for enc in ("utf-16", "gb18030"):
        recs = read(EXPORT.encode(enc), group="999", tz="UTC")
        events = [r for r in recs if isinstance(r, Event)]
        assert len(events) == 5 and {e.group_id for e in events} == {"999"}
        assert events[0].time.isoformat() == "2024-05-01T12:00:00+00:00"


def test_sniff() -> None:
    assert QQTxtImporter().sniff(Path("a.txt"), EXPORT.encode())
    assert not QQTxtImporter().sniff(Path("a.txt"), b"[10:00] <a> hi\n")


def test_import_idempotent(qapp: QunyunApp, tmp_path: Path) -> None:
    path = tmp_path / "qq.txt"
    path.write_text(EXPORT, encoding="utf-8")
    first = run_import(qapp, path)
    assert (first.imported, first.rejected, first.errors[0]["line"]) == (5, 1, 17)
    again = run_import(qapp, path)
    assert (again.imported, again.duplicates) == (0, 5)
