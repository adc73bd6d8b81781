"""WeChat chat exports as CSV, in the column layouts of the popular open-source exporters.

Supported layouts (recognised by their header row):

``memotrace`` — WeChatMsg / MemoTrace (留痕), ``<备注>_utf8.csv``:
    ``localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender``
    (``CreateTime`` unix seconds, ``Sender`` the wxid). No group id in the file: the file name
    (without ``_utf8``) is used unless ``--option group=<xxx@chatroom>``.
``memotrace-android`` — early WeChatMsg (Android database):
    ``用户名,消息内容,发送时间,发送状态,消息类型,isSend,msgId``
``pywxdump`` — PyWxDump ``export_csv``:
    ``id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime``
    (``room_name`` is the chat id ``…@chatroom``, ``MsgSvrID`` the server message id; ``talker`` is
    ``我`` for your own messages: ``--option me=<your wxid>`` replaces it).
``wechat-exporter`` — 12425/wechat-exporter (iOS backups):
    ``时刻,消息类型,消息方向,ID,微信号,昵称,显示名称,内容``

Times without a zone are local to the exporting PC: ``--option tz=`` (default Asia/Shanghai).
Message ids: the server id where the layout has one, else derived from local id/time/sender/text.
System lines (type 10000, 系统消息) like ``"A"邀请"B"加入了群聊`` become joins of ``name:B``.
``line`` in errors is the physical line of the CSV (quoted fields may span lines).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, BinaryIO

from qunyun.events import Event, EventType, Segment, SegmentType
from qunyun.importers.base import ImporterError, KnownMembers, Record, Rejected
from qunyun.importers.common import (
    CHINA_TZ,
    Occurrences,
    check_options,
    parse_time,
    parse_tz,
    reason_of,
    sniff_encoding,
    source_stem,
    stable_id,
)

LAYOUTS: dict[str, tuple[str, ...]] = {
    "memotrace": (
        "localId",
        "TalkerId",
        "Type",
        "SubType",
        "IsSender",
        "CreateTime",
        "Status",
        "StrContent",
        "StrTime",
        "Remark",
        "NickName",
        "Sender",
    ),
    "memotrace-android": ("用户名", "消息内容", "发送时间", "发送状态", "消息类型", "isSend", "msgId"),
    "pywxdump": (
        "id",
        "MsgSvrID",
        "type_name",
        "is_sender",
        "talker",
        "room_name",
        "msg",
        "src",
        "CreateTime",
    ),
    "wechat-exporter": ("时刻", "消息类型", "消息方向", "ID", "微信号", "昵称", "显示名称", "内容"),
}
_INVITE = re.compile(r'^"?(?P<inviter>[^"]+)"?\s*邀请\s*"?(?P<who>.+?)"?\s*加入了群聊')
_SCAN = re.compile(r'^"?(?P<who>[^"]+)"?\s*通过扫描\s*"?(?P<inviter>[^"]+?)"?\s*分享的二维码加入群聊')
_LEFT = re.compile(r'^(?:你将)?"?(?P<who>[^"]+)"?\s*(?:移出了群聊|退出了群聊)')
_MEDIA_TYPES = {3: SegmentType.IMAGE, 34: SegmentType.VOICE, 43: SegmentType.VIDEO, 47: SegmentType.FACE}
_MEDIA_NAMES = {
    "图片": SegmentType.IMAGE,
    "语音": SegmentType.VOICE,
    "视频": SegmentType.VIDEO,
    "动画表情": SegmentType.FACE,
    "表情": SegmentType.FACE,
    "文件": SegmentType.FILE,
}
_SYSTEM_NAMES = {"系统通知", "系统消息", "撤回消息", "10000"}
_PLACEHOLDER_SELF = "我"


def detect_layout(header: list[str]) -> str | None:
    cols = tuple(c.strip().lstrip("\ufeff") for c in header)
    for name, expected in LAYOUTS.items():
        if cols[: len(expected)] == expected:
            return name
    return None


@dataclass(frozen=True, slots=True)
class _Opts:
    group: str | None = None
    tz: str = CHINA_TZ
    self_id: str | None = None
    encoding: str | None = None


@dataclass(slots=True)
class _Row:
    """One CSV row in layout-neutral form."""

    group_id: str | None
    message_id: str | None
    user_id: str
    user_name: str | None
    text: str
    time: datetime
    kind: str  # text / media name / system
    media: SegmentType | None
    extra: dict[str, Any]


class WeChatCsvImporter:
    name = "wechat-csv"
    description = "WeChat CSV exports: WeChatMsg/MemoTrace, PyWxDump, wechat-exporter (iOS)"

    def __init__(self, options: _Opts | None = None) -> None:
        self.options = options or _Opts()
        self._tz: tzinfo = parse_tz(self.options.tz)

    def with_options(self, **options: str) -> WeChatCsvImporter:
        """``group`` (chat id), ``tz`` (default Asia/Shanghai), ``me`` (your wxid), ``encoding``."""
        check_options(self.name, options, {"group", "tz", "me", "encoding"})
        opts = self.options
        if "group" in options:
            if not options["group"].strip():
                raise ImporterError("option group: empty")
            opts = replace(opts, group=options["group"].strip())
        if "tz" in options:
            parse_tz(options["tz"])
            opts = replace(opts, tz=options["tz"])
        if "me" in options:
            opts = replace(opts, self_id=options["me"].strip() or None)
        if "encoding" in options:
            try:
                import codecs

                codecs.lookup(options["encoding"])
            except LookupError as exc:
                raise ImporterError(f"option encoding: unknown encoding {options['encoding']!r}") from exc
            opts = replace(opts, encoding=options["encoding"])
        return WeChatCsvImporter(opts)

    def sniff(self, path: Path, head: bytes) -> bool:
        enc = sniff_encoding(head)
        first = head.decode(enc, errors="ignore").lstrip("\ufeff").split("\n", 1)[0]
        try:
            header = next(csv.reader([first]))
        except (csv.Error, StopIteration):
            return False
        return detect_layout(header) is not None

    def read(self, stream: BinaryIO, *, source: str, known: KnownMembers | None = None) -> Iterator[Record]:
        head = stream.peek(65536)[:65536] if hasattr(stream, "peek") else b""
        encoding = self.options.encoding or sniff_encoding(head)
        text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")  # type: ignore[type-var]
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImporterError(f"wechat-csv: unreadable header: {exc}") from exc
        layout = detect_layout(header)
        if layout is None:
            raise ImporterError(
                "wechat-csv: unknown column layout "
                f"{','.join(header[:12])[:200]!r}; supported: {', '.join(LAYOUTS)} (see docs/importers.md)"
            )
        convert: Callable[[list[str], str], _Row] = getattr(self, "_" + layout.replace("-", "_"))
        default_group = self.options.group or source_stem(source).removesuffix("_utf8")
        occurrences = Occurrences()
        width = len(LAYOUTS[layout])
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield Rejected(start, f"CSV error: {exc}", None)
                continue
            if not row or all(not c.strip() for c in row):
                continue
            raw_line = ",".join(row)[:2000]
            if len(row) < width:
                yield Rejected(start, f"expected {width} columns ({layout}), got {len(row)}", raw_line)
                continue
            try:
                parsed = convert(row, default_group)
                yield from self._events(parsed, default_group, occurrences, layout)
            except (ValueError, KeyError) as exc:
                yield Rejected(start, reason_of(exc), raw_line)

    # -- layouts -------------------------------------------------------------------------------
    def _me(self, wxid: str) -> str:
        return self.options.self_id or wxid or "self"

    def _memotrace(self, row: list[str], group: str) -> _Row:
        local_id, _talker, typ, sub, is_sender, created, _status, content, str_time, remark, nick, sender = (
            row[:12]
        )
        t = int(typ) if typ.strip().lstrip("-").isdigit() else -1
        when = (
            parse_time(created, self._tz)
            if created.strip() not in ("", "0")
            else parse_time(str_time, self._tz)
        )
        kind = "system" if t in (10000, 10002) else ("text" if t == 1 else f"type{t}")
        user = sender.strip() or (self._me("") if is_sender.strip() == "1" else "")
        user = user or ("system" if kind == "system" else "")
        if not user:
            raise ValueError("no sender (Sender column empty)")
        return _Row(
            None,
            f"{int(when.timestamp())}-{local_id.strip()}",
            user,
            (remark or nick).strip() or None,
            content,
            when,
            kind,
            _MEDIA_TYPES.get(t),
            {"type": t, "subtype": sub.strip()},
        )

    def _memotrace_android(self, row: list[str], group: str) -> _Row:
        user, content, sent, _status, typ, is_send, msg_id = row[:7]
        when = parse_time(sent, self._tz)
        t = int(typ) if typ.strip().lstrip("-").isdigit() else -1
        kind = "system" if t in (10000, 10002) else ("text" if t == 1 else f"type{t}")
        who = user.strip() or (self._me("") if is_send.strip() == "1" else "")
        who = who or ("system" if kind == "system" else "")
        if not who:
            raise ValueError("no sender (用户名 empty)")
        return _Row(
            None, msg_id.strip() or None, who, None, content, when, kind, _MEDIA_TYPES.get(t), {"type": t}
        )

    def _pywxdump(self, row: list[str], group: str) -> _Row:
        _id, svr_id, type_name, is_sender, talker, room, msg, src, created = row[:9]
        when = parse_time(created, self._tz)
        user = talker.strip()
        if user == _PLACEHOLDER_SELF or is_sender.strip() == "1":
            user = self._me(user)
        tn = type_name.strip()
        kind = (
            "system"
            if tn in _SYSTEM_NAMES or user == "系统"
            else ("text" if tn == "文本" else tn or "unknown")
        )
        if kind == "system" and (not user or user in ("未知", "系统")):
            user = "system"
        if not user or user == "未知":
            raise ValueError("no sender (talker empty or 未知)")
        extra: dict[str, Any] = {"type_name": tn}
        if src.strip():
            extra["src"] = src.strip()
        return _Row(
            room.strip() or None,
            svr_id.strip() or None,
            user,
            None,
            msg,
            when,
            kind,
            _MEDIA_NAMES.get(tn),
            extra,
        )

    def _wechat_exporter(self, row: list[str], group: str) -> _Row:
        when_s, type_name, direction, uid, mmid, nick, disp, content = row[:8]
        when = parse_time(when_s, self._tz)
        tn = type_name.strip()
        kind = "system" if tn in _SYSTEM_NAMES else ("text" if tn == "文本" else tn or "unknown")
        user = uid.strip() or (self._me("") if direction.strip() == "发送" else "")
        user = user or ("system" if kind == "system" else "")
        if not user:
            raise ValueError("no sender (ID empty)")
        extra = {"type_name": tn, "wechat_id": mmid.strip() or None}
        return _Row(
            None,
            None,
            user,
            (disp or nick).strip() or None,
            content,
            when,
            kind,
            _MEDIA_NAMES.get(tn),
            {k: v for k, v in extra.items() if v},
        )

    # -- rows → events -------------------------------------------------------------------------
    def _events(self, row: _Row, default_group: str, occ: Occurrences, layout: str) -> Iterator[Event]:
        group_id = self.options.group or row.group_id or default_group
        text = row.text or ""
        mid = row.message_id or occ.tag(
            (group_id, row.time), f"{int(row.time.timestamp())}-{stable_id(row.user_id, text)}"
        )
        base: dict[str, Any] = {"platform": "wechat", "group_id": group_id, "time": row.time}
        raw = {"layout": layout, **row.extra}
        if row.kind == "system":
            for pattern, typ, subtype in (
                (_INVITE, EventType.JOIN, "invited"),
                (_SCAN, EventType.JOIN, "qrcode"),
                (_LEFT, EventType.LEAVE, "removed"),
            ):
                m = pattern.match(text.strip())
                if m:
                    names = [n for n in re.split(r"[、,，]\s*", m.group("who").strip('"')) if n.strip()]
                    inviter = m.groupdict().get("inviter")
                    for k, name in enumerate(names):
                        yield Event(
                            **base,
                            message_id=mid if k == 0 else f"{mid}:{k}",
                            user_id=f"name:{name.strip()}"[:128],
                            user_name=name.strip(),
                            type=typ,
                            subtype=subtype,
                            text=text,
                            raw={**raw, "inviter": inviter} if inviter else raw,
                        )
                    return
            yield Event(
                **base,
                message_id=mid,
                user_id=row.user_id,
                user_name=row.user_name,
                type=EventType.SYSTEM,
                text=text,
                raw=raw,
            )
            return
        segments = [Segment.text(text)] if row.kind == "text" and text else []
        if row.media is not None:
            segments.append(Segment(type=row.media, data={"file": row.extra.get("src")}))
        yield Event(
            **base,
            message_id=mid,
            user_id=row.user_id,
            user_name=row.user_name,
            type=EventType.COMMAND if text.startswith("/") and row.kind == "text" else EventType.MESSAGE,
            text=text,
            segments=segments,
            subtype=None if row.kind == "text" else row.kind[:64],
            raw=raw,
        )
