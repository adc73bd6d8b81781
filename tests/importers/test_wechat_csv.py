from __future__ import annotations

import io
from pathlib import Path

import pytest

from qunyun.app import QunyunApp
from qunyun.engine.ingest import ImportFormatError
from qunyun.events import Event, EventType, SegmentType
from qunyun.importers.base import ImporterError, Rejected
from qunyun.importers.wechat_csv import WeChatCsvImporter
from tests.importers.conftest import run_import

MEMOTRACE = '''\ufefflocalId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender
1,5,1,0,0,1714536000,2,大家好,2024-05-01 12:00:00,老王,王,wxid_a
2,5,10000,0,0,1714536060,2,"""小明""邀请""小红、小刚""加入了群聊",2024-05-01 12:01:00,,,
3,5,3,0,1,1714536070,2,<img/>,2024-05-01 12:01:10,我,我,wxid_me
4,5,1,0,0,abc,2,bad,,x,x,wxid_b
5,5,1
6,5,1,0,0,1714536090,2,"多行
消息",2024-05-01 12:01:30,老王,王,wxid_a
'''
PYWXDUMP = """id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime
1,777,文本,0,wxid_a,123@chatroom,hello,,2024-05-01 12:00:00
2,778,文本,1,我,123@chatroom,yo,,2024-05-01 12:00:01
3,779,图片,0,wxid_b,123@chatroom,图片,FileStorage/a.dat,2024-05-01 12:00:02
"""
IOS = """时刻,消息类型,消息方向,ID,微信号,昵称,显示名称,内容
2024-05-01 12:00:00,文本,接收,wxid_a,aa,Ann,Annie,hi
2024-05-01 12:00:00,文本,接收,wxid_a,aa,Ann,Annie,hi
"""
ANDROID = """用户名,消息内容,发送时间,发送状态,消息类型,isSend,msgId
wxid_a,hello,2024-05-01 12:00:00,2,1,0,55
"""


def read(data: str, source: str = "/x/运营群_utf8.csv", **opts: str) -> list[Event | Rejected]:
    imp = WeChatCsvImporter().with_options(**opts) if opts else WeChatCsvImporter()
    return list(imp.read(io.BufferedReader(io.BytesIO(data.encode("utf-8"))), source=source))  # type: ignore[arg-type]


def test_memotrace_layout() -> None:
    recs = read(MEMOTRACE)
    rejected = [(r.line, r.reason) for r in recs if isinstance(r, Rejected)]
    assert rejected == [(5, "unrecognised time 'abc'"), (6, "expected 12 columns (memotrace), got 3")]
    events = [r for r in recs if isinstance(r, Event)]
    assert events[0].group_id == "运营群" and events[0].user_name == "老王"
    assert events[0].time.isoformat() == "2024-05-01T04:00:00+00:00"
    joins = [e for e in events if e.type is EventType.JOIN]
    assert [(j.user_id, j.raw["inviter"]) for j in joins] == [("name:小红", "小明"), ("name:小刚", "小明")]
    assert events[3].segments[0].type is SegmentType.IMAGE
    assert events[-1].text == "多行\n消息"


def test_pywxdump_layout_uses_room_and_server_ids() -> None:
    recs = read(PYWXDUMP, source="/x/whatever.csv", me="wxid_me")
    events = [r for r in recs if isinstance(r, Event)]
    assert [(e.group_id, e.message_id, e.user_id) for e in events] == [
        ("123@chatroom", "777", "wxid_a"),
        ("123@chatroom", "778", "wxid_me"),
        ("123@chatroom", "779", "wxid_b"),
    ]
    assert events[2].segments[0].type is SegmentType.IMAGE and events[2].raw["src"] == "FileStorage/a.dat"


def test_ios_and_android_layouts() -> None:
    ios = [r for r in read(IOS, source="/x/群.csv", group="g@chatroom") if isinstance(r, Event)]
    assert len(ios) == 2 and ios[0].message_id != ios[1].message_id and ios[0].user_name == "Annie"
    android = [r for r in read(ANDROID) if isinstance(r, Event)]
    assert android[0].message_id == "55"


def test_unknown_layout_and_options() -> None:
    with pytest.raises(ImporterError, match="unknown column layout"):
        read("a,b,c\n1,2,3\n")
    with pytest.raises(ImporterError, match="unknown encoding"):
        WeChatCsvImporter().with_options(encoding="klingon")
    assert WeChatCsvImporter().sniff(Path("x.csv"), PYWXDUMP.encode())
    assert not WeChatCsvImporter().sniff(Path("x.csv"), b"a,b,c\n")


def test_import_idempotent_and_unknown_layout_is_a_format_error(qapp: QunyunApp, tmp_path: Path) -> None:
    path = tmp_path / "运营群_utf8.csv"
    path.write_text(MEMOTRACE, encoding="utf-8")
    first = run_import(qapp, path)
    assert (first.imported, first.rejected) == (5, 2)
    again = run_import(qapp, path, fmt="wechat-csv")
    assert (again.imported, again.duplicates) == (0, 5)
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ImportFormatError, match="unknown column layout"):
        run_import(qapp, bad, fmt="wechat-csv")
